/** Every CLI sub-command, in the order --help lists them. Add new ones here. */
import type { CliCommand } from '../command';
import { setCommand } from './set';
import { promoteCommand } from './promote';
import { rollbackCommand } from './rollback';
import { configCommand } from './config';
import { trafficCommand } from './traffic';
import { rolloutCommand } from './rollout';
import { sandboxCommand } from './sandbox';
import { statusCommand } from './status';
import { CHANGE_EXTENSIONS } from '../change';
import { waitExtension } from '../wait';

// --wait on set / promote / rollback (follows the change in the cluster).
if (!CHANGE_EXTENSIONS.includes(waitExtension)) CHANGE_EXTENSIONS.push(waitExtension);

export const COMMANDS: CliCommand[] = [
  setCommand,
  promoteCommand,
  rollbackCommand,
  configCommand,
  statusCommand,
  sandboxCommand,
  trafficCommand,
  rolloutCommand,
];
