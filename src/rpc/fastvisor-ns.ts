// SPDX-License-Identifier: MIT
// fastvisor.* — what fastvisor adds, in its own namespace so supervisor.*
// stays exactly supervisord's. Read-only for now: the version, and the native
// core's per-channel byte counters (what was written, what a full disk dropped).
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { packageRoot } from '../native/index.js';
import type { XmlRpcStruct } from './codec.js';
import { Faults, RPCError } from './faults.js';
import { str, type Namespace } from './methods.js';
import { splitNamespec, type SupervisorControl } from './supervisor-ns.js';

let version: string | undefined;
export function fastvisorVersion(): string {
  version ??= (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

export function createFastvisorNamespace(ctl: SupervisorControl): Namespace {
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
        const name = str(n, 'name');
        const [g, p] = splitNamespec(name);
        const proc = p === null ? undefined : ctl.supervisor.groups.get(g)?.processes.get(p);
        if (!proc) throw new RPCError(Faults.BAD_NAME, name);
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
    getLogCounters: {
      signature: ['struct', 'string'],
      params: ['name'],
      help: "Return the byte counters of a process's stdout and stderr log files (written, dropped, size, rotations)",
      call: ([n]) => {
        const name = str(n, 'name');
        const [g, p] = splitNamespec(name);
        const proc = p === null ? undefined : ctl.supervisor.groups.get(g)?.processes.get(p);
        if (!proc) throw new RPCError(Faults.BAD_NAME, name);
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
