// SPDX-License-Identifier: MIT
// Compares fastvisor's supervisorctl with Python's: both run the same command lines
// against the same daemon, and their stdout, stderr and exit status are compared
// after masking what legitimately differs between two runs (pids, uptimes, times).
// Every comparison runs against each daemon in DAEMONS: the real supervisord
// 4.2.5 and fastvisor's (from source, through tsx).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type { XmlRpcValue } from '../../src/rpc/codec.js';
import { Fault, fastvisordCommand, rpcCall } from './daemon-harness.js';
import { pollUntil } from './poll.js';
import { childrenOf, isAlive, track } from './procs.js';
import { tmpDir } from './tmp.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PY_CTL = '/usr/bin/supervisorctl';
export const PYTHON = '/usr/bin/python3';
/** fastvisor's supervisorctl from source: [program, args before the user's]. */
// tsx by path, so the program runs from any working directory.
export const TSX = path.join(REPO, 'node_modules/tsx/dist/loader.mjs');
export const TS_CTL: [string, string[]] = [process.execPath, ['--import', TSX, path.join(REPO, 'src/cli/supervisorctl.ts')]];

export interface DaemonSpec {
  name: string;
  command(conf: string): [string, string[]];
}

/** The daemons every comparison runs against. */
export const DAEMONS: DaemonSpec[] = [
  { name: 'supervisord', command: (conf) => ['/usr/bin/supervisord', ['-n', '-c', conf]] },
  { name: 'fastvisor', command: (conf) => [fastvisordCommand()[0], [...fastvisordCommand()[1], '-n', '-c', conf]] },
];

export interface CtlRequest {
  argv: string[];
  stdin?: string;
  cwd?: string;
  env?: Record<string, string>;
}

export interface CtlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export { Fault as RpcFault };

