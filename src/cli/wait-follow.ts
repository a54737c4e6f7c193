/**
 * The cluster half of `--wait` (src/cli/wait.ts), bundled with the cluster commands: the store
 * the change use case follows on, and the line that ends the follow.
 */
import { describeLive } from '../cluster/derive';
import type { ServiceState } from '../cluster/types';
import { shortSha } from '../core/format';
import type { ChangeContext } from './change';
import { cliLogger, openStore } from './cluster';

export async function followOn(ctx: ChangeContext): Promise<{ store: Awaited<ReturnType<typeof openStore>>; dispose: () => void }> {
  const store = await openStore(ctx.values, ctx.io, ctx.root, cliLogger(ctx.io));
  return { store, dispose: () => store.dispose() };
}

/** `jukebox in test: prev 50% · latest 50%, Synced at 1a2b3c4`. */
export function liveLine(ctx: Pick<ChangeContext, 'env' | 'model'>, final: ServiceState): string {
  const app = final.application;
  return `${ctx.model} in ${ctx.env}: ${describeLive(final)}${app ? `, ${app.syncStatus} at ${shortSha(app.revision)}` : ''}`;
}
