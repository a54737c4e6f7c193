/** Shared by the CLI and use-case tests: main() in-process with captured output, and sandboxes removed after the file. */
import { after } from 'node:test';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { makeSandbox, testGitEnv, type Sandbox } from '../core/git-helpers';

export async function runCli(argv: string[], cwd: string, env: NodeJS.ProcessEnv = testGitEnv()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    cwd,
    env,
    signal: new AbortController().signal,
    isTTY: false,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** A bare-remote sandbox (test/core/git-helpers.ts) cleaned up when the test file ends. */
export function sandboxFactory(): (files?: Record<string, string>) => Sandbox {
  const made: Sandbox[] = [];
  after(() => made.forEach((s) => s.cleanup()));
  return (files) => {
    const s = makeSandbox(files);
    made.push(s);
    return s;
  };
}
