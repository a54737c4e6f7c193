// Child-process helpers shared by start / test scripts: no shell, each long-lived child in
// its own process group, and stop() that leaves no descendant behind.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Parent pid of a process from /proc, or undefined when it is gone. */
function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is parenthesised and may contain spaces; ppid is the 2nd field after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

/** Every live descendant of `pid` (children first found, then theirs). */
export function descendants(pid) {
  const byParent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid === undefined) continue;
    if (!byParent.has(ppid)) byParent.set(ppid, []);
    byParent.get(ppid).push(Number(name));
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of byParent.get(queue.shift()) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0); treat it as gone.
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function signalAll(pids, signal) {
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      /* already gone */
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a process, its process group and every descendant (even ones that left the group,
 * e.g. terminals started with setsid): SIGTERM, then SIGKILL after `graceMs`.
 */
export async function killTree(pid, graceMs = 5000) {
  const found = new Set([pid, ...descendants(pid)]);
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    /* not a group leader or gone */
  }
  signalAll(found, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    for (const p of descendants(pid)) found.add(p);
    if ([...found].every((p) => !alive(p))) return;
    await sleep(100);
  }
  for (const p of descendants(pid)) found.add(p);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  signalAll(found, 'SIGKILL');
  const hard = Date.now() + 3000;
  while (Date.now() < hard && [...found].some(alive)) await sleep(50);
}

/**
 * Starts a long-lived child in its own process group, its output appended to `logFile`
 * (and echoed with `echoPrefix` when given). Returns { child, pid, output(), waitFor(re, ms), stop() }.
 */
export function startProcess(cmd, args, { cwd, env, logFile, echoPrefix, name = cmd } = {}) {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  let text = '';
  const waiters = new Set();
  let exited = null;
  const onData = (chunk) => {
    const s = chunk.toString();
    text += s;
    if (text.length > 1_000_000) text = text.slice(-500_000);
    log?.write(s);
    if (echoPrefix) for (const line of s.split('\n')) if (line.trim()) process.stdout.write(`${echoPrefix}${line}\n`);
    for (const w of waiters) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      for (const w of waiters) w();
      resolve(exited);
    });
    child.on('error', (err) => {
      exited = { code: null, signal: null, error: err };
      text += `\n${err.message}\n`;
      for (const w of waiters) w();
      resolve(exited);
    });
  });
  let stopping;
  return {
    child,
    pid: child.pid,
    name,
    exited: exitPromise,
    output: () => text,
    /** Resolves with the match once `re` appears in the output; rejects on exit or timeout. */
    waitFor(re, timeoutMs, what = String(re)) {
      return new Promise((resolve, reject) => {
        let timer;
        const check = () => {
          const m = text.match(re);
          if (m) {
            done();
            resolve(m);
            return;
          }
          if (exited) {
            done();
            const why = exited.error ? exited.error.message : `exit code ${exited.code ?? exited.signal}`;
            reject(new Error(`${name} stopped (${why}) before ${what}.${logFile ? ` Log: ${logFile}` : ''}\n${tail(text)}`));
          }
        };
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no ${what} within ${Math.round(timeoutMs / 1000)} s.${logFile ? ` Log: ${logFile}` : ''}\n${tail(text)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      stopping ??= (async () => {
        if (!exited && child.pid) await killTree(child.pid);
        else if (child.pid) await killTree(child.pid, 1000); // descendants may outlive the leader
        await Promise.race([exitPromise, sleep(2000)]);
        await new Promise((r) => (log ? log.end(r) : r()));
      })();
      return stopping;
    },
  };
}

function tail(text, lines = 20) {
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `  | ${l}`)
    .join('\n');
}

/** Runs a command to completion (no shell), output to `logFile` / echoed; resolves with { code, output }. */
export function runCommand(cmd, args, { cwd, env, logFile, echo = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
    let text = '';
    const onData = (c) => {
      text += c.toString();
      log?.write(c);
      if (echo) process.stdout.write(c);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => {
      text += err.message;
    });
    child.on('close', (code, signal) => {
      const finish = () => resolve({ code: code ?? (signal ? 1 : 0), output: text });
      if (log) log.end(finish);
      else finish();
    });
  });
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** True when something already listens on 127.0.0.1:port. */
export function portInUse(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Polls `fn` until it returns a truthy value; rejects with `what` after `timeoutMs`. */
export async function pollUntil(fn, timeoutMs, what, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(intervalMs);
  }
}

export { sleep };

/** True when `tool` is an executable file in a folder of PATH. */
export function onPath(tool) {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, tool)));
}

/**
 * Safety net after a child died without cleaning up: stops every process whose command line
 * mentions `marker` (a run folder), with its descendants. Returns how many it found.
 */
export async function killProcessesMentioning(marker) {
  const found = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) found.push(Number(name));
    } catch {
      /* gone */
    }
  }
  for (const pid of found) await killTree(pid, 2000);
  return found.length;
}
