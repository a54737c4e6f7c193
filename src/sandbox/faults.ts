/** Fault injection switches, read by the API server on every request. */
export interface FaultState {
  /** Epoch ms until which every request is answered 500. */
  failUntil: number;
  /** Delay added before answering each request. */
  delayMs: number;
  /** New watches send nothing at all (connection kept open). */
  silentWatches: boolean;
}

export function newFaultState(): FaultState {
  return { failUntil: 0, delayMs: 0, silentWatches: false };
}

/**
 * The sandbox user's rights: namespaces it may not touch (403), namespaces it may only read
 * (the `view` role: get, list, watch; writes 403), and whether cluster-wide lists are allowed.
 */
export interface AccessList {
  forbiddenNamespaces: Set<string>;
  /** The workshop binds `view` in `<user>-toolings`: no patch of an Application there. */
  viewOnlyNamespaces?: Set<string>;
  clusterWide: boolean;
}
