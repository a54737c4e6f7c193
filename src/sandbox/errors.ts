/** API errors rendered as metav1.Status objects, with the real server's reasons and wording. */
import type { ResourceType } from './resources';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] },
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    const s: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

export function qualified(t: ResourceType): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

export function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, group: t.group, kind: t.plural });
}

export function alreadyExists(t: ResourceType, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(t)} "${name}" already exists`, { name, group: t.group, kind: t.plural });
}

export function conflict(t: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: t.group, kind: t.plural },
  );
}

export function invalid(t: ResourceType, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
  return new ApiError(422, 'Invalid', `${t.kind} "${name}" is invalid: ${list}`, {
    // kube-apiserver leaves details.name out when the object has none (a create without a name)
    ...(name ? { name } : {}),
    group: t.group,
    kind: t.kind,
    causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

/**
 * A PUT of a custom resource (CRDs disallow unconditional updates) without
 * metadata.resourceVersion: kube-apiserver names the resource by plural.group here, not by kind.
 */
export function resourceVersionRequired(t: ResourceType, name: string): ApiError {
  const cause = { reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be specified for an update', field: 'metadata.resourceVersion' };
  return new ApiError(422, 'Invalid', `${qualified(t)} "${name}" is invalid: ${cause.field}: ${cause.message}`, {
    name,
    group: t.group,
    kind: t.plural,
    causes: [cause],
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function gone(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}
