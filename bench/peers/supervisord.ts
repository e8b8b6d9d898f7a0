// SPDX-License-Identifier: MIT
// The real supervisord 4.2.5 (/usr/bin/supervisord) as a peer: a generated
// supervisord.conf in the trial's scratch directory, one [program:wN] per
// program, run in the foreground (nodaemon) as our child. It cannot say when
// the output is on disk, so completion is polled from the log files' sizes,
// with getAllProcessInfo (XML-RPC over its unix socket, through
// peers/supervisor_rpc.py) as the fallback should bytes go missing.
//
// For bulk and chatty the programs are autostart=false and started with
// startAllProcesses once supervisord is up, so that Python's start-up is not
// counted as pump work (fastvisor and the C loop are measured from the same
// point: set up, nothing spawned). For many and rpc they are autostart=true
// and the clock starts when supervisord is launched.
//
// daemonPeer() is the same peer for any daemon that reads supervisord.conf:
// peers/fastvisord.ts runs fastvisor's own daemon through it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { waitForBytes } from '../lib/files.js';
import { pumpCommand } from '../lib/pin.js';
import { Proc, TOKEN_VAR } from '../lib/procs.js';
import type { PeerDef, PeerSession, TrialContext, Work } from '../lib/types.js';

export const SUPERVISORD = '/usr/bin/supervisord';
export const PYTHON = '/usr/bin/python3';

/** many, rpc, crashloop and scale measure the daemon from its launch: its programs start by themselves. */
function autostarted(work: Work): boolean {
  return work.kind === 'many' || work.kind === 'rpc' || work.kind === 'crashloop' || work.kind === 'scale';
}

/** The daemon's main log (logfile=), which scenarios may read. */
export function mainLogPath(work: Work): string {
  return path.join(work.scratch, 'supervisord.log');
}

function conf(work: Work, sock: string): string {
  const autostart = autostarted(work);
  const lines = [
    '[unix_http_server]',
    `file=${sock}`,
    '',
    '[supervisord]',
    'nodaemon=true',
    'silent=true',
    `logfile=${mainLogPath(work)}`,
    `pidfile=${path.join(work.scratch, 'supervisord.pid')}`,
    `childlogdir=${work.scratch}`,
    'minfds=8192',
    ...(work.conf?.supervisord ?? []),
    '',
    '[rpcinterface:supervisor]',
    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    '',
    '[supervisorctl]',
    `serverurl=unix://${sock}`,
    '',
  ];
  for (const p of work.programs) {
    lines.push(
      `[program:${p.name}]`,
      `command=${p.argv.join(' ')}`,
      `autostart=${autostart}`,
      'autorestart=false',
      `startsecs=${work.startsecs}`,
      'startretries=0',
      'redirect_stderr=true',
      `stdout_logfile=${p.log}`,
      `stdout_logfile_maxbytes=${work.maxbytes}`,
      `stdout_logfile_backups=${work.maxbytes > 0 ? work.backups : 0}`,
      `environment=${TOKEN_VAR}="${work.token}"`,
      '',
    );
  }
  for (const section of work.conf?.sections ?? []) lines.push(section, '');
  return lines.join('\n');
}

interface Reply {
  ok: boolean;
  error?: string;
  counts?: Record<string, number>;
  pids?: number[];
}

export function supervisordPeer(): PeerDef {
  return daemonPeer({
    name: 'supervisord',
    describe: 'supervisord 4.2.5 (/usr/bin/supervisord, Python 3), stdout_logfile per program',
    command: (confPath) => [SUPERVISORD, ['-c', confPath]],
  });
}

export interface DaemonSpec {
  name: string;
  /** a function when it depends on the environment, which the runner sets after loading the peers */
  describe: string | (() => string);
  /** [file, args] that runs the daemon on a supervisord.conf (which says nodaemon=true) */
  command(confPath: string, ctx: TrialContext): [string, string[]];
}

