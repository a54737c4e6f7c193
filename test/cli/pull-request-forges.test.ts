/**
 * `kserve-canary set jukebox 35 --env prod --pull-request` end to end (main() in-process, real
 * git) against a bare remote whose configured URL is a forge address rewritten to it by
 * insteadOf, for every forge form: GitHub https and ssh, GitLab ssh with subgroups (scp-like and
 * ssh:// with a port, guessed or mapped by $KSERVE_CANARY_FORGE_HOSTS), GitLab https with a token,
 * Gitea/Forgejo, Bitbucket, an unknown host; once as the bundled CLI process. Each run leaves the remote main as it was, adds one
 * branch with one commit splicing only that config.yaml, leaves a busy clone exactly as it was, and
 * prints the forge's documented new-pull-request page (or the branch and a one-line hint). Also
 * -o json of a proposal, and the protected-branch refusal (GitHub's GH006 and GitLab's text) with
 * the exact --pull-request command in the hint, which then works.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cloneState, git, head, PROD_CONFIG, remoteBranches } from '../core/git-helpers';
import { buildCliBundle } from './bundle';
import { runCli, sandboxFactory } from './helpers';
import { assertOneProposal, makeBusy, PROD_CONFIG_REL, protectMain, useForgeUrl } from './forge-helpers';

const sandbox = sandboxFactory();
const BRANCH = 'canary/prod-jukebox-35';
/** The splice `set 35` makes in the prod config, which has no canary block: the block appended, every other byte kept. */
const PROPOSED = `${PROD_CONFIG}canary:\n  trafficPercent: 35\n`;
const GITLAB_QUERY = '/-/merge_requests/new?merge_request%5Bsource_branch%5D=canary%2Fprod-jukebox-35&merge_request%5Btarget_branch%5D=main';

interface Form {
  name: string;
  url: string;
  /** The printed line after the summary and steps. */
  line: string;
  global?: boolean;
  env?: Record<string, string>;
}

const FORMS: Form[] = [
  {
    name: 'GitHub https',
    url: 'https://github.com/org/gitops.git',
    line: 'Open the pull request: https://github.com/org/gitops/compare/main...canary/prod-jukebox-35?expand=1',
  },
  {
    name: 'GitHub ssh, insteadOf in the global config (GIT_CONFIG_GLOBAL)',
    url: 'git@github.com:org/gitops.git',
    global: true,
    line: 'Open the pull request: https://github.com/org/gitops/compare/main...canary/prod-jukebox-35?expand=1',
  },
  {
    name: 'GitHub ssh over the https port (ssh.github.com:443)',
    url: 'ssh://git@ssh.github.com:443/org/gitops.git',
    line: 'Open the pull request: https://github.com/org/gitops/compare/main...canary/prod-jukebox-35?expand=1',
  },
  {
    name: 'GitLab ssh, subgroup',
    url: 'git@gitlab.com:group/sub/gitops.git',
    line: `Open the pull request: https://gitlab.com/group/sub/gitops${GITLAB_QUERY}`,
  },
  {
    name: 'GitLab ssh:// with a port, self-hosted (guessed from the host name)',
    url: 'ssh://git@gitlab.example.com:2222/group/sub/gitops.git',
    line: `Open the pull request: https://gitlab.example.com/group/sub/gitops${GITLAB_QUERY}`,
  },
  {
    name: 'GitLab ssh:// with a port, mapped by $KSERVE_CANARY_FORGE_HOSTS',
    url: 'ssh://git@code.example.com:2222/group/sub/gitops.git',
    env: { KSERVE_CANARY_FORGE_HOSTS: '{"Code.Example.com": "GitLab"}' },
    line: `Open the pull request: https://code.example.com/group/sub/gitops${GITLAB_QUERY}`,
  },
  {
    name: 'GitLab https with a token in the URL (never printed)',
    url: 'https://oauth2:glpat-S3CRET@gitlab.com/group/sub/gitops.git',
    line: `Open the pull request: https://gitlab.com/group/sub/gitops${GITLAB_QUERY}`,
  },
  {
    name: 'Forgejo (Codeberg) https',
    url: 'https://codeberg.org/org/gitops.git',
    line: 'Open the pull request: https://codeberg.org/org/gitops/compare/main...canary/prod-jukebox-35',
  },
  {
    name: 'Gitea ssh, self-hosted',
    url: 'git@gitea.example.com:org/gitops.git',
    line: 'Open the pull request: https://gitea.example.com/org/gitops/compare/main...canary/prod-jukebox-35',
  },
  {
    name: 'Bitbucket ssh',
    url: 'git@bitbucket.org:ws/gitops.git',
    line: 'Open the pull request: https://bitbucket.org/ws/gitops/pull-requests/new?source=canary%2Fprod-jukebox-35&dest=main',
  },
  {
    name: 'an unknown host: the branch and a one-line hint',
    url: 'git@git.corp.example:team/gitops.git',
    line: 'Open a pull request from canary/prod-jukebox-35 into main on your git server (git.corp.example is not a known forge: for a link, set kserveCanary.forgeHosts or $KSERVE_CANARY_FORGE_HOSTS to {"git.corp.example": "gitlab"} (or github, gitea, bitbucket)).',
  },
];

