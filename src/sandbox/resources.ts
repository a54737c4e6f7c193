/**
 * The API resources the sandbox serves, with what discovery, tables and the store need.
 * Printer columns copy the CRDs' additionalPrinterColumns (KServe, Argo CD) and the
 * OpenShift route printer.
 */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ResourceType {
  group: string; // '' for core
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** The /status subresource exists: status is written only through it. */
  statusSubresource: boolean;
  /** Custom resource: strategic merge patch is refused with 415 like the real server. */
  custom: boolean;
  printerColumns: PrinterColumn[];
}

export const NAMESPACES: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  statusSubresource: true,
  custom: false,
  printerColumns: [
    { name: 'Status', type: 'string', jsonPath: '.status.phase', description: 'The phase of the namespace' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const INFERENCE_SERVICES: ResourceType = {
  group: 'serving.kserve.io',
  version: 'v1beta1',
  plural: 'inferenceservices',
  singular: 'inferenceservice',
  kind: 'InferenceService',
  namespaced: true,
  shortNames: ['isvc'],
  categories: [],
  statusSubresource: true,
  custom: true,
  printerColumns: [
    { name: 'URL', type: 'string', jsonPath: '.status.url' },
    { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
    { name: 'Prev', type: 'integer', jsonPath: ".status.components.predictor.traffic[?(@.tag=='prev')].percent" },
    { name: 'Latest', type: 'integer', jsonPath: '.status.components.predictor.traffic[?(@.latestRevision==true)].percent' },
    { name: 'PrevRolledoutRevision', type: 'string', jsonPath: ".status.components.predictor.traffic[?(@.tag=='prev')].revisionName" },
    { name: 'LatestReadyRevision', type: 'string', jsonPath: '.status.components.predictor.traffic[?(@.latestRevision==true)].revisionName' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const APPLICATIONS: ResourceType = {
  group: 'argoproj.io',
  version: 'v1alpha1',
  plural: 'applications',
  singular: 'application',
  kind: 'Application',
  namespaced: true,
  shortNames: ['app', 'apps'],
  categories: [],
  // Argo CD's Application CRD has no status subresource: the controller writes the whole object.
  statusSubresource: false,
  custom: true,
  printerColumns: [
    { name: 'Sync Status', type: 'string', jsonPath: '.status.sync.status' },
    { name: 'Health Status', type: 'string', jsonPath: '.status.health.status' },
    { name: 'Revision', type: 'string', jsonPath: '.status.sync.revision', priority: 10 },
    { name: 'Project', type: 'string', jsonPath: '.spec.project', priority: 10 },
  ],
};

export const ROUTES: ResourceType = {
  group: 'route.openshift.io',
  version: 'v1',
  plural: 'routes',
  singular: 'route',
  kind: 'Route',
  namespaced: true,
  shortNames: [],
  categories: ['all'],
  statusSubresource: true,
  custom: false,
  printerColumns: [
    { name: 'Host/Port', type: 'string', jsonPath: '.spec.host' },
    { name: 'Path', type: 'string', jsonPath: '.spec.path' },
    { name: 'Services', type: 'string', jsonPath: '.spec.to.name' },
    { name: 'Port', type: 'string', jsonPath: '.spec.port.targetPort' },
    { name: 'Termination', type: 'string', jsonPath: '.spec.tls.termination' },
    { name: 'Wildcard', type: 'string', jsonPath: '.spec.wildcardPolicy' },
  ],
};

export const RESOURCE_TYPES: ResourceType[] = [NAMESPACES, INFERENCE_SERVICES, APPLICATIONS, ROUTES];

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** Stable key of a resource type, e.g. `serving.kserve.io/inferenceservices`. */
export function typeKey(t: ResourceType): string {
  return `${t.group}/${t.plural}`;
}

export function findType(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}
