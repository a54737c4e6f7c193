/**
 * The watch stream's line reader (src/cluster/transport.ts LineBuffer): lines split at any
 * chunk boundary come out whole, UTF-8 split between chunks is decoded right, a line over the
 * limit is reported, and the work is linear: a 32 MB line fed in 16 KiB chunks has each byte
 * scanned for the newline exactly once (the counter, not a clock, is asserted).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineBuffer } from '../../src/cluster/transport';

function feed(buf: LineBuffer, data: Buffer, chunk: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < data.length; i += chunk) {
    const r = buf.push(data.subarray(i, i + chunk));
    assert.equal(r.tooLong, false);
    out.push(...r.lines);
  }
  return out;
}

test('a 32 MB line in 16 KiB chunks: one line, byte-exact, every byte scanned once, nothing held after', () => {
  const size = 32_000_000;
  const body = Buffer.alloc(size, 'a');
  body.write('{"type":"MODIFIED","object":{"x":"', 0, 'latin1');
  body.write('"}}', size - 3, 'latin1');
  const data = Buffer.concat([body, Buffer.from('\n{"small":1}\n')]);
  const buf = new LineBuffer(33 * 1024 * 1024);
  const lines = feed(buf, data, 16 * 1024);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.length, size);
  assert.ok(lines[0] === body.toString('latin1'), 'the long line is byte-exact');
  assert.equal(lines[1], '{"small":1}');
  assert.equal(buf.scanned, data.length, 'each input byte examined exactly once (linear, not quadratic)');
  assert.equal(buf.held, 0);
});

test('lines split at every possible boundary and multi-byte UTF-8 split between chunks come out whole', () => {
  const text = 'ä€𝄞 line one\n\nzwei → 2\r\n{"t":"ü"}\n';
  const data = Buffer.from(text, 'utf8');
  const expected = text.split('\n').slice(0, -1);
  for (const chunk of [1, 2, 3, 5, 7, data.length]) {
    const buf = new LineBuffer(1024);
    assert.deepEqual(feed(buf, data, chunk), expected, `chunks of ${chunk} bytes`);
    assert.equal(buf.scanned, data.length);
  }
});

test('an unfinished line is held until its newline; over the limit it is reported, in one chunk or many', () => {
  const buf = new LineBuffer(10);
  assert.deepEqual(buf.push(Buffer.from('abc')), { lines: [], tooLong: false });
  assert.equal(buf.held, 3);
  assert.deepEqual(buf.push(Buffer.from('def\nxy')), { lines: ['abcdef'], tooLong: false });
  assert.equal(buf.held, 2);
  assert.equal(buf.push(Buffer.from('123456789')).tooLong, true, 'held bytes over the limit');

  const one = new LineBuffer(10);
  const r = one.push(Buffer.from('ok\n0123456789AB\nlater\n'));
  assert.deepEqual(r.lines, ['ok'], 'lines before the oversized one are still delivered, none after');
  assert.equal(r.tooLong, true);

  const exact = new LineBuffer(10);
  assert.deepEqual(exact.push(Buffer.from('0123456789\n')), { lines: ['0123456789'], tooLong: false }, 'exactly the limit is fine');
});
