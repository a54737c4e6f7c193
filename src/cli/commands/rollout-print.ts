/**
 * How `rollout --dry-run` prints as text: how the engine would go on, then the next step's
 * diff of config.yaml and its commit message (or that there is nothing left to commit).
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
  io.stdout(`\nCommit message:\n${next.preview.message.split('\n').map((l) => `  ${l}`.trimEnd()).join('\n')}\n`);
}
