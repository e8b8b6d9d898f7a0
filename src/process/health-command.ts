// SPDX-License-Identifier: MIT
// healthcheck = cmd:COMMAND (fastvisor): the probe that runs a command. It
// goes through the native spawner like any child (so the reaper knows it), as
// the program's user, in its directory and environment, in a process group of
// its own, run by /bin/sh -c as compose's CMD-SHELL. Healthy is exit status 0.
// On timeout the whole group gets SIGKILL. The output's last line (at most
// 200 bytes) becomes the detail of a failed check.
import type { IoCore, NativeError, SpawnRequest } from '../native/index.js';
import type { Probe, ProbeResult } from './health-probes.js';

/** What the probe needs from its process and the daemon. */
export interface CommandProbeHost {
  readonly core: IoCore;
  /** the request for this run (user, cwd, env of the program now); a string is why it cannot run */
  request(argv: string[]): Omit<SpawnRequest, 'file' | 'argv' | 'stdout' | 'stderr' | 'processGroup'> | string;
  /** route this child's exit and output here until it has exited */
  adopt(child: number, handler: CheckChild): void;
}

export interface CheckChild {
  output(data: Buffer): void;
  exited(e: { code: number | null; signal: number | null }): void;
}

const TAIL = 200;

export function commandProbe(command: string, host: CommandProbeHost): Probe {
  return (timeoutMs) =>
    new Promise<ProbeResult>((resolve) => {
      const argv = ['/bin/sh', '-c', command];
      const base = host.request(argv);
      if (typeof base === 'string') {
        resolve({ ok: false, detail: base });
        return;
      }
      let tail = '';
      let settled = false;
      let pid = 0;
      const settle = (r: ProbeResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        // The group, so a shell's children go too; the exit is still reaped.
        if (pid) {
          try {
            host.core.kill(pid, 'SIGKILL', true);
          } catch {
            // gone already
          }
        }
        settle({ ok: false, detail: `timed out after ${timeoutMs / 1000} s` });
      }, timeoutMs);
      const req: SpawnRequest = {
        ...base,
        file: argv[0]!,
        argv,
        processGroup: 'group',
        stdout: { mode: 'pipe', sink: null, tap: true },
        stderr: 'stdout',
      };
      host.core.spawnAsync(req, (outcome) => {
        if (!outcome.ok) {
          const e: NativeError = outcome.error;
          settle({ ok: false, detail: `cannot run the check: ${e.code ?? e.message}` });
          return;
        }
        pid = outcome.spawned.pid;
        if (settled) host.core.kill(pid, 'SIGKILL', true);
        host.adopt(outcome.spawned.child, {
          output(data) {
            tail = (tail + data.toString('utf8')).slice(-4 * TAIL);
          },
          exited(e) {
            const last = lastLine(tail);
            if (e.code === 0) settle({ ok: true, detail: last ? `exit status 0: ${last}` : 'exit status 0' });
            else {
              const how = e.code !== null ? `exit status ${e.code}` : `killed by signal ${e.signal ?? '?'}`;
              settle({ ok: false, detail: last ? `${how}: ${last}` : how });
            }
          },
        });
      });
    });
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  return last.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, TAIL);
}
