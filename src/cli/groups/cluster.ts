/**
 * The commands that reach a cluster or run the sandbox (status, sandbox, traffic, rollout),
 * plus the cluster half of `--wait`. Bundled as dist/cli-cluster.js, loaded on demand.
 */
import type { CliCommand } from '../command';
import { statusCommand } from '../commands/status';
import { sandboxCommand } from '../commands/sandbox';
import { trafficCommand } from '../commands/traffic';
import { rolloutCommand } from '../commands/rollout';

export { followOn, liveLine } from '../wait-follow';

export const GROUP_COMMANDS: CliCommand[] = [statusCommand, sandboxCommand, trafficCommand, rolloutCommand];
