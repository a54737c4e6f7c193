#!/usr/bin/env node
// Builds the real kube-apiserver (tools/kube-apiserver: k8s.io/kubernetes at the pinned version,
// etcd embedded) once per machine into a cache keyed by the module's content, and prints the
// binary's path (the last line of stdout). Skips the build when the binary is already there.
//   node scripts/build-apiserver.mjs            build if needed, print the path
//   node scripts/build-apiserver.mjs --path     print the path only (no build; exit 1 when absent)
// Cache: $KSC_KUBE_APISERVER_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/kserve-canary/kube-apiserver,
// then <sha256 of go.mod + go.sum + main.go>/kube-apiserver. Go's own module and build caches stay
// at their defaults (machine-wide), so every clone on the machine reuses them.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const moduleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'tools', 'kube-apiserver');
const sources = ['go.mod', 'go.sum', 'main.go'];

export function apiserverBinaryPath() {
  const hash = createHash('sha256');
  for (const f of sources) {
    hash.update(`${f}\0`);
    hash.update(readFileSync(join(moduleDir, f)));
  }
  const root = process.env.KSC_KUBE_APISERVER_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kserve-canary', 'kube-apiserver');
  return join(root, hash.digest('hex'), 'kube-apiserver');
}

/** The k8s.io/kubernetes version go.mod pins, e.g. "v1.36.3". */
export function pinnedVersion() {
  const m = /^\s*k8s\.io\/kubernetes\s+(v\d+\.\d+\.\d+)\s*$/m.exec(readFileSync(join(moduleDir, 'go.mod'), 'utf8'));
  if (!m) throw new Error(`tools/kube-apiserver/go.mod does not require k8s.io/kubernetes vX.Y.Z`);
  return m[1];
}

function fail(message) {
  process.stderr.write(`build-apiserver: ${message}\n`);
  process.exit(1);
}

function main() {
  const out = apiserverBinaryPath();
  if (existsSync(out)) {
    process.stdout.write(`${out}\n`);
    return;
  }
  if (process.argv.includes('--path')) fail(`not built yet: ${out} (run node scripts/build-apiserver.mjs)`);
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    fail(
      "Go is not installed or not on PATH: install Go 1.26 (https://go.dev/dl/, or your package manager's golang-1.26) and make the Go module proxy reachable",
    );
  }
  const version = pinnedVersion();
  const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(version);
  const pkg = 'k8s.io/component-base/version';
  const ldflags = [
    '-s',
    '-w',
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
  ].join(' ');
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  process.stderr.write(`build-apiserver: building kube-apiserver ${version} (${go.stdout.trim()}) into ${out}; a cold build takes many minutes\n`);
  const started = Date.now();
  const build = spawnSync('go', ['build', '-trimpath', '-mod=readonly', '-ldflags', ldflags, '-o', tmp, '.'], {
    cwd: moduleDir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  if (build.error || build.status !== 0) {
    rmSync(tmp, { force: true });
    fail(`go build failed in ${moduleDir} (exit ${build.status ?? build.error?.message})`);
  }
  renameSync(tmp, out);
  const mb = (statSync(out).size / 1e6).toFixed(1);
  process.stderr.write(`build-apiserver: built in ${((Date.now() - started) / 1000).toFixed(0)} s, ${mb} MB\n`);
  process.stdout.write(`${out}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
