/** An in-memory CliIO for running main() in-process, with an empty HOME and no kubeconfig of the user. */
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliIO } from '../../src/cli/command';

export function memoryIO(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIO = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    cwd: os.tmpdir(),
    env: { HOME: path.join(os.tmpdir(), 'ksc-no-home'), PATH: process.env.PATH, ...env },
    signal: new AbortController().signal,
    isTTY: false,
  };
  return { io: value, out: () => out.join(''), err: () => err.join('') };
}
