/** The cluster half of `--wait` (src/cli/wait.ts): follows a published change until it is live. */
import { describeLive, shortSha } from '../cluster/derive';
import type { PublishResult } from '../core/publish';
import type { ChangeContext } from './change';
import { cliLogger, openStore } from './commands/status';

export async function followChange(result: PublishResult, ctx: ChangeContext, timeoutMs: number): Promise<number> {
  const { values, io } = ctx;
  const store = await openStore(values, io, ctx.root, cliLogger(io));
  try {
    const final = await store.follow({
      env: ctx.env,
      model: ctx.model,
      sha: result.sha,
      percent: result.after.desiredPercent,
      timeoutMs,
      signal: io.signal,
      onStep: (s) => io.stdout(`  ✓ ${s.message}\n`),
    });
    const app = final.application;
    const sync = app ? `, ${app.syncStatus} at ${shortSha(app.revision)}` : '';
    io.stdout(`${ctx.model} in ${ctx.env}: ${describeLive(final)}${sync}\n`);
    return 0;
  } finally {
    store.dispose();
  }
}
