/**
 * `kserve-canary status`: what each model serves, in each environment, and whether the
 * cluster agrees with git. Columns of `oc get isvc` plus ENV, DESIRED, SYNC and STATE.
 */
import path from 'node:path';
import { CanaryError } from '../../core/errors';
import { findGitopsRoot } from '../../core/layout';
import { validateName } from '../../core/names';
import { connectionError, observeSplit, whenListed } from '../../app/connection';
import type { ObservedTracker } from '../../cluster/observed';
import { cliLogger, openStore, prometheusFrom } from '../cluster';
import { renderTable, statusJson, type ObservedOf } from '../status-view';
import {
  durationOption,
  environmentOption,
  formatDocument,
  outputOption,
  OUTPUT_OPTIONS,
  OUTPUT_USAGE,
  readScope,
  SCOPE_OPTIONS,
  SCOPE_USAGE,
} from '../options';
import { COMMON_OPTIONS, parse } from '../args';
import type { CliCommand, CliIO } from '../command';
import { CLEAR_SCREEN, writeControl } from '../output';
import { checkClusterOptions, checkPrometheusOptions, CLUSTER_OPTIONS, CLUSTER_USAGE } from '../cluster-options';
import { SUMMARIES } from './summaries';

const USAGE = `Usage: kserve-canary status [<model>] [--env <env> | -n <namespace>] [-o json|yaml|wide] [--watch]
                             [--prometheus <url>] [--window <d>]
                             [--kubeconfig <f>] [--context <c>] [--gitops <dir>]

Shows every InferenceService of every environment (namespace {user}-{env}) with the columns
of \`oc get isvc\`, plus:
  ENV       the environment
  DESIRED   the canaryTrafficPercent git asks for (none = no canary, 100% latest)
  SYNC      the Argo CD Application's sync status and revision
  STATE     live | syncing | drift | unsupported | not-ready | unknown
and, under the table, why each service that is not live is so. With Prometheus configured,
an OBSERVED column beside PREV/LATEST: the split the revisions really served over the window
(\`79/21 5m\` prev/latest, \`100 5m\` latest only), \`no traffic\` when no request was
counted, \`no metrics\` when the query failed (why, under the table); never guessed.

Options:
  -e, --env <env>        only this environment
      --json             print JSON (shape below) instead of the table
${OUTPUT_USAGE}
                         (wide: NAMESPACE, MODE, HEALTH, LATESTCREATEDREVISION; yaml: the
                         JSON document as YAML)
  -w, --watch            redraw on every change until Ctrl-C
      --gitops <dir>     gitops checkout for DESIRED (default: this folder or the nearest
                         parent holding model-deployments/; without one DESIRED is empty)
      --prometheus <url> Prometheus / Thanos base URL for OBSERVED (or
                         $KSERVE_CANARY_PROMETHEUS_URL); token from
                         $KSERVE_CANARY_PROMETHEUS_TOKEN, else the kubeconfig's
                         (https only; an explicit token with http is refused)
      --window <d>       range of the observed split: 90 (seconds), 30s, 5m, 1h (default 5m)
${CLUSTER_USAGE}
${SCOPE_USAGE}
  -h, --help             show this help

JSON (schemaVersion 1; absent values are null, never omitted; no credentials, ever):
  { "schemaVersion": 1,
    "connection": { "phase", "context", "server", "since", "problem": null | { "kind", "message", "hint", "namespace" } },
    "services": [ { "env", "namespace", "name", "model", "url", "ready", "readyMessage",
                    "prev", "latest", "prevRevision", "latestRevision", "creationTimestamp",
                    "traffic": [ { "revisionName", "percent", "tag", "latestRevision", "url" } ],
                    "latestCreatedRevision", "latestReadyRevision", "newRevisionNotReady",
                    "deploymentMode", "canarySupported", "specPercent", "rollingOut",
                    "desired": null | { "percent", "version", "commit" },
                    "application": null | { "name", "syncStatus", "revision", "healthStatus", "healthMessage", "operationPhase" },
                    "state", "reason",
                    "observed": null | { "kind": "observed" | "absent", "window", "prev", "latest",
                                         "totalRps", "byRevision", "source",
                                         "reason": null | "no-data" | "no-traffic" | "query-failed",
                                         "message", "at" } } ] }
  "observed" is null without Prometheus (and for a service with no InferenceService).
  With --watch --json: one such document per line, on every change (-o yaml: one YAML
  document per change, each starting with ---).

Exit codes: 0 shown, 1 not connected / not found, 2 bad input.

Examples:
  kserve-canary status
  kserve-canary status jukebox --env test --watch
`;

