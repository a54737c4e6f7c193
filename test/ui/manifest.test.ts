// The UI half of package.json: commands, menus, views, settings, walkthrough, trust.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMAND_IDS, VIEW_ID } from '../../src/ui/ids';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const c = pkg.contributes;
const WRITE = [
  'kserveCanary.setTraffic',
  'kserveCanary.promote',
  'kserveCanary.rollback',
  'kserveCanary.sendTraffic',
  'kserveCanary.startRollout',
  'kserveCanary.followProposal',
];

test('commands: exact titles, one category', () => {
  assert.deepEqual(
    c.commands.map((x: { title: string }) => x.title),
    [
      'Set canary traffic',
      'Promote canary',
      'Roll back canary',
      'Open Grafana dashboard',
      'Open config.yaml',
      'Refresh',
      'Select kubeconfig',
      'Select context',
      'Pin to status bar',
      'Unpin from status bar',
      'Start sandbox',
      'Stop sandbox',
      'Show log',
      'Send test traffic',
      'Start progressive rollout',
      'Open canary dashboard',
      'Follow proposal',
    ],
  );
  for (const x of c.commands) assert.equal(x.category, 'KServe Canary', x.command);
});

test('the commands activate() registers are exactly the contributed ones; the view id matches', () => {
  assert.deepEqual(
    [...COMMAND_IDS],
    c.commands.map((x: { command: string }) => x.command),
  );
  assert.equal(c.views.kserveCanary[0].id, VIEW_ID);
});

test('menus name only contributed commands; writing commands need a trusted workspace everywhere', () => {
  const ids = new Set(c.commands.map((x: { command: string }) => x.command));
  for (const [menu, items] of Object.entries(c.menus) as [string, { command: string; when?: string }[]][]) {
    for (const it of items) assert.ok(ids.has(it.command), `${menu}: ${it.command}`);
    // Every menu, the command palette included: a writing command is offered only when trusted.
    for (const it of items.filter((i) => WRITE.includes(i.command))) assert.match(it.when ?? '', /isWorkspaceTrusted/, `${menu}: ${it.command}`);
  }
});

test('row menus: promote only on split rows, roll back and set on every canary row', () => {
  const when = (cmd: string) => (c.menus['view/item/context'] as { command: string; when: string }[]).filter((i) => i.command === cmd).map((i) => i.when);
  for (const w of when('kserveCanary.promote')) assert.match(w, /\\\.split/);
  for (const cmd of ['kserveCanary.rollback', 'kserveCanary.setTraffic'])
    for (const w of when(cmd)) assert.ok(w.includes('viewItem =~ /^service\\.canary\\./'), `${cmd}: ${w}`);
});

test('"Follow proposal" is offered on a proposal row nothing follows yet, not on one being followed', () => {
  const whens = (c.menus['view/item/context'] as { command: string; when: string }[])
    .filter((i) => i.command === 'kserveCanary.followProposal')
    .map((i) => i.when);
  assert.ok(whens.length >= 1);
  for (const w of whens) assert.match(w, /viewItem == proposal &&/, w);
});

