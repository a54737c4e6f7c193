/**
 * The commands that work on the gitops checkout alone (set, promote, rollback, config), and
 * `completion` (which loads the cluster group too, to list its options).
 * Bundled as dist/cli-git.js and loaded by the dispatcher (src/cli/commands/index.ts) only
 * when one of them runs, so they start without parsing the cluster and sandbox code.
 */
import type { CliCommand } from '../command';
import { setCommand } from '../commands/set';
import { promoteCommand } from '../commands/promote';
import { rollbackCommand } from '../commands/rollback';
import { configCommand } from '../commands/config';
import { completionCommand } from '../commands/completion';
import { CHANGE_EXTENSIONS } from '../change';
import { waitExtension } from '../wait';

// --wait on set / promote / rollback (follows the change in the cluster).
if (!CHANGE_EXTENSIONS.includes(waitExtension)) CHANGE_EXTENSIONS.push(waitExtension);

export const GROUP_COMMANDS: CliCommand[] = [setCommand, promoteCommand, rollbackCommand, configCommand, completionCommand];