export const statusCommand: CliCommand = {
  name: 'status',
  summary: SUMMARIES.status,
  usage: USAGE,
  options: {
    ...COMMON_OPTIONS,
    ...CLUSTER_OPTIONS,
    ...SCOPE_OPTIONS,
    ...OUTPUT_OPTIONS,
    env: { type: 'string', short: 'e' },
    watch: { type: 'boolean', short: 'w' },
    prometheus: { type: 'string' },
    window: { type: 'string' },
  },
  async run(argv: string[], io: CliIO): Promise<number> {
    const p = parse('status', argv, this.options, 1);
    if (p.values.help) {
      io.stdout(USAGE);
      return 0;
    }
    const model = p.positionals[0] !== undefined ? validateName('model', p.positionals[0]) : undefined;
    const scope = readScope('status', p.values, io);
    const format = outputOption('status', p.values);
    const watch = p.values.watch === true;
    const windowMs = durationOption('status', p.values, 'window', 300000, { min: 1000, max: 7 * 24 * 3_600_000 })!;
    checkClusterOptions('status', p.values, io);
    checkPrometheusOptions('status', p.values, io);
    const gitops =
      typeof p.values.gitops === 'string' && p.values.gitops ? path.resolve(io.cwd, p.values.gitops) : findGitopsRoot(io.cwd, scope.deploymentsDir);
    const env = await environmentOption('status', p.values, scope, gitops);
    const doc = format === 'json' || format === 'yaml' ? format : undefined;
    const metrics = await prometheusFrom(p.values, io);
    // Without --watch a connection problem ends the command as an error: not also a warning.
    const log = cliLogger(io);
    const store = await openStore(p.values, io, gitops, watch ? log : { ...log, warn: () => undefined }, watch);
    let tracker: ObservedTracker | undefined;
    try {
      await whenListed(store, 20000);
      const pick = () => store.services().filter((s) => (!env || s.env === env) && (!model || s.name === model || s.model === model));
      let observed: ObservedOf | undefined;
      if (metrics) {
        const t = observeSplit(store, metrics, { windowMs, intervalMs: watch ? 30000 : 3600000 });
        tracker = t;
        await t.refresh(pick().map((s) => s.key));
        observed = (s) => t.get(s.key);
      }
      const draw = (): void => {
        const services = pick();
        if (doc) io.stdout(formatDocument(doc, statusJson(services, store.connection(), observed), watch));
        else io.stdout(renderTable(services, store.connection(), Date.now(), observed, format === 'wide'));
      };
      if (!watch) {
        const err = connectionError(store.connection());
        if (err && !doc) throw err;
        const services = pick();
        if (!doc && services.length === 0) {
          const where = env ? ` in environment ${env}` : '';
          throw new CanaryError(
            'not-found',
            'no-service',
            model ? `No InferenceService or model named ${model}${where}.` : `No InferenceService found${where}.`,
            `Watched namespaces: ${
              store
                .environments()
                .map((e) => e.namespace)
                .join(', ') || 'none'
            }. Check --env, --context, or the gitops checkout.`,
          );
        }
        draw();
        return err ? 1 : 0;
      }
      // --watch: redraw on changes (coalesced) until Ctrl-C.
      const clear = () => {
        if (io.isTTY && !doc) writeControl(io, CLEAR_SCREEN);
      };
      let scheduled: NodeJS.Timeout | undefined;
      const redraw = () => {
        scheduled ??= setTimeout(() => {
          scheduled = undefined;
          clear();
          draw();
        }, 100);
      };
      clear();
      draw();
      const offS = store.onDidChangeServices(redraw);
      const offC = store.onDidChangeConnection(redraw);
      const offO = tracker?.onDidChange(redraw);
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) return resolve();
        io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      offS();
      offC();
      offO?.();
      if (scheduled) clearTimeout(scheduled);
      return 0;
    } finally {
      tracker?.dispose();
      store.dispose();
    }
  },
};
