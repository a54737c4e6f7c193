/**
 * `kserve-canary rollout <model> --env <env> [--plan …]`: the progressive rollout engine
 * (src/core/rollout.ts) in a terminal or a CI pipeline. Each step is a pushed commit (with
 * --pull-request: a pull request the run waits to see merged, its page printed); the state
 * lives in git, so running the command again resumes where it stopped.
 */
import { createInterface } from 'node:readline/promises';
import path from 'node:path';
import { validateName } from '../../core/names';
import { describeGates, describePlan, hasGates, type PlanDefaults } from '../../core/plan';
import type { ApprovalAnswer, ApprovalRequest, RolloutEvent, RolloutOutcome, RolloutState } from '../../core/rollout';
import { DEFAULT_PAYLOAD, LIMITS, formatStatusCounts, readPayloadFile } from '../../core/loadgen';
import { terminalText } from '../../core/sanitize';
import type { ClusterStore } from '../../cluster/api';
import { publishPolicy } from '../../app/policy';
import { loadRolloutPlan, previewRollout, rolloutStatus, runRollout } from '../../app/rollout';
import { rolloutDocument, rolloutPreviewDocument } from '../../app/result';
import { COMMON_OPTIONS, parse, requirePositional, requireString, resolveGitopsRoot } from '../args';
import { CLUSTER_OPTIONS, CLUSTER_USAGE, PROMETHEUS_ENV, connectStore, prometheusFrom } from '../cluster';
import { checkClusterOptions, checkPrometheusOptions } from '../cluster-options';
import {
  durationOption,
  environmentOption,
  formatDocument,
  numberOption,
  outputOption,
  OUTPUT_OPTIONS,
  readScope,
  SCOPE_OPTIONS,
  SCOPE_USAGE,
} from '../options';
import type { CliCommand, CliIO } from '../command';
import { usageError } from '../output';
import { printRolloutPreview } from './rollout-print';
import { SUMMARIES } from './summaries';

const EXAMPLE = 'rollout jukebox --env test --plan 10,25,50,100 --pause 2m';

const EXIT: Record<RolloutOutcome, number> = {
  completed: 0,
  promoted: 0,
  aborted: 0,
  'rolled-back': 1,
  'awaiting-approval': 1,
  stopped: 1,
  'changed-outside': 1,
};

/** `rollout --status -o json|yaml` (schemaVersion 1; absent values are null). */
function statusDocument(env: string, model: string, st: RolloutState, percent: number | undefined): unknown {
  return {
    schemaVersion: 1,
    env,
    model,
    state: st.state,
    step: st.step ?? null,
    of: st.of ?? null,
    samePlan: st.samePlan ?? null,
    desiredPercent: percent ?? null,
    text: st.text,
  };
}

/** One question on the terminal; Ctrl-C at the prompt stops the command like anywhere else. */
async function ask(question: string, signal?: AbortSignal): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  rl.on('SIGINT', () => {
    rl.close();
    process.emit('SIGINT');
  });
  try {
    // The question can carry Prometheus text, and readline writes to the terminal directly.
    return (await rl.question(terminalText(question), { signal: signal ?? new AbortController().signal })).trim().toLowerCase();
  } catch {
    return '';
  } finally {
    rl.close();
  }
}