describe('set jukebox 35 --env prod --pull-request, per forge form (insteadOf to a bare remote)', () => {
  for (const form of FORMS) {
    it(form.name, async () => {
      const sb = sandbox();
      const c = sb.clone('c');
      const env = useForgeUrl(sb, c, form.url, form);
      makeBusy(c);
      const before = cloneState(c);
      const mainBefore = head(sb.remote, 'main');

      const r = await runCli(['set', 'jukebox', '35', '--env', 'prod', '--pull-request'], c, env);

      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assertOneProposal(sb, BRANCH, mainBefore, PROD_CONFIG_REL, PROPOSED);
      const sha = head(sb.remote, BRANCH);
      assert.deepEqual(r.stdout.split('\n'), [
        `prod/jukebox: canary no canary (100% latest) -> 35%, committed ${sha.slice(0, 10)} on the new branch ${BRANCH} and pushed it to origin for a pull request (main untouched)`,
        `  - committed ${PROD_CONFIG_REL} on top of origin/main (${sha.slice(0, 7)}): "Set canary traffic for jukebox in prod to 35%"`,
        `  - pushed ${BRANCH} to origin for a pull request into main`,
        form.line,
        '',
      ]);
      assert.doesNotMatch(r.stdout, /S3CRET|oauth2/);
      // The clone: same branch, HEAD, status (upstream, ahead/behind, every change), stash, index, files.
      assert.deepEqual(cloneState(c), before);
    });
  }

  it('a re-run proposes nothing new and says so; from a detached HEAD the summary names it', async () => {
    const sb = sandbox();
    const c = sb.clone('c');
    const env = useForgeUrl(sb, c, 'https://github.com/org/gitops.git');
    const mainBefore = head(sb.remote, 'main');
    git(c, ['checkout', '-q', '--detach']);
    const first = await runCli(['set', 'jukebox', '35', '--env', 'prod', '--pull-request'], c, env);
    assert.equal(first.code, 0, first.stderr);
    const sha = head(sb.remote, BRANCH);
    assert.match(
      first.stdout,
      /^prod\/jukebox: canary no canary \(100% latest\) -> 35%, committed \S+ on the new branch canary\/prod-jukebox-35 and pushed it to origin for a pull request \(your detached HEAD untouched\)\n/,
    );
    git(c, ['checkout', '-q', 'main']);
    const before = cloneState(c);
    const again = await runCli(['set', 'jukebox', '35', '--env', 'prod', '--pull-request'], c, env);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(again.stdout.split('\n'), [
      `prod/jukebox: canary no canary (100% latest) -> 35%, already proposed as ${sha.slice(0, 10)} on ${BRANCH} (origin), nothing new pushed (main untouched)`,
      `  - ${BRANCH} on origin already proposes this change: nothing new pushed`,
      'Open the pull request: https://github.com/org/gitops/compare/main...canary/prod-jukebox-35?expand=1',
      '',
    ]);
    assertOneProposal(sb, BRANCH, mainBefore, PROD_CONFIG_REL, PROPOSED);
    assert.equal(head(sb.remote, BRANCH), sha);
    assert.deepEqual(cloneState(c), before);
  });

  it('as a real process (bundled bin/kserve-canary.js), insteadOf from GIT_CONFIG_GLOBAL, a host mapped by $KSERVE_CANARY_FORGE_HOSTS', async () => {
    const bundle = await buildCliBundle();
    try {
      const sb = sandbox();
      const c = sb.clone('c');
      const env = useForgeUrl(sb, c, 'git@code.example.com:group/sub/gitops.git', {
        global: true,
        env: { KSERVE_CANARY_FORGE_HOSTS: '{"code.example.com": "bitbucket"}' },
      });
      makeBusy(c);
      const before = cloneState(c);
      const mainBefore = head(sb.remote, 'main');
      const r = spawnSync(process.execPath, [bundle.bin, 'set', 'jukebox', '35', '--env', 'prod', '--pull-request'], {
        cwd: c,
        env,
        encoding: 'utf8',
        timeout: 60000,
      });
      assert.equal(r.status, 0, r.stderr);
      assertOneProposal(sb, BRANCH, mainBefore, PROD_CONFIG_REL, PROPOSED);
      assert.match(
        r.stdout,
        /\nOpen the pull request: https:\/\/code\.example\.com\/group\/sub\/gitops\/pull-requests\/new\?source=canary%2Fprod-jukebox-35&dest=main\n$/,
      );
      assert.deepEqual(cloneState(c), before);
    } finally {
      bundle.cleanup();
    }
  });

  it('a bad $KSERVE_CANARY_FORGE_HOSTS is refused (exit 2) before anything is written', async () => {
    const sb = sandbox();
    const c = sb.clone('c');
    for (const [text, why] of [
      ['{not json', /is not JSON/],
      ['["gitlab"]', /not a JSON object/],
      ['{"git.corp.example": "sourcehut"}', /"sourcehut" for git\.corp\.example is not a forge/],
      ['{"https://x/": "gitlab"}', /is not a host name/],
    ] as const) {
      const env = useForgeUrl(sb, c, 'git@git.corp.example:team/gitops.git', { env: { KSERVE_CANARY_FORGE_HOSTS: text } });
      const before = cloneState(c);
      const r = await runCli(['set', 'jukebox', '35', '--env', 'prod', '--pull-request'], c, env);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, /^error: KSERVE_CANARY_FORGE_HOSTS/);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /\nhint: For example: KSERVE_CANARY_FORGE_HOSTS='\{"git\.example\.com": "gitlab"\}'/);
      assert.deepEqual(cloneState(c), before);
      assert.deepEqual(remoteBranches(sb.remote), ['refs/heads/main']);
    }
  });
});