/** A daemon that reads supervisord.conf and answers supervisord's XML-RPC on a unix socket. */
export function daemonPeer(spec: DaemonSpec): PeerDef {
  return {
    name: spec.name,
    get describe() {
      return typeof spec.describe === 'function' ? spec.describe() : spec.describe;
    },
    launch(work: Work, ctx: TrialContext): PeerSession {
      const sock = path.join(work.scratch, 'supervisor.sock');
      const confPath = path.join(work.scratch, 'supervisord.conf');
      writeFileSync(confPath, conf(work, sock));
      const env = { ...process.env };
      delete env.PYTHONPATH;
      delete env.PYTHONHOME;
      const [file, args] = spec.command(confPath, ctx);
      const sd = new Proc(spec.name, ...pumpCommand(ctx, file, args), { env, cwd: work.scratch, captureStdout: false });
      const rpc = new Proc('supervisor_rpc.py', PYTHON, [path.join(ctx.repoRoot, 'bench', 'peers', 'supervisor_rpc.py'), sock], { env });

      let busy: Promise<unknown> = Promise.resolve();
      const call = (req: Record<string, unknown>, timeout: number): Promise<Reply> => {
        const p = busy.then(async () => {
          const died = sd.exited.then((s) => {
            throw new Error(`${spec.name} exited (${JSON.stringify(s)}): ${sd.stderrTail}`);
          });
          const line = await Promise.race([rpc.nextLine(timeout, `reply to ${String(req.op)}`), died]);
          const r = JSON.parse(line) as Reply;
          if (!r.ok) throw new Error(`${spec.name} RPC ${String(req.op)}: ${r.error}`);
          return r;
        });
        rpc.send(JSON.stringify(req));
        busy = p.catch(() => {});
        return p;
      };
      const allExited = async (): Promise<boolean> => {
        const r = await call({ op: 'counts' }, 10_000);
        const counts = r.counts ?? {};
        return ['STARTING', 'RUNNING', 'BACKOFF', 'STOPPING'].every((s) => !counts[s]);
      };

      return {
        pid: sd.pid,
        rpcSocket: sock,
        async ready(timeout) {
          if (!autostarted(work)) await call({ op: 'wait_up', timeout: timeout / 1000 }, timeout + 2000);
        },
        async go() {
          if (!autostarted(work)) await call({ op: 'start_all' }, 60_000);
        },
        async finished(timeout) {
          const via = await waitForBytes(work, { timeout, allExited });
          return { via: `log sizes (${via})` };
        },
        async allRunning(timeout) {
          return call(
            { op: 'wait_states', states: ['RUNNING'], n: work.programs.length, interval: 0.1, timeout: timeout / 1000 },
            timeout + 5000,
          ) as unknown as Promise<Record<string, unknown>>;
        },
        async stop(timeout) {
          // On SIGTERM alone supervisord stops one group after another with a
          // 1 s poll between them: 500 programs take minutes. `supervisorctl
          // stop all` (stopAllProcesses) signals them all at once; then SIGTERM.
          // Not for a crash loop: its EXITED programs restart right after
          // stopAllProcesses, so they are never all stopped at once; its
          // programs are one group, which the daemon's own shutdown stops
          // in one go.
          if (autostarted(work) && work.kind !== 'crashloop') {
            try {
              await call({ op: 'stop_all' }, 30_000);
              const n = work.programs.length;
              await call({ op: 'wait_states', states: ['STOPPED', 'EXITED', 'FATAL'], n, interval: 0.1, timeout: timeout / 1000 }, timeout + 5000);
            } catch {
              // SIGTERM, and the pid after it, still follow
            }
          }
          try {
            process.kill(sd.pid, 'SIGTERM');
          } catch {
            // already gone
          }
          const clean = await sd.waitExit(timeout);
          rpc.closeStdin();
          await rpc.waitExit(5000);
          return { clean };
        },
      };
    },
  };
}
