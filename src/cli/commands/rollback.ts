import { makeChangeCommand } from '../change';
import { SUMMARIES } from './summaries';

export const rollbackCommand = makeChangeCommand({
  name: 'rollback',
  summary: SUMMARIES.rollback,
  synopsis: 'rollback <model> --env <env> [--gitops <dir>] [--no-push] [--message <text>]',
  description: `Sets canary.trafficPercent to 0 in model-deployments/<env>/<model>/config.yaml:
all traffic goes back to the previously rolled-out revision.
Pulls first, commits only that file, pushes to the branch's upstream.`,
  example: 'kserve-canary rollback jukebox --env test',
  extra: [],
  action: () => ({ kind: 'rollback' }),
});