describe('--pull-request -o json: one ChangeResult naming the proposal', () => {
  it('GitHub: branch, sha, url and proposal; an unknown host: url null and the hint', async () => {
    const sb = sandbox();
    const c = sb.clone('c');
    const env = useForgeUrl(sb, c, 'https://github.com/org/gitops.git');
    const r = await runCli(['set', 'jukebox', '35', '--env', 'prod', '--pull-request', '-o', 'json'], c, env);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const url = 'https://github.com/org/gitops/compare/main...canary/prod-jukebox-35?expand=1';
    assert.deepEqual(j, {
      apiVersion: 'kserve-canary/v1',
      kind: 'ChangeResult',
      command: 'set',
      env: 'prod',
      model: 'jukebox',
      action: { kind: 'set', percent: 35 },
      policy: 'pull-request',
      dryRun: false,
      changed: true,
      sha: head(sb.remote, BRANCH),
      branch: BRANCH,
      remote: 'origin',
      pushed: true,
      url,
      proposal: { branch: BRANCH, url, forge: 'github', hint: null },
      file: PROD_CONFIG_REL,
      message: 'Set canary traffic for jukebox in prod to 35%',
      before: { percent: null },
      after: { percent: 35 },
      diff: null,
      steps: j.steps,
      followStatus: 'proposed',
      follow: [],
    });
    assert.equal(j.steps.length, 2);
    assert.match(j.steps[1], /^pushed canary\/prod-jukebox-35 to origin for a pull request into main$/);

    const sb2 = sandbox();
    const c2 = sb2.clone('c');
    const env2 = useForgeUrl(sb2, c2, 'git@git.corp.example:team/gitops.git');
    const u = JSON.parse((await runCli(['promote', 'jukebox', '--env', 'test', '--pull-request', '--json'], c2, env2)).stdout);
    assert.deepEqual(
      [u.branch, u.url, u.proposal.branch, u.proposal.url, u.proposal.forge],
      ['canary/test-jukebox-promote', null, 'canary/test-jukebox-promote', null, null],
    );
    assert.match(
      u.proposal.hint,
      /^Open a pull request from canary\/test-jukebox-promote into main on your git server \(git\.corp\.example is not a known forge/,
    );
    assert.deepEqual([u.before, u.after], [{ percent: 10 }, { percent: null }]);
  });
});

describe('protected main: the push is refused, the CLI says so and prints the exact --pull-request command', () => {
  const REFUSALS: [string, string, string[]][] = [
    [
      'GitHub (GH006)',
      'https://github.com/org/gitops.git',
      ['error: GH006: Protected branch update failed for refs/heads/main.', 'error: Changes must be made through a pull request.'],
    ],
    ['GitLab', 'git@gitlab.com:group/sub/gitops.git', ['GitLab: You are not allowed to push code to protected branches on this project.']],
  ];
  for (const [name, url, lines] of REFUSALS) {
    it(`${name}: exit 1, the clone and the remote as they were, and the hinted command proposes it`, async () => {
      const sb = sandbox();
      const c = sb.clone('c');
      const env = useForgeUrl(sb, c, url);
      protectMain(sb, lines);
      makeBusy(c);
      const before = cloneState(c);
      const mainBefore = head(sb.remote, 'main');

      const r = await runCli(['set', 'jukebox', '35', '--env', 'prod'], c, env);

      assert.equal(r.code, 1, r.stdout);
      const err = r.stderr.trimEnd().split('\n');
      assert.equal(err.length, 2, r.stderr);
      assert.equal(
        err[0],
        `error: origin/main is protected and takes changes only through pull requests. The remote refused the push: the branch is protected (${lines[0]!.replace(/^error: /, '')}). Nothing was pushed; the commit was taken back and ${PROD_CONFIG_REL} is as it was.`,
      );
      assert.equal(err[1], 'hint: Propose it as a pull request instead: kserve-canary set jukebox 35 --env prod --pull-request');
      assert.equal(head(sb.remote, 'main'), mainBefore);
      assert.deepEqual(remoteBranches(sb.remote), ['refs/heads/main']);
      assert.deepEqual(cloneState(c), before, 'nothing lost: the local commit taken back, the busy tree as it was');

      const retry = err[1]!.replace(/^hint: Propose it as a pull request instead: kserve-canary /, '').split(' ');
      const p = await runCli(retry, c, env);
      assert.equal(p.code, 0, p.stderr);
      assertOneProposal(sb, BRANCH, mainBefore, PROD_CONFIG_REL, PROPOSED);
      assert.match(
        p.stdout,
        /\nOpen the pull request: https:\/\/(github\.com\/org\/gitops\/compare\/main\.\.\.canary\/prod-jukebox-35\?expand=1|gitlab\.com\/group\/sub\/gitops\/-\/merge_requests\/new\?\S+canary%2Fprod-jukebox-35\S*)\n$/,
      );
      assert.deepEqual(cloneState(c), before);
    });
  }
});
