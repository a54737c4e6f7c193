/**
 * `--dry-run`: what a change would do, computed from the checkout's config.yaml as it is —
 * the unified diff and the commit message — without running git or writing a byte (no fetch,
 * no edit, no commit, no push). The file is read through the same checks as a real publish
 * (names, links into .git, size, YAML shape), so a dry run refuses what the real run refuses.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { applyCanaryAction, parseModelConfig, readModelConfig } from '../core/config';
import { modelConfigPath, DEFAULT_DEPLOYMENTS_DIR } from '../core/layout';
import { renderCommitMessage } from '../core/traffic';
import type { CanaryAction, ModelConfig } from '../core/types';
import type { ChangeRequest } from './change';
import { unifiedDiff } from './diff';
import type { PublishPolicy } from './policy';

/** A change to preview: what changeCanary() takes, without the run's signal, log and git environment. */
export type PreviewRequest = Omit<ChangeRequest, 'signal' | 'log' | 'processEnv'>;

export interface ChangePreview {
  policy: PublishPolicy;
  /** Absolute path of the config.yaml. */
  file: string;
  /** Its path relative to the checkout, as the diff names it. */
  rel: string;
  /** false: the file already says so; a real run would commit nothing. */
  changed: boolean;
  /** Unified diff of the file ('' when unchanged). */
  diff: string;
  message: string;
  before: ModelConfig;
  after: ModelConfig;
}

/** The commit message a publish makes: --message, else the template (or the default). */
export function commitMessage(o: { message?: string; messageTemplate?: string; action: CanaryAction; env: string; model: string }): string {
  return o.message?.trim() ? o.message.trim() : renderCommitMessage(o.messageTemplate, o.action, { model: o.model, env: o.env });
}

/** The diff and message of a change, from the working tree's config.yaml; nothing is written. */
export async function previewChange(req: PreviewRequest, messageOverride?: string): Promise<ChangePreview> {
  const deploymentsDir = req.deploymentsDir ?? DEFAULT_DEPLOYMENTS_DIR;
  const before = await readModelConfig(req.root, req.env, req.model, { deploymentsDir });
  const file = modelConfigPath(req.root, req.env, req.model, deploymentsDir);
  const text = await readFile(file, 'utf8');
  const edit = applyCanaryAction(text, req.action, file);
  const after = edit.changed ? parseModelConfig(edit.text, file, req.env, req.model) : before;
  const rel = path.relative(req.root, file).split(path.sep).join('/');
  return {
    policy: req.policy,
    file,
    rel,
    changed: edit.changed,
    diff: edit.changed ? unifiedDiff(text, edit.text, rel) : '',
    message: messageOverride ?? commitMessage(req),
    before,
    after,
  };
}