/** One XML-RPC call, made without the client under test, to set up state. */
export function rpc(where: { socketPath: string; auth?: string }, method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue> {
  return rpcCall(where.socketPath, method, params, where.auth);
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface RunningDaemon {
  spec: DaemonSpec;
  dir: string;
  conf: string;
  sock: string;
  port: number;
  /** unix:///…/s.sock */
  unixUrl: string;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  readonly pid: number;
  rpc(method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue>;
  stop(): Promise<void>;
  /** Stops it if it still runs, then starts it again on the same config and socket. */
  relaunch(): Promise<void>;
}

export interface DaemonOptions {
  /** [program:x] and other sections; %(here)s is the daemon's directory. */
  programs: string;
  /** `user:password` for both servers. */
  auth?: string;
  /** Extra lines for [supervisorctl]. */
  ctlSection?: string;
  /** Leave out [rpcinterface:supervisor]. */
  noRpcInterface?: boolean;
}

/**
 * Writes a config in a fresh temp dir (unix socket, inet port, main log, the
 * [supervisorctl] section pointing at the socket) and starts the daemon in the
 * foreground in its own session; resolves once it answers getState.
 */
export async function startDaemon(spec: DaemonSpec, opts: DaemonOptions): Promise<RunningDaemon> {
  const dir = tmpDir('fv-ctl-');
  const conf = path.join(dir, 'supervisord.conf');
  const sock = path.join(dir, 's.sock');
  const port = await freePort();
  const [user, password] = opts.auth ? opts.auth.split(':') : [];
  const auth = opts.auth ? `username=${user}\npassword=${password}\n` : '';
  writeFileSync(
    conf,
    [
      `[unix_http_server]\nfile=%(here)s/s.sock\n${auth}`,
      `[inet_http_server]\nport=127.0.0.1:${port}\n${auth}`,
      `[supervisord]\nlogfile=%(here)s/supervisord.log\npidfile=%(here)s/supervisord.pid\nchildlogdir=%(here)s\nnodaemon=true\nloglevel=info`,
      opts.noRpcInterface
        ? ''
        : '[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
      `[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n${opts.ctlSection ?? ''}`,
      opts.programs,
    ].join('\n\n') + '\n',
  );
  const where = { socketPath: sock, auth: opts.auth };
  let proc = await launch(spec, conf, dir, where);
  return {
    spec,
    dir,
    conf,
    sock,
    port,
    unixUrl: `unix://${sock}`,
    httpUrl: `http://127.0.0.1:${port}`,
    get pid() {
      return proc.pid!;
    },
    rpc: (method: string, ...params: XmlRpcValue[]) => rpc(where, method, ...params),
    stop: () => stopDaemon(proc),
    async relaunch() {
      await stopDaemon(proc);
      proc = await launch(spec, conf, dir, where);
    },
  };
}

/** Starts the daemon in its own session and waits until it answers on its socket. */
async function launch(
  spec: DaemonSpec,
  conf: string,
  dir: string,
  where: { socketPath: string; auth?: string },
): Promise<ChildProcess> {
  const [cmd, args] = spec.command(conf);
  const proc = spawn(cmd, args, { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'ignore'] });
  track(proc.pid!);
  await pollUntil(
    async () => {
      if (proc.exitCode !== null) throw new Error(`${spec.name} exited with ${proc.exitCode} during start-up`);
      try {
        return (await rpc(where, 'supervisor.getState')) !== undefined;
      } catch (e) {
        // Without the supervisor namespace the server still answers, with a fault.
        return e instanceof Fault;
      }
    },
    { timeout: 15_000, interval: 50, what: `${spec.name} to answer on ${where.socketPath}` },
  );
  await settled(where);
  return proc;
}

const MOVING = new Set(['STARTING', 'BACKOFF']);

/**
 * Until no program is on its way up: the tests run Python's ctl and ours one after the
 * other and compare what they print, so a program whose STARTING turns into RUNNING
 * between the two runs would fail them (startsecs=0 included: the daemon answers
 * before its first spawns). Programs that never settle (a crash loop with many
 * retries) are the test's own business: after 15 s it goes on.
 */
async function settled(where: { socketPath: string; auth?: string }): Promise<void> {
  await pollUntil(
    async () => {
      try {
        const all = (await rpc(where, 'supervisor.getAllProcessInfo')) as Array<{ statename: string }>;
        return all.every((p) => !MOVING.has(p.statename));
      } catch (e) {
        if (e instanceof Fault) return true; // no supervisor namespace: nothing to wait for
        throw e;
      }
    },
    { timeout: 15_000, interval: 50, what: 'every program RUNNING, STOPPED, EXITED or FATAL' },
  ).catch(() => undefined);
}

/** SIGTERM, wait for the exit, then SIGKILL the process group of every child it left. */
async function stopDaemon(proc: ChildProcess): Promise<void> {
  const pid = proc.pid!;
  const children = childrenOf(pid);
  if (proc.exitCode === null && proc.signalCode === null) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await pollUntil(() => proc.exitCode !== null || proc.signalCode !== null || !isAlive(pid), {
      timeout: 15_000,
      what: `daemon ${pid} to exit`,
    }).catch(() => undefined);
  }
  for (const p of [pid, ...children]) {
    for (const target of [-p, p]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** One long-lived ctl process answering one JSON request per line (ctl_runner.py / ctl-runner.ts). */
export class Runner {
  private readonly proc: ChildProcess;
  private readonly pending: Array<(r: CtlResult) => void> = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(cmd: string, args: string[]) {
    // detached: no controlling terminal, so Python's getpass() falls back to stdin as it does under a pipe.
    this.proc = spawn(cmd, args, { cwd: REPO, detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    track(this.proc.pid!);
    const rl = createInterface({ input: this.proc.stdout! });
    rl.on('line', (l) => this.pending.shift()?.(JSON.parse(l) as CtlResult));
  }

  run(req: CtlRequest): Promise<CtlResult> {
    const next = this.queue.then(
      () =>
        new Promise<CtlResult>((resolve) => {
          this.pending.push(resolve);
          this.proc.stdin!.write(JSON.stringify(req) + '\n');
        }),
    );
    this.queue = next;
    return next;
  }

  close(): void {
    this.proc.stdin!.end();
    try {
      process.kill(-this.proc.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export function pythonRunner(): Runner {
  return new Runner(PYTHON, [path.join(REPO, 'test/helpers/ctl_runner.py')]);
}

export function tsRunner(): Runner {
  return new Runner(process.execPath, ['--import', TSX, path.join(REPO, 'test/helpers/ctl-runner.ts')]);
}

/** Both implementations, in one process each for the whole test file. */
export class CtlPair {
  readonly py = pythonRunner();
  readonly ts = tsRunner();

  async both(req: CtlRequest, reset?: () => Promise<void>): Promise<{ py: CtlResult; ts: CtlResult }> {
    await reset?.();
    const py = await this.py.run(req);
    await reset?.();
    const ts = await this.ts.run(req);
    return { py, ts };
  }

  close(): void {
    this.py.close();
    this.ts.close();
  }
}

const MASKS: Array<[RegExp, string]> = [
  [/pid \d+, uptime \d+:\d\d:\d\d/g, 'pid <PID>, uptime <UP>'],
  [/uptime \d+ days?, \d+:\d\d:\d\d/g, 'uptime <UP>'],
  // Stopped/exited processes show a local time: "Nov 29 05:21 PM".
  [/\b[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M\b/g, '<TIME>'],
  // getpass warns from line 62 or 91 by how stdin fails to be a terminal (a StringIO in
  // ctl_runner.py, a pipe in a real process).
  [/getpass\.py:\d+: GetPassWarning/g, 'getpass.py:<N>: GetPassWarning'],
];

/** Masks what differs between two runs against the same daemon, plus any extra patterns. */
export function normalize(r: CtlResult, extra: Array<[RegExp, string]> = []): CtlResult {
  const mask = (s: string): string => [...MASKS, ...extra].reduce((acc, [re, to]) => acc.replace(re, to), s);
  return { stdout: mask(r.stdout), stderr: mask(r.stderr), code: r.code };
}

/** A ctl run as its own process (for exit by signal, real stdin, -h naming the program). */
export function runProcess(
  kind: 'py' | 'ts',
  argv: string[],
  opts: { stdin?: string; env?: Record<string, string>; cwd?: string; timeout?: number } = {},
): Promise<CtlResult & { signal: NodeJS.Signals | null }> {
  const [cmd, pre] = kind === 'py' ? [PY_CTL, []] : TS_CTL;
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, [...pre, ...argv], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    track(proc.pid!);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout!.on('data', (c: Buffer) => out.push(c));
    proc.stderr!.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      reject(new Error(`${kind} ${argv.join(' ')}: no exit within ${opts.timeout ?? 20_000} ms`));
    }, opts.timeout ?? 20_000);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? -1,
        signal,
      });
    });
    proc.stdin!.on('error', () => undefined); // it may exit before reading
    proc.stdin!.end(opts.stdin ?? '');
  });
}

/** The program path each one prints in usage errors (-h, "For help, use X -h"). */
export function prognameOf(kind: 'py' | 'ts'): string {
  return kind === 'py' ? PY_CTL : TS_CTL[1][2]!;
}

/**
 * 4.2.5 sometimes takes Ctrl-C inside its asyncore loop's read handler, whose bare
 * `except:` hands the KeyboardInterrupt to handle_error: it prints "Cannot connect,
 * error: <class 'KeyboardInterrupt'>" on stderr and ends without the empty line. Such
 * a run of Python's is not the behaviour under test and is repeated (up to 5 runs).
 */
export async function stableAgainstCtrlC<T extends { stderr: string }>(kind: 'py' | 'ts', run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const r = await run();
    if (kind === 'ts' || attempt === 5 || !r.stderr.includes("<class 'KeyboardInterrupt'>")) return r;
  }
}

/** A ctl process that keeps running (tail -f, fg): read its output as it comes, then Ctrl-C it. */
export interface Streaming {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (from `from` on) matches. */
  waitFor(re: RegExp, from?: number, timeout?: number): Promise<void>;
  write(text: string): void;
  endInput(): void;
  /** SIGINT, as Ctrl-C in a terminal sends it. */
  interrupt(): void;
  exited(timeout?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

export function spawnStreaming(kind: 'py' | 'ts', argv: string[], opts: { cwd?: string } = {}): Streaming {
  const [cmd, pre] = kind === 'py' ? [PY_CTL, []] : TS_CTL;
  const proc = spawn(cmd, [...pre, ...argv], { cwd: opts.cwd ?? REPO, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = track(proc.pid!);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  proc.stdin!.on('error', () => undefined);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.on('close', (code, signal) => r({ code, signal })),
  );
  const kill = (): void => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  };
  return {
    pid,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re, from = 0, timeout = 10_000) =>
      pollUntil(() => re.test(out.slice(from)), { timeout, what: `${kind} output to match ${re} (have ${JSON.stringify(out)})` }).then(
        () => undefined,
      ),
    write: (text) => proc.stdin!.write(text),
    endInput: () => proc.stdin!.end(),
    interrupt: () => process.kill(pid, 'SIGINT'),
    exited: (timeout = 10_000) =>
      Promise.race([
        exit,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${kind} ${argv.join(' ')} did not exit`)), timeout)),
      ]),
    kill,
  };
}
