// SPDX-License-Identifier: MIT
// HTTP at the byte level for tests: raw requests over TCP or a unix socket (so headers
// come back exactly as sent), Python run asynchronously (a server in this process must
// keep answering while Python talks to it), and the real supervisord on a config.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { pollUntil } from './poll.js';
import { isAlive, track } from './procs.js';
import { PYTHON } from './python.js';

export type Addr = { path: string } | { host: string; port: number };

export interface RawResult {
  raw: Buffer;
  /** the server closed the connection */
  closed: boolean;
}

/** Past any 1xx interim replies (100 Continue); -1 while one is still incomplete. */
function skipInterim(buf: Buffer): number {
  let at = 0;
  while (/^HTTP\/1\.[01] 1\d\d /.test(buf.subarray(at, at + 13).toString('latin1'))) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) return -1;
    at = end + 4;
  }
  return at;
}

/** Where a response that declares its length (or ends with a last chunk) is complete. */
function completeAt(buf: Buffer): number | null {
  const start = skipInterim(buf);
  if (start < 0) return null;
  const end = buf.indexOf('\r\n\r\n', start);
  if (end < 0) return null;
  const head = buf.subarray(start, end).toString('latin1');
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl) {
    const total = end + 4 + Number(cl[1]);
    return buf.length >= total ? total : null;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const last = buf.indexOf('\r\n0\r\n\r\n', end);
    return last >= 0 ? last + 7 : null;
  }
  return null;
}

/**
 * Sends `data` and collects the reply until it is complete, the server closes, or
 * `timeoutMs` passes (then whatever arrived is returned: a stream, or nothing).
 * `waitClose` keeps reading after a complete reply to see whether the server closes.
 */
export function rawRequest(
  addr: Addr,
  data: string | Buffer,
  opts: { timeoutMs?: number; waitClose?: boolean } = {},
): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const sock = 'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
    let buf = Buffer.alloc(0);
    let finished = false;
    const finish = (closed: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ raw: buf, closed });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 3000);
    sock.on('connect', () => sock.write(data));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!opts.waitClose && completeAt(buf) !== null) finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (err) => {
      if (!finished) {
        finished = true;
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

export interface ParsedResponse {
  statusLine: string;
  status: number;
  headers: [string, string][];
  body: Buffer;
}

export function parseResponse(raw: Buffer): ParsedResponse {
  raw = raw.subarray(Math.max(0, skipInterim(raw)));
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete header in ${JSON.stringify(raw.toString('latin1'))}`);
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const statusLine = lines[0]!;
  const headers = lines.slice(1).map((l): [string, string] => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()];
  });
  return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body: raw.subarray(end + 4) };
}

export function header(r: ParsedResponse, name: string): string | undefined {
  return r.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

/** Python (Debian's, with the supervisor package) without blocking this process's event loop. */
export function runPython<T>(script: string, input: unknown, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    track(child.pid!);
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`python exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        reject(new Error(`python printed no JSON: ${out}\n${err}`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/** A TCP port nothing listens on right now (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function canConnect(addr: Addr): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = 'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export interface RealSupervisord {
  pid: number;
  stop(): Promise<void>;
}

/**
 * The real supervisord 4.2.5 in the foreground on `conf` (written to dir/supervisord.conf),
 * ready once `readyAt` accepts connections. Killed by pid (its own process group) in stop()
 * and by killTracked() if the test fails first.
 */
export async function startRealSupervisord(dir: string, conf: string, readyAt: Addr): Promise<RealSupervisord> {
  const file = path.join(dir, 'supervisord.conf');
  writeFileSync(file, conf);
  const child = spawn('/usr/bin/supervisord', ['-n', '-c', file], { stdio: 'ignore', detached: true });
  const pid = track(child.pid!);
  await pollUntil(() => canConnect(readyAt), { timeout: 10_000, what: 'real supervisord listening' });
  return {
    pid,
    async stop() {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
      await pollUntil(() => !isAlive(pid) || child.exitCode !== null || child.signalCode !== null, {
        timeout: 5000,
        what: 'real supervisord gone',
      });
    },
  };
}
