// SPDX-License-Identifier: MIT
// Starts fastvisor's daemon or the real supervisord 4.2.5 on the same config
// text in its own temp dir, talks XML-RPC to it over its unix socket, and
// stops it, killing whatever it left behind by pid / process group (never by
// name), even when a test fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { parseMethodResponse, serializeMethodCall, type XmlRpcValue } from '../../src/rpc/codec.js';
import { pollUntil } from './poll.js';
import { childrenOf, isAlive } from './procs.js';
import { tmpDir } from './tmp.js';

export type DaemonKind = 'fastvisor' | 'supervisord';
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SUPERVISORD = '/usr/bin/supervisord';
export const SUPERVISORCTL = '/usr/bin/supervisorctl';

/**
 * The command line that runs fastvisor's daemon from source (tsx); with
 * FASTVISOR_TEST_DAEMON=bundle, the one-file bundle the bins run (`npm run build` first).
 */
export function fastvisordCommand(): [string, string[]] {
  if (process.env.FASTVISOR_TEST_DAEMON === 'bundle') return [process.execPath, [path.join(REPO, 'dist', 'cli', 'fastvisord.cjs')]];
  // tsx by absolute URL: the daemon runs with its temp dir as cwd.
  const tsx = pathToFileURL(path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  return [process.execPath, ['--import', tsx, path.join(REPO, 'src', 'cli', 'run-supervisord.ts')]];
}

export class Fault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(`${faultCode}: ${faultString}`);
  }
}

/** One XML-RPC call over a unix socket; auth is "user:password" for Basic auth. */
export function rpcCall(socketPath: string, method: string, params: XmlRpcValue[] = [], auth?: string): Promise<XmlRpcValue> {
  const body = serializeMethodCall(method, params);
  const headers: Record<string, string> = { 'Content-Type': 'text/xml', 'Content-Length': String(body.length) };
  if (auth) headers['Authorization'] = `Basic ${Buffer.from(auth).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: '/RPC2', method: 'POST', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
          try {
            const r = parseMethodResponse(Buffer.concat(chunks));
            if (r.kind === 'fault') reject(new Fault(r.faultCode, r.faultString));
            else resolve(r.params[0]!);
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface Daemon {
  kind: DaemonKind;
  dir: string;
  conf: string;
  sock: string;
  pid: number;
  rpc(method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue>;
  mainLog(): string;
  /** SIGTERM, wait for the exit, then SIGKILL whatever is left of its children's groups */
  stop(): Promise<number | null>;
  proc: ChildProcess;
  stdout(): string;
}

const live = new Set<Daemon>();

/**
 * The config text may use %(here)s for the temp dir; [supervisord] logfile,
 * pidfile, childlogdir and the [unix_http_server] socket are added unless the
 * text has them.
 */
export function writeConfig(dir: string, body: string, opts: { withServer?: boolean } = {}): string {
  let text = body;
  if (!/^\[supervisord\]/m.test(text)) text = `[supervisord]\n${text}`;
  const add = (key: string, value: string): void => {
    if (!new RegExp(`^${key}\\s*[=:]`, 'm').test(text)) text = text.replace(/^\[supervisord\]\n/m, `[supervisord]\n${key}=${value}\n`);
  };
  add('logfile', '%(here)s/supervisord.log');
  add('pidfile', '%(here)s/supervisord.pid');
  add('childlogdir', '%(here)s');
  if (opts.withServer !== false && !/^\[unix_http_server\]/m.test(text)) {
    text += '\n[unix_http_server]\nfile=%(here)s/supervisor.sock\n\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n[supervisorctl]\nserverurl=unix://%(here)s/supervisor.sock\n';
  }
  const conf = path.join(dir, 'supervisord.conf');
  writeFileSync(conf, text);
  return conf;
}

/** Runs the daemon in the foreground (-n) and waits until its socket answers getState. */
export async function startDaemon(
  kind: DaemonKind,
  body: string,
  opts: { args?: string[]; env?: NodeJS.ProcessEnv; dir?: string; wrap?: string[]; command?: [string, string[]] } = {},
): Promise<Daemon> {
  const dir = opts.dir ?? tmpDir(`fv-${kind}-`);
  const conf = writeConfig(dir, body);
  const sock = path.join(dir, 'supervisor.sock');
  // command: fastvisor's daemon run another way than from source (a bin, a bundle).
  const [daemon, pre] = opts.command ?? (kind === 'fastvisor' ? fastvisordCommand() : [SUPERVISORD, []]);
  // wrap: a command that execs the daemon (prlimit ... --), so the pid is still the daemon's.
  const [cmd, ...args] = [...(opts.wrap ?? []), daemon, ...pre, '-n', '-c', conf, ...(opts.args ?? [])];
  const proc = spawn(cmd!, args, {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const d: Daemon = {
    kind,
    dir,
    conf,
    sock,
    pid: proc.pid!,
    proc,
    stdout: () => out,
    rpc: (method, ...params) => rpcCall(sock, method, params),
    mainLog: () => {
      const f = path.join(dir, 'supervisord.log');
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
    stop: () => stopDaemon(d),
  };
  live.add(d);
  await pollUntil(
    async () => {
      if (proc.exitCode !== null) throw new Error(`${kind} exited at start-up (${proc.exitCode}): ${out}`);
      try {
        return existsSync(sock) && (await rpcCall(sock, 'supervisor.getState'));
      } catch {
        return false;
      }
    },
    { timeout: 20_000, what: `${kind} to answer on ${sock}` },
  );
  return d;
}

async function stopDaemon(d: Daemon): Promise<number | null> {
  live.delete(d);
  const kids = childrenOf(d.pid);
  if (d.proc.exitCode === null && d.proc.signalCode === null) {
    const exited = new Promise<number | null>((r) => d.proc.once('exit', (code) => r(code)));
    try {
      process.kill(d.pid, 'SIGTERM');
    } catch {
      // gone already
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-d.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 20_000);
    await exited;
    clearTimeout(timer);
  }
  for (const k of kids) killGroup(k);
  return d.proc.exitCode;
}

function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** afterAll/afterEach: every daemon still running, and its children. */
export async function stopAllDaemons(): Promise<void> {
  await Promise.all([...live].map((d) => stopDaemon(d)));
}

/** Runs a daemon the way a user does, daemonizing (no -n): returns the launcher's exit code and output. */
export function launch(kind: DaemonKind, args: string[], cwd: string, env?: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const [cmd, pre] = kind === 'fastvisor' ? fastvisordCommand() : [SUPERVISORD, []];
  const r = spawnSync(cmd, [...pre, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function pidAlive(pid: number): boolean {
  return isAlive(pid);
}

/** Python supervisorctl against a config file. */
export function supervisorctl(conf: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(SUPERVISORCTL, ['-c', conf, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
