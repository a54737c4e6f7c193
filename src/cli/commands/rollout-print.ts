/**
 * How `rollout --dry-run` prints as text: how the engine would go on, then the next step's
 * diff of config.yaml and its commit message (or that there is nothing left to commit), and in
 * pull-request mode the branch each remaining step would be proposed on.
 */
import type { RolloutPreview } from '../../app/rollout';
import type { CliIO } from '../command';

export function printRolloutPreview(io: CliIO, p: RolloutPreview, env: string, model: string): void {
  io.stdout(`${model} in ${env}: dry run, nothing changed. ${p.why}\n`);
  const next = p.next;
  if (!next) return;
  if (!next.preview.changed) {
    io.stdout(`Step ${next.step}/${next.of}: ${next.preview.rel} already holds it; the run would follow it and go on.\n`);
  } else {
    io.stdout(`Step ${next.step}/${next.of} would commit:\n`);
    io.stdout(next.preview.diff);
  }
  io.stdout(
    `\nCommit message:\n${next.preview.message
      .split('\n')
      .map((l) => `  ${l}`.trimEnd())
      .join('\n')}\n`,
  );
  if (!p.proposals.length) return;
  const base = p.proposals[0]!.base;
  io.stdout(`\nIn pull requests into ${base}, one at a time (each made from ${base} once the one before is merged, then followed until live):\n`);
  for (const s of p.proposals) {
    const what = s.action === 'promote' ? 'promote (100% latest)' : s.action === 'rollback' ? 'roll back (0%)' : `${s.percent}%`;
    io.stdout(`  step ${s.step}/${s.of}: ${what} → ${s.branch}\n`);
  }
}
