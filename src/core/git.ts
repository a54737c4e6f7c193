/**
 * The git side of publishing: one place that runs git (spawned directly, an argument array,
 * no shell) with a controlled environment, timeouts and error classification. No vscode here.
 *
 * Environment of every git child (see gitEnvironment):
 * - GIT_TERMINAL_PROMPT=0: git never asks for a username/password on a terminal;
 *   the CLI has no TTY prompting and the extension host has no terminal at all.
 * - GIT_SSH_COMMAND: `ssh -o BatchMode=yes ...` unless the user set their own
 *   GIT_SSH_COMMAND or GIT_SSH, so ssh never prompts either.
 * - LC_ALL=C: git's messages in English, so they can be classified below. It does not
 *   change commit content (messages are written as given, file content is bytes).
 * - GIT_ASKPASS / SSH_ASKPASS: an inherited askpass program is KEPT, deliberately.
 *   In code-server (and VS Code) these point at the workbench's askpass helper, which
 *   shows the credential prompt inside the UI: that is the right way to ask, and it is
 *   not a terminal prompt. Exactly the variables listed in PASSED_GIT_VARIABLES are passed;
 *   every other GIT_* variable is dropped (GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE from a hook
 *   would otherwise redirect us to another repository; GIT_INDEX_FILE is set only by us, for a
 *   temporary index), and editor/pager variables too (we never open one).
 *   GIT_CONFIG_GLOBAL / GIT_CONFIG_SYSTEM are passed: they come from the user's own
 *   environment, and dropping them would silently switch git to another identity and
 *   credential configuration. We never pass --git-dir, --work-tree or -C.
 *   Tested in test/core/publish-auth.test.ts (GIT_ASKPASS supplies the password of a
 *   loopback http remote and the publish succeeds).
 */
import { spawn } from 'node:child_process';
import { CanaryError } from './errors';

/** Variables passed through to git children when present (besides the ones we set). */
const PASSED_GIT_VARIABLES = [
  'GIT_ASKPASS',
  'SSH_ASKPASS',
  'GIT_SSH_COMMAND',
  'GIT_SSH',
  'GIT_TERMINAL_PROMPT',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_AUTHOR_DATE',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
  'GIT_COMMITTER_DATE',
  'GIT_CONFIG_NOSYSTEM',
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_SYSTEM',
  'GIT_HTTP_LOW_SPEED_LIMIT',
  'GIT_HTTP_LOW_SPEED_TIME',
  'GIT_TRACE',
];

/** Editor/pager variables; git never needs them for what we run. */
const DROPPED_VARIABLES = new Set(['editor', 'visual', 'pager', 'prefix']);

/** The environment for git children, derived from the caller's environment. */
export function gitEnvironment(base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  const passed = new Set(PASSED_GIT_VARIABLES.map((v) => v.toLowerCase()));
  for (const [key, value] of Object.entries(base)) {
    if (value === undefined) continue;
    const k = key.toLowerCase();
    if (DROPPED_VARIABLES.has(k)) continue;
    if ((k.startsWith('git_') || k === 'ssh_askpass') && !passed.has(k)) continue;
    env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = '0';
  if (!env.GIT_SSH_COMMAND && !env.GIT_SSH) {
    env.GIT_SSH_COMMAND = 'ssh -o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=10 -o ServerAliveCountMax=2';
  }
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  return env;
}

export interface GitRunnerOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Per network operation (fetch, push): git is killed after this long without output. */
  timeoutMs: number;
  /**
   * Stops network operations (fetch, push) at once. Local commands are never killed half-way
   * (a killed commit or rebase would leave a lock or a rebase in progress): callers check the
   * signal between steps.
   */
  signal?: AbortSignal;
  /** Called when a git child is spawned (test fault hooks). */
  onSpawn?: (command: string, args: string[]) => void;
  /** GIT_INDEX_FILE for every child: a temporary index, so the user's index is never touched. */
  indexFile?: string;
}

/** What one git invocation is for, used to word errors. */
export type GitOp = 'local' | 'fetch' | 'push';

/** An error of our own runner, tagged with what stopped git: the timeout or the abort signal. */
class RunnerError extends Error {
  constructor(
    message: string,
    readonly plugin?: 'timeout' | 'abort',
  ) {
    super(message);
  }
}

/**
 * Runs git directly (child_process.spawn with an argument array, never a shell). Every failure
 * becomes a CanaryError of kind 'git'. Network operations (fetch, push) are killed after
 * timeoutMs without output and at once on the signal; local ones always run to the end.
 * (It replaced simple-git, whose task queue, completion delays and module load cost more than
 * git itself on a publish: see bench/publish.bench.ts.)
 */
export class GitRunner {
  private readonly env: Record<string, string>;
  private readonly config: string[];
  readonly timeoutMs: number;

