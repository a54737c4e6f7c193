/**
 * How set / promote / rollback print their outcome as text: one summary line (what changed and
 * where it went), the git steps, the proposal's page for a pull request, the follow's end for
 * --wait; and a --dry-run's diff and commit message. Nothing here decides anything.
 */
import type { ChangeOutcome, Published } from '../app/change';
import type { ChangePreview } from '../app/preview';
import { pct } from '../core/format';
import type { CliIO } from './command';

const percent = (n: number | undefined) => pct(n, 'no canary (100% latest)');

/** One line for the terminal: what changed and where it went. */
export function summarize(r: Published, env: string, model: string): string {
  const where = `${env}/${model}`;
  if (!r.changed) {
    return `${where}: already ${percent(r.after.desiredPercent)}; ${r.pushed ? `pushed earlier local commit(s) to ${r.remote}/${r.branch}` : 'nothing to commit'}`;
  }
  const transition = `${percent(r.before.desiredPercent)} -> ${percent(r.after.desiredPercent)}`;
  const sha = r.sha.slice(0, 10);
  const mine = `${r.branch || 'your detached HEAD'} untouched`;
  const sink = r.proposal
    ? r.pushed
      ? `committed ${sha} on the new branch ${r.proposal.branch} and pushed it to ${r.remote ?? 'the remote'} for a pull request (${mine})`
      : `already proposed as ${sha} on ${r.proposal.branch} (${r.remote ?? 'the remote'}), nothing new pushed (${mine})`
    : r.pushed
      ? `committed ${sha} and pushed to ${r.remote}/${r.branch}`
      : `committed ${sha} on ${r.branch} (not pushed)`;
  return `${where}: canary ${transition}, ${sink}`;
}

/** The summary, the git steps and a proposal's page: printed right after publishing, before any follow. */
export function printPublished(io: CliIO, r: Published, env: string, model: string): void {
  io.stdout(`${summarize(r, env, model)}\n`);
  for (const s of r.steps) io.stdout(`  - ${s}\n`);
  if (r.proposal) {
    if (r.proposal.url) io.stdout(`Open the pull request: ${r.proposal.url}\n`);
    else io.stdout(`${r.proposal.hint ?? `Open a pull request for ${r.proposal.branch}.`}\n`);
  }
}

/** What the follow ended with, when it did not go live. */
export function printOutcome(io: CliIO, o: ChangeOutcome, env: string, model: string): void {
  const r = o.published;
  if (o.status === 'stopped') io.stderr(`Stopped following ${model} in ${env}: ${r.sha.slice(0, 7)} is pushed and Argo CD will still apply it.\n`);
}

export function printPreview(io: CliIO, p: ChangePreview, env: string, model: string): void {
  const how = p.policy === 'push' ? 'commit and push' : p.policy === 'commit' ? 'commit (not pushed)' : 'commit on a new branch and propose a pull request';
  if (!p.changed) {
    io.stdout(`${env}/${model}: dry run: ${p.rel} already says ${percent(p.after.desiredPercent)}; nothing would be committed.\n`);
    return;
  }
  io.stdout(`${env}/${model}: dry run, nothing changed: canary ${percent(p.before.desiredPercent)} -> ${percent(p.after.desiredPercent)} would ${how}\n`);
  io.stdout(p.diff);
  io.stdout(
    `\nCommit message:\n${p.message
      .split('\n')
      .map((l) => `  ${l}`.trimEnd())
      .join('\n')}\n`,
  );
}

/** An argument as the shell reads it back. */
function shellWord(a: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** The command the user ran, with --pull-request instead of pushing (the protected-branch hint). */
export function retryCommand(command: string, argv: string[]): string {
  const kept = argv.filter((a) => a !== '--no-push' && a !== '--pull-request');
  return ['kserve-canary', command, ...kept, '--pull-request'].map(shellWord).join(' ');
}
