// SPDX-License-Identifier: MIT
// A syslog socket the test controls: a unix datagram socket bound by a small
// Python process that hands every datagram back byte for byte (hex lines on
// its stdout). `paused` binds without reading until resume(), so the socket
// fills up as a stuck syslog daemon's does. Stopped by pid in afterEach.
import { spawn, type ChildProcess } from 'node:child_process';

import { pollUntil } from './poll.js';
import { isAlive } from './procs.js';

const SCRIPT = `
import os, socket, sys
path, paused = sys.argv[1], sys.argv[2] == 'paused'
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print('READY', flush=True)
if paused:
    sys.stdin.readline()
while True:
    d = s.recv(1 << 18)
    sys.stdout.write(d.hex() + '\\n')
    sys.stdout.flush()
`;

export interface SyslogListener {
  path: string;
  /** every datagram so far, as received */
  datagrams(): Buffer[];
  /** a paused listener starts reading */
  resume(): void;
  stop(): void;
}

const live = new Set<ChildProcess>();

export async function listenSyslog(path: string, opts: { paused?: boolean } = {}): Promise<SyslogListener> {
  const proc = spawn('/usr/bin/python3', ['-c', SCRIPT, path, opts.paused ? 'paused' : 'reading'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  live.add(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await pollUntil(() => out.startsWith('READY\n') || proc.exitCode !== null, { what: `a syslog socket at ${path}` });
  if (proc.exitCode !== null) throw new Error(`syslog listener exited (${proc.exitCode})`);
  const stop = (): void => {
    live.delete(proc);
    if (proc.pid && isAlive(proc.pid)) proc.kill('SIGKILL');
  };
  return {
    path,
    // Whole lines only: the last one may still be arriving.
    datagrams: () =>
      out
        .slice(0, out.lastIndexOf('\n') + 1)
        .split('\n')
        .slice(1, -1)
        .map((l) => Buffer.from(l, 'hex')),
    resume: () => proc.stdin!.write('go\n'),
    stop,
  };
}

/** afterEach: every listener still running. */
export function stopSyslogListeners(): void {
  for (const p of live) if (p.pid && isAlive(p.pid)) p.kill('SIGKILL');
  live.clear();
}

/** The header's time ("Dec  6 16:45:15 ") varies between runs: replaced by "TS ". */
export function withoutTime(d: Buffer): string {
  return d.toString('latin1').replace(/^(<\d+>)[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /, '$1TS ');
}