  constructor(private readonly opts: GitRunnerOptions) {
    this.timeoutMs = opts.timeoutMs;
    this.env = gitEnvironment(opts.env);
    if (opts.indexFile) this.env.GIT_INDEX_FILE = opts.indexFile;
    // curl's own stall limit is a backstop a few seconds after ours: a stalled http transfer
    // aborts on its own too, so no git-remote-http is left behind.
    const seconds = Math.ceil(opts.timeoutMs / 1000) + 5;
    this.config = ['-c', 'http.lowSpeedLimit=1', '-c', `http.lowSpeedTime=${seconds}`];
  }

  /** Runs `git <args>` (with `input` on stdin) and returns stdout. Throws a classified CanaryError on failure. */
  run(args: string[], op: GitOp = 'local', input?: string): Promise<string> {
    return this.spawnGit(args, op, input).catch((e: unknown) => {
      throw classifyGitError(e, args, op, this.opts.timeoutMs);
    });
  }

  /** Like run, but returns undefined instead of throwing, also for a silent non-zero exit (for probes such as `rev-parse --verify`). */
  async probe(args: string[]): Promise<string | undefined> {
    try {
      return await this.spawnGit(args, 'local');
    } catch {
      return undefined;
    }
  }

  private spawnGit(args: string[], op: GitOp, input?: string): Promise<string> {
    const full = [...this.config, ...args];
    const network = op !== 'local';
    const signal = network ? this.opts.signal : undefined;
    return new Promise<string>((resolve, reject) => {
      if (signal?.aborted) return reject(new RunnerError('Abort already signaled', 'abort'));
      const child = spawn('git', full, {
        cwd: this.opts.cwd,
        env: this.env,
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let stopped: RunnerError | undefined;
      let timer: NodeJS.Timeout | undefined;
      const stop = (why: RunnerError) => {
        stopped ??= why;
        child.kill();
      };
      const arm = () => {
        if (!network) return;
        clearTimeout(timer);
        timer = setTimeout(() => stop(new RunnerError('block timeout reached', 'timeout')), this.opts.timeoutMs);
      };
      const onAbort = () => stop(new RunnerError('Abort signal received', 'abort'));
      signal?.addEventListener('abort', onAbort);
      child.stdout!.on('data', (b: Buffer) => {
        out.push(b);
        arm();
      });
      child.stderr!.on('data', (b: Buffer) => {
        err.push(b);
        arm();
      });
      arm();
      if (input !== undefined) {
        child.stdin!.on('error', () => undefined);
        child.stdin!.end(input);
      }
      this.opts.onSpawn?.('git', full);
      let finished = false;
      let exitCode: number | null = null;
      let grace: NodeJS.Timeout | undefined;
      const finish = (e?: Error) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearTimeout(grace);
        signal?.removeEventListener('abort', onAbort);
        const stdout = Buffer.concat(out).toString('utf8');
        if (e) return reject(e);
        if (stopped) return reject(stopped);
        if (exitCode === 0) return resolve(stdout);
        const text = `${stdout}${Buffer.concat(err).toString('utf8')}`;
        reject(new RunnerError(text.trim() ? text : `git ${args[0] ?? ''} exited with status ${exitCode}`));
      };
      child.on('error', (e) => finish(e));
      // 'close' waits for the pipes, which a grandchild (a remote helper, a local receive-pack) may
      // hold after git itself exited: once git has exited, the output gets a moment, not forever.
      child.on('exit', (code) => {
        exitCode = code;
        if (stopped) finish();
        else grace = setTimeout(finish, 200);
      });
      child.on('close', (code) => {
        exitCode ??= code;
        finish();
      });
    });
  }
}

/** The text git wrote (stdout, for push --porcelain, then stderr), from a runner error. */
export function gitErrorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

function pluginOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'plugin' in e ? String((e as { plugin?: unknown }).plugin) : undefined;
}

/** First `fatal:`/`error:` line (or the first line), trimmed, for the user-facing message. */
export function firstGitLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const fatal = lines.find((l) => /^(fatal|error):/.test(l));
  return (fatal ?? lines[0] ?? '').replace(/^(fatal|error):\s*/, '').slice(0, 300);
}

/** Removes user:password@ from URLs so no credential ever reaches a message. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

/**
 * A push refused by a branch protection or a server hook: GitHub (GH006), GitLab, Gitea/Forgejo,
 * Bitbucket, Azure DevOps (TF402455), and any pre-receive hook that declines (`[remote rejected]
 * main -> main (pre-receive hook declined)`).
 */
const PROTECTED_BRANCH =
  /gh006|protected branch|not allowed to push code to protected branches|not allowed to push to protected branch|can only be modified through pull requests|tf402455|pre-receive hook declined|\(hook declined\)/;

/**
 * Maps git's failure text (LC_ALL=C) to a CanaryError with a stable code:
 * timeout, aborted, auth-failed, remote-unreachable, remote-not-found, push-rejected,
 * protected-branch, push-refused, index-locked, no-identity, git-failed.
 */
