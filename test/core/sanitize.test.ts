/**
 * src/core/sanitize.ts, the one boundary for outside text: each target against the hostile
 * strings of issue 12 (command links, bare URLs, icon references, OSC 8, screen clears, title
 * changes, carriage-return overwrites, C1 CSI, DEL, bidi overrides), plus the promises that keep
 * ordinary text readable and JSON output exact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { labelText, markdownText, notificationText, terminalText } from '../../src/core/sanitize';

export const HOSTILE = {
  commandLink: '[Open the troubleshooting guide](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)',
  httpsLink: '[docs](https://evil.example/x "title")',
  bareUrl: 'see https://evil.example/x now',
  icon: '$(debug-alt) fake',
  osc8: '\x1b]8;;http://x\x07label\x1b]8;;\x07',
  clear: '\x1b[2J',
  title: '\x1b]0;title\x07',
  overwrite: 'all good\rFAILED',
  c1: '\x9b31mred',
  del: 'a\x7fb',
  bidi: 'safe\u202eexe.txt',
} as const;

/** Every character a terminal may act on instead of showing (newline and tab aside). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TERMINAL_ACTS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
/** VS Code's notification link form: `[label](scheme:…)`. */
const NOTIFICATION_LINK = /\[[^\]]+\]\((?:https?:|command:|file:|vscode:)/i;

describe('notificationText', () => {
  it('leaves no link a notification would render, and keeps what it said readable', () => {
    const out = notificationText(`Sync failed: ${HOSTILE.commandLink}`);
    assert.doesNotMatch(out, NOTIFICATION_LINK);
    assert.equal(out, 'Sync failed: [Open the troubleshooting guide] (command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)');
    assert.doesNotMatch(notificationText(HOSTILE.httpsLink), NOTIFICATION_LINK);
    assert.doesNotMatch(notificationText('[x]  \n(command:a)'), /\]\(/);
  });

  it('bare URLs stay plain text; ordinary messages are unchanged', () => {
    assert.equal(notificationText(HOSTILE.bareUrl), HOSTILE.bareUrl);
    const plain = 'jukebox · test: pushed 1a2b3c4 (Set canary traffic for jukebox in test to 20%); waiting for Argo CD… [y/N] (see log)';
    assert.equal(notificationText(plain), plain);
  });

  it('one line: \\r, \\n and tabs become spaces; controls and bidi overrides U+FFFD', () => {
    assert.equal(notificationText(HOSTILE.overwrite), 'all good FAILED');
    assert.equal(notificationText('a\r\nb\tc'), 'a b c');
    assert.equal(notificationText(HOSTILE.clear), '\ufffd[2J');
    assert.equal(notificationText(HOSTILE.bidi), 'safe\ufffdexe.txt');
    assert.doesNotMatch(notificationText(HOSTILE.osc8 + HOSTILE.c1 + HOSTILE.del), TERMINAL_ACTS);
  });
});

describe('terminalText', () => {
  it('writes every escape, control, C1, DEL and bidi character as a visible \\uXXXX', () => {
    assert.equal(terminalText(HOSTILE.osc8), '\\u001b]8;;http://x\\u0007label\\u001b]8;;\\u0007');
    assert.equal(terminalText(HOSTILE.clear), '\\u001b[2J');
    assert.equal(terminalText(HOSTILE.title), '\\u001b]0;title\\u0007');
    assert.equal(terminalText(HOSTILE.overwrite), 'all good\\u000dFAILED');
    assert.equal(terminalText(HOSTILE.c1), '\\u009b31mred');
    assert.equal(terminalText(HOSTILE.del), 'a\\u007fb');
    assert.equal(terminalText(HOSTILE.bidi), 'safe\\u202eexe.txt');
  });

  it('keeps newlines, tabs, unicode text and tables as they are', () => {
    const table = 'ENV   NAME\ttest  jukebox · 80/20 → 50% ✓ 日本\n';
    assert.equal(terminalText(table), table);
  });

  it('no output of any input holds a character the terminal acts on (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => !TERMINAL_ACTS.test(terminalText(s))));
  });

  it('JSON text stays exact JSON of the same value, whatever the strings held (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' })), (values) => {
        const json = JSON.stringify({ values }, null, 2);
        const safe = terminalText(json);
        return !TERMINAL_ACTS.test(safe) && JSON.stringify(JSON.parse(safe)) === JSON.stringify({ values });
      }),
    );
  });
});

describe('markdownText', () => {
  it('escapes link, HTML and emphasis syntax', () => {
    const out = markdownText(HOSTILE.commandLink);
    assert.doesNotMatch(out, /(^|[^\\])\[/);
    assert.doesNotMatch(out, /(^|[^\\])\]\(/);
    assert.equal(markdownText('<img src=x onerror=alert(1)> *b* _i_ `c`'), '\\<img src\\=x onerror\\=alert\\(1\\)\\> \\*b\\* \\_i\\_ \\`c\\`');
  });

  it('no autolinks: the scheme colon, www. and e-mail @ are escaped', () => {
    assert.equal(markdownText('https://evil.example/x'), 'https\\://evil\\.example/x');
    assert.equal(markdownText('www.evil.example'), 'www\\.evil\\.example');
    assert.equal(markdownText('ops@evil.example'), 'ops\\@evil\\.example');
  });

  it('\\r, \\r\\n and \\n all become one space; controls U+FFFD; icons are plain', () => {
    assert.equal(markdownText('a\rb\r\nc\nd'), 'a b c d');
    assert.equal(markdownText(`${HOSTILE.clear}${HOSTILE.del}`), '\ufffd\\[2Ja\ufffdb');
    assert.equal(markdownText(HOSTILE.icon), '\\$\\(debug\\-alt\\) fake');
  });

  it('every ASCII punctuation in the output is escaped: nothing is markup (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii' }), (s) => {
        const out = markdownText(s);
        // Unescaped: drop each `\x` pair, then no markdown-significant character may remain.
        return !/[\r\n]/.test(out) && !/[`*_{}[\]()#+\-.!|<>~$&:@\\]/.test(out.replace(/\\[\s\S]/g, ''));
      }),
    );
  });
});

describe('labelText', () => {
  it('escapes $(icon) references so they show literally', () => {
    assert.equal(labelText(HOSTILE.icon), '\\$(debug-alt) fake');
    assert.equal(labelText('$(sync~spin) $(x) $5 $(not an icon)'), '\\$(sync~spin) \\$(x) $5 $(not an icon)');
    assert.equal(labelText('\\$(pass)'), '\\\\$(pass)');
  });

  it('one line, controls U+FFFD; ordinary labels unchanged', () => {
    assert.equal(labelText('jukebox\r\nprod'), 'jukebox prod');
    assert.equal(labelText(`a${HOSTILE.c1}`), 'a\ufffd31mred');
    assert.equal(labelText('test · prev 80% · latest 20%'), 'test · prev 80% · latest 20%');
  });
});
