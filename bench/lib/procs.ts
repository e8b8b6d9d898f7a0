// SPDX-License-Identifier: MIT
// Every process the bench starts, and how it ends them: by pid or process
// group, never by name. Each trial puts a random token in its writers'
// environment (TOKEN_VAR); strays are the live processes whose
// /proc/<pid>/environ holds it, and they are killed by those pids.
// Cleanup runs even when a trial fails: try/finally in the trial, and
// atExit() hooks on process exit, SIGINT and SIGTERM.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { now } from './measure.js';

export const TOKEN_VAR = 'FASTVISOR_BENCH_TOKEN';

export function newToken(): string {
  return randomBytes(12).toString('hex');
}

// ---- exit hooks ------------------------------------------------------------

const hooks: Array<() => void> = [];
let hooked = false;

function runHooks(): void {
  while (hooks.length) {
    const fn = hooks.pop()!;
    try {
      fn();
    } catch {
      // keep going: the others still need to run
    }
  }
}

/** Runs fn (synchronously) when this process exits, however it exits. Returns an unregister function. */
export function atExit(fn: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.on('exit', runHooks);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(sig, () => {
        runHooks();
        process.exit(sig === 'SIGINT' ? 130 : 143);
      });
    }
  }
  hooks.push(fn);
  return () => {
    const i = hooks.indexOf(fn);
    if (i >= 0) hooks.splice(i, 1);
  };
}

// ---- polling ---------------------------------------------------------------

export class TimeoutError extends Error {}

/** Calls fn every interval ms until it returns something other than undefined/false, or throws after timeout ms. */
export async function pollUntil<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeout: number; interval?: number; what: string },
): Promise<T> {
  const deadline = now() + opts.timeout;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (now() > deadline) throw new TimeoutError(`timed out after ${opts.timeout} ms waiting for ${opts.what}`);
    await sleep(opts.interval ?? 20);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// ---- pids ------------------------------------------------------------------

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie answers kill(0) but is gone for our purposes.
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // already gone
  }
}

/** Signals a process and the process group it leads. */
export function killGroup(pid: number, sig: NodeJS.Signals = 'SIGKILL'): void {
  signal(-pid, sig);
  signal(pid, sig);
}

/** Live processes (not zombies) whose environment holds TOKEN_VAR=token. */
export function pidsWithToken(token: string): number[] {
  const needle = Buffer.from(`${TOKEN_VAR}=${token}\0`);
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let env: Buffer;
    try {
      env = readFileSync(`/proc/${name}/environ`);
    } catch {
      continue;
    }
    if (env.includes(needle) && isAlive(pid)) out.push(pid);
  }
  return out;
}

/** SIGKILLs every process carrying the token, by pid, until none is left. Returns how many there were. */
export async function killStrays(token: string, timeout = 10_000): Promise<number> {
  const first = pidsWithToken(token);
  if (first.length === 0) return 0;
  for (const pid of first) killGroup(pid);
  await pollUntil(
    () => {
      const left = pidsWithToken(token);
      for (const pid of left) killGroup(pid);
      return left.length === 0;
    },
    { timeout, interval: 50, what: `${first.length} stray processes to die` },
  );
  return first.length;
}

export function killStraysSync(token: string): void {
  for (const pid of pidsWithToken(token)) killGroup(pid);
}

// ---- child processes with a line protocol -----------------------------------

/** A child process this trial started: registered for cleanup, stdout read as lines. */
export class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #lines: string[] = [];
  #waiters: Array<() => void> = [];
  #partial = '';
  #stderr = '';
  #unhook: () => void;

  constructor(
    readonly name: string,
    file: string,
    args: string[],
    opts: SpawnOptions & { captureStdout?: boolean },
  ) {
    const capture = opts.captureStdout ?? true;
    this.child = spawn(file, args, {
      ...opts,
      stdio: ['pipe', capture ? 'pipe' : 'ignore', 'pipe'],
      // Its own process group: a Ctrl-C reaches the trial, which then ends it.
      detached: true,
    });
    if (this.child.pid === undefined) throw new Error(`${name}: could not start ${file}`);
    this.pid = this.child.pid;
    const pid = this.pid;
    this.#unhook = atExit(() => killGroup(pid));
    this.child.stdin?.on('error', () => {});
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop()!;
      this.#lines.push(...parts);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    // 'exit' can come before the last stdout data: wait for the end of the
    // stream too, but not for long (a daemonised grandchild may hold it open).
    const stdoutEnded = new Promise<void>((resolve) => {
      if (!this.child.stdout) return resolve();
      this.child.stdout.on('end', () => {
        // a last line without its newline
        if (this.#partial) this.#lines.push(this.#partial);
        this.#partial = '';
        resolve();
      });
      this.child.stdout.on('error', () => resolve());
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', async (code, sig) => {
        await Promise.race([stdoutEnded, sleep(200)]);
        this.exitStatus = { code, signal: sig };
        this.#unhook();
        for (const w of this.#waiters.splice(0)) w();
        resolve(this.exitStatus);
      });
    });
  }

  get stderrTail(): string {
    return this.#stderr.trim();
  }

  /** The next stdout line, or an error when the process exits or the time is up. */
  async nextLine(timeout: number, what: string): Promise<string> {
    const deadline = now() + timeout;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.exitStatus) {
        throw new Error(`${this.name} exited (${JSON.stringify(this.exitStatus)}) while we waited for ${what}: ${this.stderrTail}`);
      }
      const left = deadline - now();
      if (left <= 0) throw new TimeoutError(`${this.name}: timed out after ${timeout} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for a line that starts with word; returns the rest of it. */
  async expect(word: string, timeout: number): Promise<string> {
    const line = await this.nextLine(timeout, `'${word}'`);
    if (line !== word && !line.startsWith(`${word} `)) throw new Error(`${this.name}: expected '${word}', got '${line}'`);
    return line.slice(word.length + 1);
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  closeStdin(): void {
    this.child.stdin?.end();
  }

  /** Waits for the exit; SIGKILLs the process group when the time is up. True if it ended on its own. */
  async waitExit(timeout: number): Promise<boolean> {
    if (this.exitStatus) return true;
    const t = await Promise.race([this.exited.then(() => true), sleep(timeout).then(() => false)]);
    if (!t) {
      killGroup(this.pid);
      await this.exited;
    }
    return t;
  }

  kill(): void {
    killGroup(this.pid);
  }
}
