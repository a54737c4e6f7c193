/**
 * The ClusterStore (work in progress: the implementation lands in the next commits).
 */
import { CanaryError } from '../core/errors';
import type { ClusterStore, ClusterStoreOptions } from './api';

export async function createClusterStore(_opts: ClusterStoreOptions): Promise<ClusterStore> {
  throw new CanaryError('internal', 'not-implemented', 'The cluster store is not implemented yet.');
}
