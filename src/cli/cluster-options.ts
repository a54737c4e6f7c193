/**
 * The --kubeconfig / --context options shared by the commands that reach a cluster (and by
 * `--wait` on set / promote / rollback), apart from the cluster code so those parse without it.
 */
import type { OptionSpec } from './args';

export const CLUSTER_OPTIONS: OptionSpec = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
};

export const CLUSTER_USAGE = `      --kubeconfig <f>   kubeconfig file(s) (default: $KUBECONFIG, ~/.kube/config, in-cluster)
      --context <c>      kubeconfig context (default: its current-context)`;
