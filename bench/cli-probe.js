'use strict';
// Preloaded (node --require) into separate probe runs of the CLI by bench/publish.bench.ts, for the
// breakdown of where `kserve-canary set` spends its time: when the first user code runs (node's
// start), each git child (spawned, exited) and the exit, in ms since the process began
// (performance.now()). Appends one JSON line to $KSC_PROBE_OUT at exit. Not shipped, never in
// the timed runs.
const { appendFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');
const { ChildProcess } = require('node:child_process');

const boot = performance.now();
const git = [];
const spawn = ChildProcess.prototype.spawn;
ChildProcess.prototype.spawn = function (options) {
  const at = performance.now();
  const result = spawn.apply(this, arguments);
  const args = (options.args ?? []).slice(1);
  // The subcommand: the first argument that is not a `-c name=value` pair.
  const sub = args.find((a, i) => a !== '-c' && args[i - 1] !== '-c') ?? '?';
  this.once('exit', () => git.push([path(options.file) === 'git' ? sub : path(options.file), at, performance.now()]));
  return result;
};

function path(file) {
  return String(file).split(/[\\/]/).pop();
}

process.once('exit', () => {
  if (process.env.KSC_PROBE_OUT) appendFileSync(process.env.KSC_PROBE_OUT, `${JSON.stringify({ boot, git, end: performance.now() })}\n`);
});
