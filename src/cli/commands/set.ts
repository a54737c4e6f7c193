import { parsePercent } from '../../core/traffic';
import { makeChangeCommand } from '../change';
import { SUMMARIES } from './summaries';

export const setCommand = makeChangeCommand({
  name: 'set',
  summary: SUMMARIES.set,
  synopsis: 'set <model> <percent> --env <env> [--gitops <dir>] [--no-push] [--message <text>]',
  description: `Sets canary.trafficPercent to <percent> (a whole number 0-100) in
model-deployments/<env>/<model>/config.yaml, creating the canary block when missing.
Pulls first, commits only that file, pushes to the branch's upstream.`,
  example: 'kserve-canary set jukebox 20 --env test',
  extra: ['percent'],
  action: ([percent]) => ({ kind: 'set', percent: parsePercent(percent ?? '') }),
});
