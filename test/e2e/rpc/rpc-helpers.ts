// SPDX-License-Identifier: MIT
// What the rpc e2e tests share: the config both daemons run, and Python
// (Debian's, with the supervisor package) run asynchronously in its own process
// group, killed by that group when a test ends early.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';

import { PYTHON } from '../../helpers/python.js';

/**
 * Every kind of program the scripts need. %(here)s is the daemon's temp dir.
 * Sections are separated by blank lines (rpc_script.py removes one by that).
 */
export const BASE_CONF = `[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s

[unix_http_server]
file=%(here)s/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/supervisor.sock

[program:cat]
command=/bin/cat
startsecs=0
stdout_logfile=%(here)s/cat.log
stderr_logfile=NONE

[program:echo]
command=/bin/sh -c 'printf "hello world\\n"; printf "oops\\n" >&2; exec /bin/sleep 1000'
startsecs=0

[program:redir]
command=/bin/sh -c 'echo out; echo err >&2; exec /bin/sleep 1000'
startsecs=0
redirect_stderr=true

[group:grp]
programs=g1,g2
priority=500

[program:g1]
command=/bin/sleep 1001
startsecs=0
priority=2

[program:g2]
command=/bin/sleep 1002
startsecs=0
priority=1

[program:slow]
command=/bin/sleep 1000
startsecs=1
autostart=false

[program:starting]
command=/bin/sleep 1000
startsecs=2
autostart=false

[program:fail]
command=/bin/sh -c 'echo failing; sleep 0.3; exit 3'
startsecs=1
startretries=0
autostart=false

[program:once]
command=/bin/sh -c 'sleep 0.2'
startsecs=0
autostart=false
autorestart=false

[program:nofile]
command=/nonexistent/prog
autostart=false

[program:notexec]
command=/etc/passwd
autostart=false

[program:isdir]
command=/tmp
autostart=false

[program:multi]
command=/bin/sleep 1000
process_name=%(program_name)s_%(process_num)02d
numprocs=2
autostart=false
startsecs=0
`;

export interface PyResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PyRun {
  pid: number;
  done: Promise<PyResult>;
  /** SIGKILL to its process group (it leads one) */
  kill(): void;
}

export function runPython(args: string[], opts: { timeoutMs: number; input?: string; env?: NodeJS.ProcessEnv }): PyRun {
  const child = spawn(PYTHON, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const pid = child.pid!;
  const kill = (): void => {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => {});
  child.stdin.end(opts.input ?? '');
  const done = new Promise<PyResult>((resolve) => {
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs} ms]`;
      kill();
    }, opts.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { pid, done, kill };
}

const GET_API_VERSION = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAPIVersion</methodName>\n<params>\n</params>\n</methodCall>\n";

/**
 * supervisord looks at a deferred answer (start/stop with wait) once per pass
 * of its select loop, which idles for up to a second; a call every 20 ms keeps
 * it turning. Each call on its own connection (Connection: close), so none
 * stays open across a restart. Returns the function that stops it.
 */
export function heartbeat(socketPath: string, everyMs = 20): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const beat = (): void => {
    if (stopped) return;
    const req = http.request(
      {
        socketPath,
        agent: false,
        path: '/RPC2',
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', 'Content-Length': GET_API_VERSION.length, Connection: 'close' },
      },
      (res) => {
        res.resume();
        res.on('end', next);
        res.on('error', next);
      },
    );
    req.on('error', next);
    req.end(GET_API_VERSION);
  };
  const next = (): void => {
    if (!stopped && !timer) {
      timer = setTimeout(() => {
        timer = null;
        beat();
      }, everyMs);
    }
  };
  beat();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/**
 * Live processes a daemon started: every child carries SUPERVISOR_SERVER_URL
 * with the daemon's socket, and keeps it after the daemon is gone (when the
 * harness, which kills the children it sees at stop time, no longer finds them).
 */
export function strays(sock: string): number[] {
  const needle = Buffer.from(`SUPERVISOR_SERVER_URL=unix://${sock}\0`);
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`).includes(needle)) continue;
      // a zombie is gone already
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') out.push(Number(name));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return out;
}

/** SIGKILLs each stray and its process group (every child leads its own). */
export function killStrays(sock: string): number[] {
  const found = strays(sock);
  for (const pid of found) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  return found;
}
