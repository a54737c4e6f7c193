/**
 * What the model-deployment chart renders from one `config.yaml`: the InferenceService.
 * The chart's `version` (image tag) shows up as the tag of the OCI model image in
 * `spec.predictor.model.storageUri` (`oci://<image_repository>/<image_namespace>/<name>:<version>`),
 * so a new version is a new predictor template, hence a new KServe revision.
 * `canary: {trafficPercent: N}` renders `canaryTrafficPercent: N` (0 included);
 * `canary` absent, null or `{}` renders nothing (an empty map is falsy in Helm).
 */
import { isPlainObject, type KObject } from './types';

export interface ChartValues {
  chart_path?: unknown;
  name?: unknown;
  version?: unknown;
  image_repository?: unknown;
  image_namespace?: unknown;
  autoscaling?: unknown;
  canary?: unknown;
  keda?: unknown;
  [k: string]: unknown;
}

export const ARGO_INSTANCE_LABEL = 'app.kubernetes.io/instance';

export function canaryPercentOf(values: ChartValues): number | undefined {
  const c = values.canary;
  if (!isPlainObject(c) || Object.keys(c).length === 0) return undefined;
  const p = c.trafficPercent;
  if (p === undefined || p === null) return undefined;
  return typeof p === 'number' ? p : Number(p);
}

/** Render the InferenceService for `model` in `namespace` (Application `appName` owns it). */
export function renderInferenceService(values: ChartValues, model: string, namespace: string, appName: string): KObject {
  const name = typeof values.name === 'string' && values.name ? values.name : model;
  const repo = String(values.image_repository ?? 'image-registry.openshift-image-registry.svc:5000');
  const imageNs = String(values.image_namespace ?? namespace);
  const version = String(values.version ?? 'latest');
  const annotations: Record<string, string> = {
    'openshift.io/display-name': name,
    'serving.knative.openshift.io/enablePassthrough': 'true',
    'sidecar.istio.io/inject': 'true',
    'sidecar.istio.io/rewriteAppHTTPProbers': 'true',
  };
  const autoscaling = values.autoscaling === true || values.autoscaling === 'true';
  if (autoscaling) annotations['autoscaling.knative.dev/target'] = '1';
  if (values.keda === true || values.keda === 'true') annotations['serving.kserve.io/autoscalerClass'] = 'keda';
  const predictor: Record<string, unknown> = {
    minReplicas: 1,
    maxReplicas: autoscaling ? 5 : 1,
    model: {
      modelFormat: { name: 'onnx', version: '1' },
      runtime: name,
      storageUri: `oci://${repo}/${imageNs}/${name}:${version}`,
    },
  };
  const p = canaryPercentOf(values);
  if (p !== undefined) predictor.canaryTrafficPercent = p;
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name,
      namespace,
      annotations,
      finalizers: ['inferenceservice.finalizers'],
      labels: { 'opendatahub.io/dashboard': 'true', [ARGO_INSTANCE_LABEL]: appName },
    },
    spec: { predictor },
  };
}
