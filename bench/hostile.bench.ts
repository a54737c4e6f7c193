/**
 * Hostile data, same run, ratios (issue 12 §2):
 *  (a) the watch line reader on one long line fed in 16 KiB chunks: the previous reader
 *      (append to one string, search it again from the start on every chunk) vs LineBuffer,
 *      at 1, 2, 4 and 32 MB (the old one only up to 4 MB: it is quadratic, ~16 s at 8 MB), and
 *      LineBuffer vs the floor, joining and decoding the same bytes once;
 *  (b) refusing a 40 MB config.yaml (modelConfigPath: lstat/realpath/stat) vs merely reading
 *      its bytes once (what any parse would have to do first).
 * Writes JSON to $KSC_BENCH_OUT.   npm run bench -- hostile
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LineBuffer } from '../src/cluster/transport';
import { modelConfigPath } from '../src/core/layout';

const CHUNK = 16 * 1024;
const r2 = (x: number) => Math.round(x * 100) / 100;

/** The reader before issue 12: one growing string, searched from 0 after every chunk. */
function oldReader(chunks: string[]): number {
  let buf = '';
  let lines = 0;
  for (const c of chunks) {
    buf += c;
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf('\n', start)) >= 0) {
      lines++;
      start = nl + 1;
    }
    buf = start > 0 ? buf.slice(start) : buf;
  }
  return lines;
}

function newReader(chunks: Buffer[]): number {
  const lb = new LineBuffer(64 * 1024 * 1024);
  let lines = 0;
  for (const c of chunks) lines += lb.push(c).lines.length;
  return lines;
}

function best(reps: number, f: () => void): number {
  let min = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

function lineChunks(bytes: number): { str: string[]; buf: Buffer[] } {
  const data = Buffer.alloc(bytes, 'a');
  data[bytes - 1] = 0x0a;
  const buf: Buffer[] = [];
  for (let i = 0; i < bytes; i += CHUNK) buf.push(data.subarray(i, i + CHUNK));
  return { buf, str: buf.map((b) => b.toString('latin1')) };
}

async function main(): Promise<void> {
  const reader: Record<string, unknown>[] = [];
  for (const mb of [1, 2, 4, 32]) {
    const { str, buf } = lineChunks(mb * 1_000_000);
    const newMs = best(5, () => newReader(buf));
    // the floor: joining and decoding the same bytes once
    const joinMs = best(5, () => void Buffer.concat(buf).toString('utf8'));
    const oldMs = mb <= 4 ? best(2, () => oldReader(str)) : undefined;
    reader.push({
      mb,
      newMs: r2(newMs),
      joinMs: r2(joinMs),
      newOverJoin: r2(newMs / joinMs),
      oldMs: oldMs === undefined ? null : r2(oldMs),
      oldOverNew: oldMs === undefined ? null : r2(oldMs / newMs),
    });
    console.log(
      `line of ${mb} MB in 16 KiB chunks: LineBuffer ${r2(newMs)} ms (×${r2(newMs / joinMs)} one join+decode)${oldMs === undefined ? '' : `, previous reader ${r2(oldMs)} ms (×${r2(oldMs / newMs)})`}`,
    );
  }

  const root = mkdtempSync(path.join(os.tmpdir(), 'ksc-bench-hostile-'));
  try {
    const file = path.join(root, 'model-deployments/test/big/config.yaml');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, Buffer.alloc(40_000_000, 'a'));
    const refuse = () => {
      try {
        modelConfigPath(root, 'test', 'big');
      } catch {
        return;
      }
      throw new Error('not refused');
    };
    const refuseMs = best(20, refuse);
    let readMs = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await readFile(file);
      readMs = Math.min(readMs, performance.now() - t0);
    }
    console.log(
      `40 MB config.yaml: refused in ${r2(refuseMs)} ms; reading its bytes once takes ${r2(readMs)} ms (×${Math.round(readMs / refuseMs)} the refusal)`,
    );
    const out = { reader, config40mb: { refuseMs: r2(refuseMs), readMs: r2(readMs), readOverRefuse: Math.round(readMs / refuseMs) } };
    if (process.env.KSC_BENCH_OUT) writeFileSync(process.env.KSC_BENCH_OUT, `${JSON.stringify(out, null, 2)}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

void main();
