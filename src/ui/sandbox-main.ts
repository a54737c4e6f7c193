/**
 * dist/sandbox.js: runs the sandbox (src/sandbox) as its own process for the extension's
 * "Start sandbox" command, so it survives the window reload that opening its gitops clone
 * causes, and never slows the extension host. No vscode here.
 *
 *   node dist/sandbox.js --dir <dir> --ready-file <file> [--port <n>] [--owner-pid <pid>]
 *
 * Writes the ready file (JSON: server, port, kubeconfig, context, gitopsClone, gitopsRemote,
 * dir, pid) once serving; stops (persisting its state) on SIGTERM/SIGINT, or when the owner
 * process (the workbench server) is gone.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { startSandbox } from '../sandbox';
import { processAlive } from './pid';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const dir = arg('--dir');
  const readyFile = arg('--ready-file');
  const owner = Number(arg('--owner-pid') ?? 0);
  if (!dir || !readyFile) {
    process.stderr.write('usage: sandbox.js --dir <dir> --ready-file <file> [--owner-pid <pid>]\n');
    process.exit(2);
  }
  const sb = await startSandbox({ dir, port: Number(arg('--port') ?? 0) });
  const info = {
    server: sb.server,
    port: sb.port,
    kubeconfig: sb.kubeconfigPath,
    context: sb.context,
    gitopsClone: sb.gitopsClone,
    gitopsRemote: sb.gitopsRemote,
    tokenFile: sb.tokenFile,
    dir: sb.dir,
    pid: process.pid,
  };
  writeFileSync(`${readyFile}.tmp`, JSON.stringify(info, null, 2) + '\n');
  renameSync(`${readyFile}.tmp`, readyFile);
  process.stdout.write(`sandbox serving at ${sb.server} (pid ${process.pid})\n`);
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`sandbox stopping: ${why}\n`);
    rmSync(readyFile, { force: true });
    await sb.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  if (owner > 0)
    setInterval(() => {
      if (!processAlive(owner)) void stop(`owner process ${owner} is gone`);
    }, 5000).unref();
}

main().catch((e: unknown) => {
  process.stderr.write(`sandbox failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
