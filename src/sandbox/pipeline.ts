/**
 * A stand-in for the CI pipeline that edits `config.yaml` from its own clone (like the
 * workshop's yq step): it sets `version`, `image_repository` and/or `image_namespace` in place,
 * leaves every other line as it is, commits as "ci-pipeline" and pushes to main. Useful to
 * produce concurrent commits to the same file and new model versions (new revisions).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { git } from './git';

export interface PipelineChange {
  version?: string;
  image_repository?: string;
  image_namespace?: string;
}

export async function pipelinePush(dir: string, remote: string, env: string, model: string, change: PipelineChange): Promise<string> {
  const clone = path.join(dir, 'ci-clone');
  if (!existsSync(clone)) {
    await git(dir, ['clone', '--quiet', remote, clone]);
    await git(clone, ['config', 'user.name', 'ci-pipeline']);
    await git(clone, ['config', 'user.email', 'ci-pipeline@example.invalid']);
  }
  await git(clone, ['pull', '--quiet', '--rebase', 'origin', 'main']);
  const rel = path.posix.join('model-deployments', env, model, 'config.yaml');
  const file = path.join(clone, rel);
  if (!existsSync(file)) throw new Error(`${rel} does not exist in the gitops repository`);
  let text = readFileSync(file, 'utf8');
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) continue;
    const re = new RegExp(`^${key}:.*$`, 'm');
    text = re.test(text) ? text.replace(re, `${key}: ${value}`) : `${text.replace(/\n?$/, '\n')}${key}: ${value}\n`;
  }
  writeFileSync(file, text);
  await git(clone, ['add', '--', rel]);
  const summary = Object.entries(change)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  await git(clone, ['commit', '--quiet', '--allow-empty', '-m', `ci: ${model} ${env} ${summary}`]);
  await git(clone, ['push', '--quiet', 'origin', 'HEAD:main']);
  return (await git(clone, ['rev-parse', 'HEAD'])).stdout.trim();
}