export const rolloutCommand: CliCommand = {
  name: 'rollout',
  summary: SUMMARIES.rollout,
  options: {
    ...COMMON_OPTIONS,
    ...CLUSTER_OPTIONS,
    ...SCOPE_OPTIONS,
    ...OUTPUT_OPTIONS,
    env: { type: 'string', short: 'e' },
    plan: { type: 'string' },
    pause: { type: 'string' },
    'max-error-rate': { type: 'string' },
    'max-p95': { type: 'string' },
    window: { type: 'string' },
    'no-gates': { type: 'boolean' },
    prometheus: { type: 'string' },
    approve: { type: 'boolean' },
    promote: { type: 'boolean' },
    abort: { type: 'boolean' },
    restart: { type: 'boolean' },
    timeout: { type: 'string' },
    yes: { type: 'boolean', short: 'y' },
    traffic: { type: 'string' },
    payload: { type: 'string' },
    status: { type: 'boolean' },
    'no-push': { type: 'boolean' },
    'pull-request': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  },
  usage: `Usage: kserve-canary rollout <model> --env <env> [options]

Walks the canary of <model> through a plan (e.g. 10 -> 25 -> 50 -> 100): each step is a
commit pushed to the gitops repository (message "Progressive rollout of <model> in <env>:
step 2/4, 25%"), followed until the cluster serves it, then watched for the pause while
the gates (error rate, p95 latency of the new revision, from Prometheus) are checked.
A failing gate rolls back with a commit to 0% naming the gate. The last step promotes.
The state lives in git: run the command again to resume after a stop or a crash.

Plan: --plan, else model-deployments/<env>/<model>/canary-plan.yaml, else the defaults.

Options:
  -e, --env <env>            environment (required, or -n <namespace>)
      --plan <steps|file>    steps like 10,25:2m,50:manual,100 (percent[:pause|:manual])
                             or a YAML plan file
      --pause <d>            pause of the steps that name none (default 1m)
      --max-error-rate <r>   highest share of 5xx answers, 0.05 or 5% (default 5%)
      --max-p95 <d>          highest p95 latency, e.g. 500ms (default: no latency gate)
      --window <d>           Prometheus range of the gate queries (default: the pause)
      --no-gates             no metric gates: walk the plan on time only
      --prometheus <url>     Prometheus / Thanos base URL (or $${PROMETHEUS_ENV.url});
                             token from $${PROMETHEUS_ENV.token}, else the kubeconfig's
                             (https only; an explicit token with http is refused)
      --approve              approve the manual gate the rollout waits at
      --promote              finish now: promote (100% to the latest revision)
      --abort                roll back now (0%)
      --restart              start over even if this plan already completed
      --status               say where the rollout stands in git, change nothing
      --dry-run              print the diff of config.yaml and the commit message of the
                             next step; change nothing (no fetch, no commit, no push)
      --no-push              commit each step only (the cluster cannot follow it: only
                             with --dry-run, --promote or --abort)
      --pull-request         propose each step as a pull request: a branch made from the
                             upstream head (canary/<env>-<model>-<percent>), its page
                             printed; the run waits until it is merged, then follows it.
                             A rollback is a pull request too. Your checkout is untouched
      --json, -o json|yaml   one RolloutResult document at the end (see README); with
                             --status: { schemaVersion, env, model, state, step, of,
                             samePlan, desiredPercent, text }
      --timeout <d>          how long each step may take to go live (default 5m); with
                             --pull-request also how long its pull request may wait for
                             the merge
      --traffic <rps>        send test inference traffic at this rate during the whole
                             rollout (to the service URL), so the gates have data
      --payload <file>       JSON body of that traffic (default: a one-value V2 request)
  -y, --yes                  do not ask before starting (never asked without a terminal)
      --gitops <dir>         gitops checkout
${CLUSTER_USAGE}
${SCOPE_USAGE}

Durations (--pause, --max-p95, --window, --timeout): 90 (seconds), 30s, 5m, 1h, 1h30m, 500ms.
  -h, --help                 show this help

Exit codes: 0 completed, promoted or aborted on request; 1 rolled back, waiting for
approval, stopped or failed; 2 bad input.

Examples:
  kserve-canary ${EXAMPLE}
  kserve-canary rollout jukebox --env test --approve
  kserve-canary rollout jukebox --env test --abort
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const p = parse('rollout', argv, this.options, 1);
    if (p.values.help) {
      io.stdout(this.usage);
      return 0;
    }
    // Every option is checked here, before the first commit (or request).
    const model = validateName('model', requirePositional('rollout', p, 0, 'model', EXAMPLE));
    if (p.values.env === undefined && p.values.namespace === undefined) requireString('rollout', p.values, 'env', EXAMPLE);
    const scope = readScope('rollout', p.values, io);
    if (p.values.promote && p.values.abort) throw usageError('rollout: --promote and --abort exclude each other.', 'Give one of them.');
    const action = p.values.promote ? 'promote' : p.values.abort ? 'abort' : undefined;
    const format = outputOption('rollout', p.values);
    if (format === 'wide') throw usageError('rollout: there is no table: -o wide does not apply.', 'Use -o json or -o yaml.');
    const doc = format === 'json' || format === 'yaml' ? format : undefined;
    const dryRun = p.values['dry-run'] === true;
    if (dryRun && p.values.status) throw usageError('rollout: --dry-run and --status exclude each other.', 'Give one of them.');
    const followTimeoutMs = durationOption('rollout', p.values, 'timeout', 300000, { min: 1000, max: 24 * 3_600_000 })!;
    const s = (k: string) => (typeof p.values[k] === 'string' ? (p.values[k] as string) : undefined);
    // The time options in the CLI's syntax (90 = seconds), handed to the plan with their unit.
    const asMs = (k: string, min: number) => {
      const ms = durationOption('rollout', p.values, k, undefined, { min, max: 24 * 3_600_000 });
      return ms === undefined ? undefined : `${ms}ms`;
    };
    const pause = asMs('pause', 0);
    const maxP95 = asMs('max-p95', 1);
    const window = asMs('window', 1000);
    const defaults: PlanDefaults = {
      ...(pause ? { pause } : {}),
      ...(s('max-error-rate') ? { maxErrorRate: s('max-error-rate')! } : {}),
      ...(maxP95 ? { maxP95 } : {}),
      ...(window ? { window } : {}),
    };
    const trafficRps = numberOption('rollout', p.values, 'traffic', undefined, { min: 0.01, max: LIMITS.maxRps });
    if (p.values['pull-request'] && p.values['no-push'])
      throw usageError('rollout: --pull-request and --no-push exclude each other.', 'Leave one of them out.');
    if (p.values['no-push'] && !dryRun && !action)
      throw usageError('rollout: --no-push: each step must reach the cluster before the next one.', 'Use --no-push only with --dry-run, --promote or --abort.');
    if (!dryRun) {
      checkClusterOptions('rollout', p.values, io);
      if (!p.values['no-gates'] && !action) checkPrometheusOptions('rollout', p.values, io);
    }
    const root = resolveGitopsRoot(p.values, io, scope.deploymentsDir);
    const env = (await environmentOption('rollout', p.values, scope, root))!;
    const policy = publishPolicy({ env, pullRequest: p.values['pull-request'] === true, noPush: p.values['no-push'] === true });
    const plan = await loadRolloutPlan({
      root,
      env,
      model,
      cwd: io.cwd,
      defaults,
      deploymentsDir: scope.deploymentsDir,
      ...(s('plan') ? { explicit: s('plan')! } : {}),
    });
    const target = { root, env, model, deploymentsDir: scope.deploymentsDir, processEnv: io.env };
    const docCtx = { env, model, policy, plan };
    const pullRequest = policy === 'pull-request';
    if (p.values.status) {
      // where the rollout stands, from git alone (no cluster, nothing changed)
      const { state, percent } = await rolloutStatus(target, plan);
      if (doc) io.stdout(formatDocument(doc, statusDocument(env, model, state, percent)));
      else io.stdout(`${model} in ${env}: ${state.text}\n`);
      return 0;
    }
    if (dryRun) {
      const preview = await previewRollout({ ...target, plan, policy, restart: !!p.values.restart, ...(action ? { action } : {}) });
      if (doc) io.stdout(formatDocument(doc, rolloutPreviewDocument(docCtx, preview.next, preview.why, preview.proposals)));
      else printRolloutPreview(io, preview, env, model);
      return 0;
    }
    const payload = typeof p.values.payload === 'string' ? await readPayloadFile(path.resolve(io.cwd, p.values.payload)) : DEFAULT_PAYLOAD;
    const noGates = !!p.values['no-gates'];
    const metrics = noGates || action ? undefined : await prometheusFrom(p.values, io);
    if (!action && !noGates && hasGates(plan.gates) && !metrics) {
      throw usageError(
        `rollout: the plan has metric gates (${describeGates(plan.gates)}) but no Prometheus is configured.`,
        `Pass --prometheus <url> (or set $${PROMETHEUS_ENV.url}), or --no-gates to walk the plan on time only.`,
      );
    }
    const interactive = io.isTTY && !!process.stdin.isTTY && !doc;
    if (!action && !p.values.yes && interactive) {
      io.stdout(`Plan for ${model} in ${env}: ${describePlan(plan)}; ${noGates ? 'no metric gates' : describeGates(plan.gates)}\n`);
      const how = pullRequest ? 'Every step is proposed as a pull request and waits for its merge.' : 'Every step is pushed.';
      if (!['y', 'yes'].includes(await ask(`Start (or resume) the rollout? ${how} [y/N] `, io.signal))) {
        io.stdout('Nothing done.\n');
        return 1;
      }
    }

    let store: ClusterStore | undefined;
    try {
      store = await connectStore(p.values, io, root);
    } catch (e) {
      if (!action) throw e;
      io.stderr(`warning: ${(e as Error).message} The ${action} commit is pushed anyway; it cannot be followed.\n`);
    }
    try {
      let approvals = p.values.approve ? 1 : 0;
      const approve = async (req: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer> => {
        if (approvals > 0) {
          approvals--;
          return 'approve';
        }
        if (!interactive) return 'wait';
        const a = await ask(`${req.message}\nApprove ${req.next}%? [y = go on, r = roll back, N = stop here] `, signal);
        return a === 'y' || a === 'yes' ? 'approve' : a === 'r' ? 'rollback' : 'wait';
      };
      const events: RolloutEvent[] = [];
      const say = (line: string) => {
        if (!doc) io.stdout(`${line}\n`);
      };
      const { outcome } = runRollout({
        ...target,
        plan,
        policy,
        store,
        metrics,
        followTimeoutMs,
        approve,
        ignoreGates: noGates,
        restart: !!p.values.restart,
        signal: io.signal,
        ...(action ? { action } : {}),
        ...(trafficRps !== undefined ? { traffic: { rps: trafficRps, payload, onStart: say } } : {}),
        onEvent: (e) => {
          events.push(e);
          say(`${e.kind === 'follow' || e.kind === 'gates' || e.kind === 'published' ? '  ' : ''}${e.message}`);
        },
      });
      const { result, traffic, proposals } = await outcome;
      if (traffic)
        say(
          `Test traffic during the rollout: ${traffic.sent} requests, answers ${formatStatusCounts(traffic.byStatus)}${traffic.errors ? `, no answer ${traffic.errors}` : ''}`,
        );
      if (doc) io.stdout(formatDocument(doc, rolloutDocument(docCtx, result, events, proposals)));
      return EXIT[result.outcome];
    } finally {
      store?.dispose();
    }
  },
};
