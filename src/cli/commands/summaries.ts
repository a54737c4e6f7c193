/**
 * One-line summaries of the CLI sub-commands, for the top-level --help. Kept apart from the
 * commands themselves so the dispatcher (dist/cli.js) lists every command without loading any.
 */
export const SUMMARIES = {
  set: 'Set the canary traffic percent of a model in git and push it',
  promote: 'Promote the latest revision: remove the canary block (100% to latest)',
  rollback: 'Roll back: canary traffic 0% (all traffic to the previous revision)',
  config: 'Show the desired canary state in git (all models, or one)',
  status: 'Show what each model serves in the cluster and whether it matches git',
  sandbox: 'Run a local fake cluster (KServe + Argo CD) with a gitops repo, for trying things out',
  traffic: 'Send test inference traffic to a model and count the answers',
  rollout: 'Progressive rollout: step the canary up in commits, gated by metrics',
  completion: 'Print a shell completion script (bash or zsh)',
} as const;

export type CommandName = keyof typeof SUMMARIES;
