/** Every CLI sub-command, in the order --help lists them. Add new ones here. */
import type { CliCommand } from '../command';
import { setCommand } from './set';
import { promoteCommand } from './promote';
import { rollbackCommand } from './rollback';
import { configCommand } from './config';
import { sandboxCommand } from './sandbox';

export const COMMANDS: CliCommand[] = [
  setCommand,
  promoteCommand,
  rollbackCommand,
  configCommand,
  sandboxCommand,
];