test('welcome content for each state the view can be in without rows', () => {
  const states = c.viewsWelcome.map((w: { when: string }) => /kserveCanary\.state == ([a-z-]+)/.exec(w.when)?.[1]);
  for (const s of ['loading', 'no-gitops', 'no-kubeconfig', 'invalid-settings', 'unreachable', 'unauthorized', 'ok']) assert.ok(states.includes(s), s);
  for (const w of c.viewsWelcome) {
    assert.equal(w.view, 'kserveCanary.deployments');
    for (const m of (w.contents as string).matchAll(/\(command:([a-zA-Z.]+)/g)) {
      const id = m[1]!;
      assert.ok(
        id.startsWith('kserveCanary.')
          ? c.commands.some((x: { command: string }) => x.command === id)
          : ['vscode.openFolder', 'workbench.action.openSettings'].includes(id),
        id,
      );
    }
  }
});

test('every setting has a markdown description and a default', () => {
  const props = c.configuration.properties as Record<string, { markdownDescription?: string; default?: unknown }>;
  for (const k of [
    'gitopsRoot',
    'deploymentsDir',
    'environments',
    'namespacePattern',
    'user',
    'toolingsNamespace',
    'kubeconfig',
    'context',
    'grafanaUrlTemplate',
    'grafanaDashboardUid',
    'commitMessageTemplate',
    'pushMode',
    'confirmEnvironments',
    'followTimeoutSeconds',
    'statusBar.visible',
    'prometheus.url',
    'prometheus.useKubeconfigToken',
    'traffic.payload',
    'rollout.steps',
    'rollout.pause',
    'rollout.maxErrorRate',
  ]) {
    const p = props[`kserveCanary.${k}`];
    assert.ok(p, k);
    assert.ok(p.markdownDescription && p.markdownDescription.length > 20, k);
    assert.ok('default' in p, k);
  }
  assert.deepEqual(props['kserveCanary.confirmEnvironments']!.default, ['prod']);
});

test('untrusted workspaces: limited support, connection and URL settings restricted', () => {
  const u = pkg.capabilities.untrustedWorkspaces;
  assert.equal(u.supported, 'limited');
  // Every setting that chooses the cluster, a namespace, a host or a URL (issue 12 §5).
  const CHOOSERS = [
    'kubeconfig',
    'context',
    'gitopsRoot',
    'environments',
    'namespacePattern',
    'user',
    'toolingsNamespace',
    'grafanaUrlTemplate',
    'grafanaDashboardUid',
    'prometheus.url',
    'prometheus.useKubeconfigToken',
    'traffic.payload',
    'forgeHosts',
  ].map((k) => `kserveCanary.${k}`);
  assert.deepEqual([...u.restrictedConfigurations].sort(), [...CHOOSERS].sort());
  const props = c.configuration.properties as Record<string, { markdownDescription: string }>;
  for (const k of u.restrictedConfigurations as string[]) assert.ok(props[k], `${k} is a contributed setting`);
  // Any setting whose description speaks of a namespace, host or URL is in the list.
  for (const [k, p] of Object.entries(props)) {
    if (
      /namespace|\burl\b|host|kubeconfig|context/i.test(p.markdownDescription) &&
      !['kserveCanary.deploymentsDir', 'kserveCanary.statusBar.visible', 'kserveCanary.rollout.maxErrorRate'].includes(k)
    ) {
      assert.ok(u.restrictedConfigurations.includes(k), `${k} speaks of a namespace/host/URL but is not restricted`);
    }
  }
  assert.match(u.description, /namespace/);
  assert.match(u.description, /Grafana/);
});

test('what users of extensions expect: workspace extension kind, Stop sandbox / Unpin, a CHANGELOG, no fake repository', () => {
  assert.deepEqual(pkg.extensionKind, ['workspace']);
  if (pkg.repository !== undefined) {
    const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository.url;
    assert.doesNotMatch(String(url), /\.invalid\b|example\./, 'a repository that is real or absent');
  }
  assert.match(pkg.scripts.package, /--allow-missing-repository/);
  assert.match(readFileSync(path.join(root, 'scripts', 'lib', 'package.mjs'), 'utf8'), /'--allow-missing-repository'/);
  const changelog = readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8');
  assert.match(changelog, /^# Changelog/);
  assert.match(changelog, /^## \[Unreleased\]/m);
  assert.match(changelog, new RegExp(`^## \\[${pkg.version.replace(/\./g, '\\.')}\\]`, 'm'));
  assert.match(readFileSync(path.join(root, '.vscodeignore'), 'utf8'), /^!CHANGELOG\.md$/m, 'shipped in the .vsix');
  const when = (menu: string, cmd: string) => (c.menus[menu] as { command: string; when?: string }[]).filter((i) => i.command === cmd).map((i) => i.when ?? '');
  assert.deepEqual(when('view/title', 'kserveCanary.stopSandbox'), ['view == kserveCanary.deployments && kserveCanary.sandboxRunning']);
  assert.deepEqual(when('commandPalette', 'kserveCanary.stopSandbox'), ['kserveCanary.sandboxRunning']);
  assert.deepEqual(when('commandPalette', 'kserveCanary.unpin'), ['kserveCanary.hasPin']);
  const unpinRow = when('view/item/context', 'kserveCanary.unpin');
  assert.equal(unpinRow.length, 1);
  // The row regex matches the pinned row's contextValue only.
  const re = new RegExp(/viewItem =~ \/(.*)\/$/.exec(unpinRow[0]!)![1]!);
  assert.ok(re.test('service.canary.live.split.pinned') && re.test('service.nocanary.unknown.missing.pinned'));
  assert.ok(!re.test('service.canary.live.split') && !re.test('environment'));
});

test('lazy activation; icons and walkthrough media exist', () => {
  assert.ok(!pkg.activationEvents.includes('*') && !pkg.activationEvents.includes('onStartupFinished'));
  assert.ok(pkg.activationEvents.includes('onView:kserveCanary.deployments'));
  assert.ok(pkg.activationEvents.includes('workspaceContains:model-deployments/*/*/config.yaml'));
  for (const f of [pkg.icon, c.viewsContainers.activitybar[0].icon]) assert.ok(existsSync(path.join(root, f)), f);
  assert.match(readFileSync(path.join(root, c.viewsContainers.activitybar[0].icon), 'utf8'), /currentColor/);
  const png = readFileSync(path.join(root, pkg.icon));
  assert.equal(png.readUInt32BE(16), 128);
  assert.equal(png.readUInt32BE(20), 128);
  const steps = c.walkthroughs[0].steps;
  assert.equal(steps.length, 3);
  for (const s of steps) assert.ok(existsSync(path.join(root, s.media.markdown)), s.media.markdown);
});

test('rollout and traffic settings: no plain-text token setting; the rollout command sits on canary rows', () => {
  const props = Object.keys(c.configuration.properties as Record<string, unknown>);
  assert.ok(!props.some((k) => /token/i.test(k) && k !== 'kserveCanary.prometheus.useKubeconfigToken'), props.join(', '));
  assert.equal((c.configuration.properties as Record<string, { default: unknown }>)['kserveCanary.prometheus.useKubeconfigToken']!.default, true);
  const rows = (c.menus['view/item/context'] as { command: string; when: string }[]).filter((i) => i.command === 'kserveCanary.startRollout');
  assert.ok(rows.length > 0);
  for (const r of rows) assert.ok(r.when.includes('viewItem =~ /^service\\.canary\\./') && r.when.includes('isWorkspaceTrusted'), r.when);
});

test('Open canary dashboard: inline and in the context menu of service rows that exist, in the palette, restored by its activation event', () => {
  const rows = (c.menus['view/item/context'] as { command: string; when: string; group: string }[]).filter((i) => i.command === 'kserveCanary.openDashboard');
  assert.deepEqual(rows.map((r) => r.group.split('@')[0]).sort(), ['2_open', 'inline']);
  for (const r of rows) {
    const re = new RegExp(/viewItem =~ \/(.*)\/$/.exec(r.when)![1]!);
    assert.ok(re.test('service.canary.live.split'), r.when);
    assert.ok(re.test('service.nocanary.unsupported.pinned'), r.when);
    assert.ok(!re.test('service.canary.unknown.missing'), `${r.when}: not on a row only git knows`);
    assert.ok(!re.test('traffic'), r.when);
  }
  assert.deepEqual(
    (c.menus.commandPalette as { command: string; when: string }[]).filter((i) => i.command === 'kserveCanary.openDashboard').map((i) => i.when),
    ['kserveCanary.hasGitops'],
  );
  assert.ok(pkg.activationEvents.includes('onWebviewPanel:kserveCanary.dashboard'));
  const ignore = readFileSync(path.join(root, '.vscodeignore'), 'utf8');
  assert.match(ignore, /^!dist\/webview\/dashboard\.js$/m, 'the webview bundle ships in the .vsix');
  assert.match(ignore, /^!dist\/webview\/dashboard\.css$/m);
});
