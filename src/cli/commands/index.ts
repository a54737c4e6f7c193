/**
 * Every CLI sub-command, in the order --help lists them. Add new ones here (and to a group
 * in src/cli/groups/). The registry holds only names and summaries; a command's module is
 * loaded when it runs: the build bundles each group as its own file (dist/cli-git.js,
 * dist/cli-cluster.js, see scripts/lib/cli-build.mjs), so `set` never parses the cluster code.
 */
import type { CliCommand } from '../command';
import { SUMMARIES, type CommandName } from './summaries';

export interface CommandEntry {
  name: CommandName;
  summary: string;
  load(): Promise<CliCommand>;
}

type Group = () => Promise<{ GROUP_COMMANDS: CliCommand[] }>;

const gitGroup: Group = () => import('../groups/git');
const clusterGroup: Group = () => import('../groups/cluster');

function entry(name: CommandName, group: Group): CommandEntry {
  return {
    name,
    summary: SUMMARIES[name],
    async load() {
      const cmd = (await group()).GROUP_COMMANDS.find((c) => c.name === name);
      if (!cmd) throw new Error(`internal: command ${name} is missing from its group`);
      return cmd;
    },
  };
}

export const COMMANDS: CommandEntry[] = [
  entry('set', gitGroup),
  entry('promote', gitGroup),
  entry('rollback', gitGroup),
  entry('config', gitGroup),
  entry('status', clusterGroup),
  entry('sandbox', clusterGroup),
  entry('traffic', clusterGroup),
  entry('rollout', clusterGroup),
  entry('completion', gitGroup),
];
