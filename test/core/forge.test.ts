/**
 * forge.ts: remote URLs taken apart (ssh, scp-like, ssh over port 443, https with credentials and ports), the
 * forge of a host (known, mapped by forgeHosts, by first label, unknown), and each forge's
 * new-pull-request page with the branch and base percent-encoded; the CLI's
 * $KSERVE_CANARY_FORGE_HOSTS read by parseForgeHosts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forgeOf, newProposalUrl, parseForgeHosts, parseRemoteUrl, proposalLink } from '../../src/core/forge';

const BRANCH = 'canary/test-jukebox-35';

describe('parseRemoteUrl', () => {
  const cases: [string, { host: string; path: string; scheme?: string } | undefined][] = [
    ['git@github.com:acme/gitops.git', { host: 'github.com', path: 'acme/gitops' }],
    ['git@gitlab.example.com:platform/ml/gitops.git', { host: 'gitlab.example.com', path: 'platform/ml/gitops' }],
    ['ssh://git@gitlab.example.com:2222/platform/ml/gitops.git', { host: 'gitlab.example.com', path: 'platform/ml/gitops' }],
    ['ssh://GIT@GitHub.COM/acme/gitops', { host: 'github.com', path: 'acme/gitops' }],
    ['https://user:s3cret@github.com/acme/gitops.git', { host: 'github.com', path: 'acme/gitops' }],
    ['https://git.example.com:8443/team/gitops.git/', { host: 'git.example.com:8443', path: 'team/gitops' }],
    ['http://gitea.local/team/gitops', { host: 'gitea.local', path: 'team/gitops', scheme: 'http' }],
    ['git://codeberg.org/team/gitops.git', { host: 'codeberg.org', path: 'team/gitops' }],
    ['ssh://git@ssh.github.com:443/acme/gitops.git', { host: 'github.com', path: 'acme/gitops' }],
    ['ssh://git@altssh.gitlab.com:443/platform/ml/gitops.git', { host: 'gitlab.com', path: 'platform/ml/gitops' }],
    ['git@altssh.bitbucket.org:ws/gitops.git', { host: 'bitbucket.org', path: 'ws/gitops' }],
    ['https://ssh.github.com/acme/gitops.git', { host: 'ssh.github.com', path: 'acme/gitops' }],
    ['/srv/git/gitops.git', undefined],
    ['file:///srv/git/gitops.git', undefined],
    ['C:/repos/gitops', undefined],
    ['https://github.com/', undefined],
    ['https://github.com/acme/../etc', undefined],
  ];
  for (const [url, want] of cases) {
    it(url, () => {
      const got = parseRemoteUrl(url);
      if (!want) return assert.equal(got, undefined);
      assert.ok(got, 'parsed');
      assert.equal(got.host, want.host);
      assert.equal(got.path, want.path);
      assert.equal(got.scheme, want.scheme ?? 'https');
      assert.doesNotMatch(JSON.stringify(got), /s3cret|user/);
    });
  }
});

describe('forgeOf', () => {
  const at = (url: string, hosts?: Record<string, string>) => forgeOf(parseRemoteUrl(url)!, hosts);
  it('knows the public forges', () => {
    assert.equal(at('git@github.com:a/b.git'), 'github');
    assert.equal(at('https://gitlab.com/a/b/c.git'), 'gitlab');
    assert.equal(at('git@bitbucket.org:ws/b.git'), 'bitbucket');
    assert.equal(at('https://codeberg.org/a/b.git'), 'gitea');
  });
  it('guesses only from a first label that names a forge', () => {
    assert.equal(at('git@gitlab.corp.example:a/b.git'), 'gitlab');
    assert.equal(at('https://forgejo.corp.example/a/b.git'), 'gitea');
    assert.equal(at('https://git.corp.example/a/b.git'), undefined);
    assert.equal(at('https://mygitlab.corp.example/a/b.git'), undefined);
  });
  it('forgeHosts maps self-hosted hosts (host:port first, case-insensitive) and wins over a guess', () => {
    assert.equal(at('https://git.corp.example/a/b.git', { 'Git.Corp.Example': 'gitlab' }), 'gitlab');
    assert.equal(at('https://git.corp.example:8443/a/b.git', { 'git.corp.example:8443': 'bitbucket', 'git.corp.example': 'gitlab' }), 'bitbucket');
    assert.equal(at('https://gitlab.corp.example/a/b.git', { 'gitlab.corp.example': 'forgejo' }), 'gitea');
    assert.equal(at('https://git.corp.example/a/b.git', { 'git.corp.example': 'sourcehut' }), undefined);
  });
});

describe('newProposalUrl', () => {
  it('GitHub: compare with expand', () => {
    assert.equal(
      newProposalUrl('github', parseRemoteUrl('git@github.com:acme/gitops.git')!, BRANCH, 'main'),
      'https://github.com/acme/gitops/compare/main...canary/test-jukebox-35?expand=1',
    );
  });
  it('GitLab: subgroups kept, query encoded', () => {
    assert.equal(
      newProposalUrl('gitlab', parseRemoteUrl('ssh://git@gitlab.example.com:2222/platform/ml/gitops.git')!, BRANCH, 'main'),
      'https://gitlab.example.com/platform/ml/gitops/-/merge_requests/new?merge_request%5Bsource_branch%5D=canary%2Ftest-jukebox-35&merge_request%5Btarget_branch%5D=main',
    );
  });
  it('Gitea/Forgejo: compare, an https port kept', () => {
    assert.equal(
      newProposalUrl('gitea', parseRemoteUrl('https://git.corp.example:3000/team/gitops.git')!, BRANCH, 'release/2.0'),
      'https://git.corp.example:3000/team/gitops/compare/release/2.0...canary/test-jukebox-35',
    );
  });
  it('Bitbucket: pull-requests/new with source and dest', () => {
    assert.equal(
      newProposalUrl('bitbucket', parseRemoteUrl('git@bitbucket.org:ws/gitops.git')!, BRANCH, 'main'),
      'https://bitbucket.org/ws/gitops/pull-requests/new?source=canary%2Ftest-jukebox-35&dest=main',
    );
  });
  it('odd characters in the path and branch are percent-encoded', () => {
    const url = newProposalUrl('github', parseRemoteUrl('https://github.com/acme/git%20ops.git')!, 'canary/a#b', 'main');
    assert.equal(url, 'https://github.com/acme/git%20ops/compare/main...canary/a%23b?expand=1');
  });
});

describe('proposalLink', () => {
  it('never carries credentials into the URL', () => {
    const l = proposalLink('https://oauth2:glpat-XYZ@gitlab.com/g/s/r.git', BRANCH, 'main');
    assert.equal(l.forge, 'gitlab');
    assert.doesNotMatch(l.url ?? '', /glpat|oauth2|@/);
  });
  it('an unknown host gets no URL and a one-line hint naming the branch and the setting', () => {
    const l = proposalLink('git@git.corp.example:team/gitops.git', BRANCH, 'main');
    assert.equal(l.url, undefined);
    assert.equal(l.forge, undefined);
    assert.match(l.hint ?? '', /canary\/test-jukebox-35 into main/);
    assert.match(l.hint ?? '', /forgeHosts.*git\.corp\.example/);
    assert.doesNotMatch(l.hint ?? '', /\n/);
  });
  it('a local-path remote gets a hint too', () => {
    assert.match(proposalLink('/srv/git/gitops.git', BRANCH, 'main').hint ?? '', /no web address/);
  });
});

describe('parseForgeHosts', () => {
  it('reads a JSON object of host (or host:port) to forge, lower-cased; blank is none', () => {
    assert.deepEqual(parseForgeHosts('{" Git.Corp.Example ": "GitLab", "git.corp.example:8443": "forgejo"}'), {
      'git.corp.example': 'gitlab',
      'git.corp.example:8443': 'forgejo',
    });
    assert.equal(parseForgeHosts(undefined), undefined);
    assert.equal(parseForgeHosts('  '), undefined);
    const hosts = parseForgeHosts('{"git.corp.example": "forgejo"}');
    assert.equal(proposalLink('git@git.corp.example:t/g.git', BRANCH, 'main', hosts).url, 'https://git.corp.example/t/g/compare/main...canary/test-jukebox-35');
  });
  it('refuses what is not such an object, naming the source and the entry', () => {
    assert.throws(() => parseForgeHosts('{x'), /KSERVE_CANARY_FORGE_HOSTS is not JSON/);
    assert.throws(() => parseForgeHosts('"gitlab"', 'forgeHosts'), /^CanaryError: forgeHosts is not a JSON object/);
    assert.throws(() => parseForgeHosts('{"a.example": 3}'), /"3" for a\.example is not a forge/);
    assert.throws(() => parseForgeHosts('{"a.example/x": "gitlab"}'), /"a\.example\/x" is not a host name/);
  });
});