export function classifyGitError(e: unknown, args: string[], op: GitOp, timeoutMs: number): CanaryError {
  if (e instanceof CanaryError) return e;
  const plugin = pluginOf(e);
  const text = redactUrls(gitErrorText(e));
  const cmd = `git ${args[0] ?? ''}`;
  if (plugin === 'timeout' || /operation too slow/i.test(text)) {
    return new CanaryError(
      'git',
      'timeout',
      `${cmd} got no answer from the remote for ${Math.round(timeoutMs / 1000)} s and was stopped.`,
      'Check your network/VPN and that the remote is up, then run the command again (nothing was lost; a change already committed is pushed by the re-run).',
      { cause: e },
    );
  }
  if (plugin === 'abort') {
    return new CanaryError('git', 'aborted', `${cmd} was cancelled.`, 'Run the command again when you are ready; a re-run finishes what was started.', {
      cause: e,
    });
  }
  const detail = firstGitLine(text);
  const t = text.toLowerCase();
  if (
    /could not read (username|password)|terminal prompts disabled|authentication failed|access denied|permission denied \(publickey|http basic|requested url returned error: 40[13]|invalid credentials|invalid username or password/.test(
      t,
    )
  ) {
    return new CanaryError(
      'git',
      'auth-failed',
      `The remote refused the credentials (${detail}).`,
      'Sign in to the git server: set up a credential helper, an SSH key, or run `git push` once in a terminal to store credentials, then retry.',
      { cause: e },
    );
  }
  if (/index\.lock/.test(t)) {
    return new CanaryError(
      'git',
      'index-locked',
      `Another git process holds the index lock (${detail}).`,
      'Wait for the other git command to finish; if none is running, delete the .git/index.lock file named above and retry.',
      { cause: e },
    );
  }
  if (/please tell me who you are|unable to auto-detect email address|empty ident name/.test(t)) {
    return new CanaryError(
      'git',
      'no-identity',
      'git does not know who you are, so it cannot commit.',
      'Run `git config --global user.name "Your Name"` and `git config --global user.email you@example.com`, then retry.',
      { cause: e },
    );
  }
  if (/\[rejected\]|non-fast-forward|fetch first|failed to push some refs|\[remote rejected\]|stale info/.test(t)) {
    // A ref update lost to a concurrent push ("cannot lock ref", "failed to update ref") is a race, not a refusal.
    const raced = /cannot lock ref|failed to update ref|incorrect old value|but expected/.test(t);
    // The forge's own words (a `remote:` line such as GH006) before git's `[remote rejected] … (hook declined)` summary.
    const lines = raced ? [] : text.split(/\r?\n/).map((l) => l.trim().replace(/\s+/g, ' '));
    const protectedLine =
      lines.find((l) => !/\[remote rejected\]/.test(l) && PROTECTED_BRANCH.test(l.toLowerCase())) ?? lines.find((l) => PROTECTED_BRANCH.test(l.toLowerCase()));
    if (protectedLine) {
      return new CanaryError(
        'git',
        'protected-branch',
        `The remote refused the push: the branch is protected (${protectedLine
          .replace(/^remote:\s*/, '')
          .replace(/^(fatal|error):\s*/i, '')
          .slice(0, 200)}).`,
        'Publish the change as a pull request instead (pull-request mode: it pushes a new branch and gives the link to open the pull request).',
        { cause: e },
      );
    }
    const refused = !raced && /\[remote rejected\]|hook declined|protected branch/.test(t);
    return new CanaryError(
      'git',
      refused ? 'push-refused' : 'push-rejected',
      refused ? `The remote refused the push (${detail}).` : `The remote rejected the push because it has commits you do not have (${detail}).`,
      refused
        ? 'The branch may be protected: push to another branch and open a pull request, or ask for access.'
        : 'Run the command again: it pulls first and pushes again.',
      { cause: e },
    );
  }
  if (
    /does not appear to be a git repository|repository .* not found|not found|no such file or directory|could not read from remote repository/.test(t) &&
    op !== 'local'
  ) {
    return new CanaryError(
      'git',
      'remote-not-found',
      `The remote repository cannot be read (${detail}).`,
      'Check the remote URL with `git remote -v` and that you have access to it.',
      { cause: e },
    );
  }
  if (
    /could not resolve host|connection refused|failed to connect|couldn't connect|connection timed out|network is unreachable|unable to access|empty reply|connection reset|early eof|the remote end hung up/.test(
      t,
    )
  ) {
    return new CanaryError(
      'git',
      'remote-unreachable',
      `The remote could not be reached (${detail}).`,
      'Check your network/VPN and the remote URL (`git remote -v`), then retry.',
      { cause: e },
    );
  }
  return new CanaryError(
    'git',
    'git-failed',
    `${cmd} failed: ${detail || 'unknown error'}`,
    'Run `git status` in the gitops folder to see what git reports, fix it, then retry.',
    { cause: e },
  );
}
