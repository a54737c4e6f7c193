import { CanaryError } from './errors';

/** RFC 1123 label, as Kubernetes uses for namespaces and most names. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDnsLabel(name: string): boolean {
  return name.length > 0 && name.length <= 63 && DNS1123_LABEL.test(name);
}

/**
 * Refuses any environment or model name that is not a DNS-1123 label, before it is
 * used to build a path, a git ref, a namespace or a command argument.
 */
export function validateName(what: 'environment' | 'model' | 'user', name: string): string {
  if (typeof name !== 'string' || !isDnsLabel(name)) {
    const shown = JSON.stringify(String(name)).slice(0, 80);
    throw new CanaryError(
      'invalid-input',
      'invalid-name',
      `Invalid ${what} name ${shown}: it must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters).`,
      `Use the ${what} folder's name as it appears under model-deployments/, e.g. "test" or "jukebox".`,
    );
  }
  return name;
}
