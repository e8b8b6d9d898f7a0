// SPDX-License-Identifier: MIT
// reread/update: which groups a new configuration adds, changes or removes
// against the running ones (supervisord.py diff_to_active). Two groups are
// the same as options.py's __eq__ methods see it: every option of a
// ProcessConfig that supervisord keeps (so the uid, not how user= spelled
// it; not where the section came from nor numprocs bookkeeping), an fcgi
// socket by its url, a pool's events as a set.
import type { ProcessConfig, ProcessGroupConfig } from './model.js';

const NOT_COMPARED = new Set<string>(['file', 'section', 'program_name', 'user', 'process_num', 'numprocs']);

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function comparable(g: ProcessGroupConfig): unknown {
  const processes = g.processes.map((p: ProcessConfig) =>
    Object.fromEntries(Object.entries(p).filter(([k]) => !NOT_COMPARED.has(k))),
  );
  return canonical({
    name: g.name,
    kind: g.kind,
    priority: g.priority,
    processes,
    pool: g.pool ? { ...g.pool, events: [...new Set(g.pool.events)].sort() } : null,
    socket: g.socket?.url ?? null,
  });
}

export function sameGroupConfig(a: ProcessGroupConfig, b: ProcessGroupConfig): boolean {
  return JSON.stringify(comparable(a)) === JSON.stringify(comparable(b));
}

export function diffGroups(
  current: readonly ProcessGroupConfig[],
  next: readonly ProcessGroupConfig[],
): { added: string[]; changed: string[]; removed: string[] } {
  const cur = new Map(current.map((g) => [g.name, g]));
  const nxt = new Map(next.map((g) => [g.name, g]));
  return {
    added: next.filter((g) => !cur.has(g.name)).map((g) => g.name),
    changed: next.filter((g) => cur.has(g.name) && !sameGroupConfig(cur.get(g.name)!, g)).map((g) => g.name),
    removed: current.filter((g) => !nxt.has(g.name)).map((g) => g.name),
  };
}
