// SPDX-License-Identifier: MIT
// fastvisor.* — what fastvisor adds, in its own namespace so supervisor.*
// stays exactly supervisord's: the version, health, the native core's
// per-channel byte counters (what was written, what a full disk dropped), the
// per-process figures of process/stats.ts, and rotateLogs (rotate now).
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { packageRoot } from '../native/index.js';
import type { ProcessFigures } from '../process/stats.js';
import type { Subprocess } from '../process/subprocess.js';
import { XmlRpcDouble, type XmlRpcStruct } from './codec.js';
import { Faults, RPCError } from './faults.js';
import { str, type Namespace } from './methods.js';
import { processesNamed, processInfo, refuseDuringShutdown, splitNamespec, type SupervisorControl } from './supervisor-ns.js';

let version: string | undefined;
export function fastvisorVersion(): string {
  version ??= (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/**
 * getProcessStats' struct. Bytes and seconds are <double>s (XML-RPC's <int> is
 * 32 bits); a figure that cannot be read (no child, not Linux) is left out.
 */
export function statsStruct(f: ProcessFigures, wallSecs: number): XmlRpcStruct {
  const out: XmlRpcStruct = {
    name: f.name,
    group: f.group,
    state: f.state,
    statename: f.statename,
    pid: f.pid,
    now: new XmlRpcDouble(wallSecs),
    restarts: f.restarts,
    health: f.health ?? 'none',
  };
  const dbl = (k: string, v: number | null): void => {
    if (v !== null) out[k] = new XmlRpcDouble(v);
  };
  const int = (k: string, v: number | null): void => {
    if (v !== null) out[k] = v;
  };
  dbl('start_time', f.startTime);
  dbl('uptime', f.uptime);
  int('exitstatus', f.exitStatus);
  dbl('cpu_seconds', f.cpuSeconds);
  dbl('memory_bytes', f.memoryBytes);
  if (f.memorySource !== null) out.memory_source = f.memorySource;
  int('open_fds', f.openFds);
  int('threads', f.threads);
  int('oom_kills', f.oomKills);
  for (const ch of ['stdout', 'stderr'] as const) {
    const l = f.log[ch];
    if (!l) continue;
    out[`${ch}_bytes`] = new XmlRpcDouble(l.written);
    out[`${ch}_dropped_bytes`] = new XmlRpcDouble(l.dropped);
  }
  return out;
}

export function createFastvisorNamespace(ctl: SupervisorControl): Namespace {
  const lookup = (name: string): Subprocess => {
    const [g, p] = splitNamespec(name);
    const proc = p === null ? undefined : ctl.supervisor.groups.get(g)?.processes.get(p);
    if (!proc) throw new RPCError(Faults.BAD_NAME, name);
    return proc;
  };
  return {
    getVersion: {
      signature: ['string'],
      params: [],
      help: 'Return the version of fastvisor',
      call: () => fastvisorVersion(),
    },
    getProcessHealth: {
      signature: ['struct', 'string'],
      params: ['name'],
      help: "Return a process's health check verdict (health: none, off, starting, healthy or unhealthy)",
      call: ([n]) => {
        const proc = lookup(str(n, 'name'));
        const h = proc.healthStatus;
        const secs = (ms: number | null): number => (ms === null ? 0 : Math.trunc(ms / 1000));
        return {
          name: proc.name,
          group: proc.groupName,
          health: h ? h.health : 'none',
          failures: h?.failures ?? 0,
          checks: h?.checks ?? 0,
          detail: h?.lastDetail ?? '',
          last_check: secs(h?.lastCheckWall ?? null),
          since: secs(h?.since ?? null),
        };
      },
    },
    getProcessStats: {
      signature: ['struct', 'string'],
      params: ['name'],
      help:
        "Return a process's figures: cpu_seconds, memory_bytes (RSS, or its cgroup's memory), open_fds, threads, oom_kills (programs with a cgroup), stdout/stderr bytes and dropped bytes, restarts, exitstatus, start_time, uptime (numbers of bytes and seconds are doubles; a figure that cannot be read is left out)",
      call: ([n]) => {
        const proc = lookup(str(n, 'name'));
        const sup = ctl.supervisor;
        const [f] = sup.figures([proc]);
        return statsStruct(f!, sup.clock.wall() / 1000);
      },
    },
    getAllProcessStatus: {
      signature: ['string'],
      params: [],
      help:
        "What plain `status` shows of every process, in getAllProcessInfo's order, as one JSON text: [[group, name, state, statename, description], …]. fastvisorctl's status: at 2000 processes a twentieth of getAllProcessInfo's bytes, and no struct to build or parse per process",
      call: () => {
        const sup = ctl.supervisor;
        refuseDuringShutdown(sup);
        const now = sup.clock.now();
        const wall = sup.clock.wall();
        const rows = sup.lexicalProcesses().map(([g, p]) => {
          const i = processInfo(g, p, now, wall);
          return [i.group, i.name, i.state, i.statename, i.description];
        });
        return JSON.stringify(rows);
      },
    },
    getAllProcessStats: {
      signature: ['array'],
      params: [],
      help: 'Return getProcessStats for every process, sorted by group and name',
      call: () => {
        const sup = ctl.supervisor;
        const procs = sup.lexicalProcesses().map(([, p]) => p);
        const wall = sup.clock.wall() / 1000;
        return sup.figures(procs).map((f) => statsStruct(f, wall));
      },
    },
    rotateLogs: {
      signature: ['array', 'string'],
      params: ['name'],
      help:
        "Rotate the log files of a process, of every process of a group (group:*) or of all processes now, as maxbytes would (backups 0: truncate). One {name, group, status, description, files} per process",
      call: ([n]) => {
        const name = str(n, 'name');
        const procs = processesNamed(ctl.supervisor, name);
        if (!procs) throw new RPCError(Faults.BAD_NAME, name);
        return procs.map((proc) => {
          try {
            const files = proc.rotateLogs();
            return { name: proc.name, group: proc.groupName, status: Faults.SUCCESS, description: 'OK', files };
          } catch (e) {
            return { name: proc.name, group: proc.groupName, status: Faults.FAILED, description: (e as Error).message, files: [] };
          }
        });
      },
    },
    getLogCounters: {
      signature: ['struct', 'string'],
      params: ['name'],
      help: "Return the byte counters of a process's stdout and stderr log files (written, dropped, size, rotations)",
      call: ([n]) => {
        const proc = lookup(str(n, 'name'));
        const out: XmlRpcStruct = {};
        for (const ch of ['stdout', 'stderr'] as const) {
          const c = proc.sink(ch)?.counters();
          out[ch] = c ? { written: c.written, dropped: c.dropped, size: c.size, rotations: c.rotations } : {};
        }
        return out;
      },
    },
  };
}
