/**
 * "Start sandbox": runs dist/sandbox.js as a detached child (see sandbox-main.ts), waits for
 * its ready file, then points the view at it (its kubeconfig; its gitops clone when the
 * workspace has no checkout) and offers to open the clone. A running sandbox is found again
 * after a window reload through globalState. "Stop sandbox" ends it (SIGTERM: it saves its
 * state) and points the view back at the default kubeconfig.
 */
// `import =` compiles to a plain require: `import * as` would make esbuild copy every property
// of the vscode API into a namespace object per module, which costs milliseconds at activation.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('vscode');
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CanaryError } from '../core/errors';
import type { ConnectionOverride, Controller } from './controller';
import type { Log } from './log';
import { showInfo, withNotificationProgress } from './notify';
import { processAlive } from './pid';

const STATE_KEY = 'kserveCanary.sandbox';

export interface SandboxInfo {
  server: string;
  port: number;
  kubeconfig: string;
  context: string;
  gitopsClone: string;
  gitopsRemote: string;
  dir: string;
  pid: number;
}

function readInfo(file: string): SandboxInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as SandboxInfo;
    return typeof v.kubeconfig === 'string' && typeof v.pid === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The sandbox this extension started earlier, if it still runs. */
export function runningSandbox(ctx: vscode.ExtensionContext): SandboxInfo | undefined {
  const info = ctx.globalState.get<SandboxInfo>(STATE_KEY);
  return info && processAlive(info.pid) && existsSync(info.kubeconfig) ? info : undefined;
}

export function overrideFor(info: SandboxInfo): ConnectionOverride {
  return { kubeconfig: info.kubeconfig, context: info.context, gitopsRoot: info.gitopsClone, pid: info.pid };
}

/** Starts (or finds) the sandbox and points the view at it; returns its ready-file content. */
export async function startSandbox(ctx: vscode.ExtensionContext, ctl: Controller, log: Log): Promise<SandboxInfo> {
  let info = runningSandbox(ctx);
  if (!info) {
    const script = path.join(ctx.extensionPath, 'dist', 'sandbox.js');
    if (!existsSync(script))
      throw new CanaryError(
        'internal',
        'no-sandbox-bundle',
        `The sandbox is missing from this installation (${script}).`,
        'Reinstall the extension, or run `npm run build` in a development checkout.',
      );
    const dir = path.join(ctx.globalStorageUri.fsPath, 'sandbox');
    mkdirSync(dir, { recursive: true });
    const readyFile = path.join(dir, 'ready.json');
    rmSync(readyFile, { force: true });
    const out = openSync(path.join(dir, 'sandbox.log'), 'a');
    const child = spawn(process.execPath, [script, '--dir', dir, '--ready-file', readyFile, '--owner-pid', String(process.ppid)], {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    closeSync(out);
    let exited: number | null | undefined;
    child.on('exit', (code) => {
      exited = code;
    });
    child.unref();
    log.info(`sandbox: starting (pid ${child.pid}, data in ${dir})`);
    info = await withNotificationProgress('Starting the KServe Canary sandbox…', false, async () => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const got = readInfo(readyFile);
        if (got) return got;
        if (exited !== undefined)
          throw new CanaryError('internal', 'sandbox-exited', `The sandbox stopped while starting (exit ${exited}).`, `See ${path.join(dir, 'sandbox.log')}.`);
        if (Date.now() > deadline)
          throw new CanaryError('timeout', 'sandbox-timeout', 'The sandbox did not start within 60 s.', `See ${path.join(dir, 'sandbox.log')}.`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    await ctx.globalState.update(STATE_KEY, info);
  }
  log.info(`sandbox: serving at ${info.server}, gitops clone ${info.gitopsClone}`);
  await ctl.setOverride(overrideFor(info));
  const open = 'Open its gitops clone';
  void showInfo(`The sandbox runs at ${info.server}. The view now shows it.`, ...(ctl.root === info.gitopsClone ? [] : [open])).then((choice) => {
    if (choice === open) void vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(info.gitopsClone));
  });
  return info;
}

/** How long Stop sandbox waits for the process to save its state and exit. */
const STOP_WAIT_MS = 15_000;

/** Stops the sandbox this extension started; false when none was running. */
export async function stopSandbox(ctx: vscode.ExtensionContext, ctl: Controller, log: Log): Promise<boolean> {
  const info = runningSandbox(ctx);
  if (!info) {
    await ctx.globalState.update(STATE_KEY, undefined);
    void showInfo('No sandbox started from this window is running.');
    return false;
  }
  log.info(`sandbox: stopping (pid ${info.pid})`);
  try {
    process.kill(info.pid, 'SIGTERM');
  } catch (e) {
    // Gone between the check and the signal: nothing left to stop.
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
  await withNotificationProgress('Stopping the KServe Canary sandbox…', false, async () => {
    const deadline = Date.now() + STOP_WAIT_MS;
    while (processAlive(info.pid)) {
      if (Date.now() > deadline)
        throw new CanaryError(
          'timeout',
          'sandbox-stop-timeout',
          `The sandbox (pid ${info.pid}) did not stop within ${STOP_WAIT_MS / 1000} s.`,
          `See ${path.join(info.dir, 'sandbox.log')}; stop the process yourself if it hangs.`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  await ctx.globalState.update(STATE_KEY, undefined);
  await ctl.setOverride(undefined);
  log.info('sandbox: stopped; back to the default kubeconfig');
  void showInfo('The sandbox has stopped (its state is saved for the next start). The view is back on your kubeconfig.');
  return true;
}
