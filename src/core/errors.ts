/**
 * One error type for everything the product refuses or fails at.
 * `message` says what happened, `hint` says what to do; both are shown to the user
 * as they are (CLI: one line each on stderr; UI: the notification text).
 * Never put a token, key or password in either.
 */
export type ErrorKind =
  /** Bad input from the user: a percent of `abc`, a name with `../` (CLI exit 2). */
  | 'invalid-input'
  /** A config.yaml that does not parse or has the wrong shape. */
  | 'invalid-config'
  /** Something the user asked for does not exist (model, environment, folder). */
  | 'not-found'
  /** git refused or failed (conflict, auth, no upstream, lock, timeout...). */
  | 'git'
  /** The cluster could not be reached or refused us. */
  | 'cluster'
  /** A wait ran out of time. */
  | 'timeout'
  | 'internal';

export class CanaryError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  /** A stable machine-readable code, e.g. `push-rejected`, `conflict`, `parse-error`. */
  readonly code: string;

  constructor(kind: ErrorKind, code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CanaryError';
    this.kind = kind;
    this.code = code;
    this.hint = hint;
  }
}

/**
 * Also a CanaryError made by another bundle's copy of this class (the extension's dist/ui.js
 * receives them from dist/backend.js, where `instanceof` does not hold).
 */
export function isCanaryError(e: unknown): e is CanaryError {
  if (e instanceof CanaryError) return true;
  const x = e as Partial<CanaryError> | undefined;
  return e instanceof Error && e.name === 'CanaryError' && typeof x?.code === 'string' && typeof x.kind === 'string';
}

/** Exit code for the CLI: 2 for bad input, 1 for every other failure. */
export function exitCodeFor(e: unknown): number {
  return isCanaryError(e) && e.kind === 'invalid-input' ? 2 : 1;
}
