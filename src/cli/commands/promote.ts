import { makeChangeCommand } from '../change';
import { SUMMARIES } from './summaries';

export const promoteCommand = makeChangeCommand({
  name: 'promote',
  summary: SUMMARIES.promote,
  synopsis: 'promote <model> --env <env> [--gitops <dir>] [--no-push] [--message <text>]',
  description: `Removes the canary block from model-deployments/<env>/<model>/config.yaml, so the
chart renders no canaryTrafficPercent and 100% of the traffic goes to the latest revision.
Pulls first, commits only that file, pushes to the branch's upstream.`,
  example: 'kserve-canary promote jukebox --env test',
  extra: [],
  action: () => ({ kind: 'promote' }),
});
