// SPDX-License-Identifier: MIT
// GET /fastvisor/status.json: the status the live page shows. The same
// supervisor.getState and supervisor.getAllProcessInfo as over /RPC2, as compact JSON,
// with an ETag over everything but the clock and the figures: while nothing changes the
// answer is a bodiless 304 and the page counts uptimes on its own. (getAllProcessInfo over
// XML-RPC is about 1.2 KB per process: 400 KB a second and 45 ms of XML parsing in the
// browser for 320 processes; this is a tenth of the bytes once, then a few hundred bytes
// of headers.)
//
// GET /fastvisor/figures.json: what the page polls every second. Each process's CPU
// seconds and memory (fastvisor.getAllProcessStats) change on every poll, so folding them
// into status.json's ETag would turn every poll into a full answer (status, descriptions,
// all of it) and a re-render of every row. They are left out of that ETag instead (a
// script reading status.json still gets them) and sent here as bare arrays, with the
// status ETag alongside: the page asks status.json again only when that ETag moved. One
// request a second, about 30 bytes per running process, and a table touched only where a
// figure is shown.
import { createHash } from 'node:crypto';

import { XmlRpcDouble, type XmlRpcStruct, type XmlRpcValue } from '../rpc/codec.js';
import { RPCError } from '../rpc/faults.js';
import type { Call } from './rpc.js';

const RUNNING = 20;
/** The fields the page uses; the log file paths stay out. */
const FIELDS = ['name', 'group', 'state', 'statename', 'pid', 'start', 'stop', 'spawnerr', 'exitstatus', 'description'] as const;
/** From getAllProcessStats: null where there is no child to measure. Not in the ETag. */
const FIGURES = ['cpu_seconds', 'memory_bytes'] as const;

export interface StatusFeed {
  /** the JSON text of status.json */
  body: string;
  /** changes when anything but the clock and the figures does */
  etag: string;
  /** the JSON text of figures.json */
  figures: string;
}

/** One process's figures in figures.json: [namespec, pid, cpu_seconds, memory_bytes]. */
export type FigureRow = [string, number, number | null, number | null];

function pick(p: XmlRpcStruct): Record<string, XmlRpcValue> {
  const out: Record<string, XmlRpcValue> = {};
  for (const f of FIELDS) out[f] = p[f] ?? null;
  return out;
}

export const namespec = (p: XmlRpcStruct): string => (p.group === p.name ? String(p.name) : `${String(p.group)}:${String(p.name)}`);

export function num(v: XmlRpcValue | undefined): number | null {
  if (v instanceof XmlRpcDouble) return v.value;
  return typeof v === 'number' ? v : null;
}

/** getAllProcessStats, or nothing where this server has no fastvisor namespace (or it faults). */
export async function allStats(call: Call): Promise<{ now: number | null; byName: Map<string, XmlRpcStruct> }> {
  let stats: XmlRpcValue;
  try {
    stats = await call('fastvisor.getAllProcessStats');
  } catch (err) {
    if (err instanceof RPCError) return { now: null, byName: new Map() };
    throw err;
  }
  const list = (Array.isArray(stats) ? stats : []) as XmlRpcStruct[];
  return { now: list.length ? num(list[0]!.now) : null, byName: new Map(list.map((s) => [namespec(s), s])) };
}

export async function statusFeed(call: Call): Promise<StatusFeed> {
  let state: XmlRpcValue;
  let info: XmlRpcValue;
  let identification: XmlRpcValue;
  let stats: Awaited<ReturnType<typeof allStats>>;
  try {
    [state, info, identification, stats] = await Promise.all([
      call('supervisor.getState'),
      call('supervisor.getAllProcessInfo'),
      call('supervisor.getIdentification'),
      allStats(call),
    ]);
  } catch (err) {
    if (!(err instanceof RPCError)) throw err;
    const body = JSON.stringify({ fault: { faultCode: err.code, faultString: err.text } });
    const etag = etagOf(body);
    return { body, etag, figures: JSON.stringify({ etag, now: Date.now() / 1000, figures: [] }) };
  }
  const infos = (Array.isArray(info) ? info : []) as XmlRpcStruct[];
  const processes = infos.map(pick);
  const rows: FigureRow[] = [];
  const withFigures = infos.map((p, i) => {
    const s = stats.byName.get(namespec(p));
    const cpu = num(s?.cpu_seconds);
    const mem = num(s?.memory_bytes);
    if (cpu !== null || mem !== null) rows.push([namespec(p), Number(p.pid ?? 0), cpu, mem]);
    return { ...processes[i], [FIGURES[0]]: cpu, [FIGURES[1]]: mem };
  });
  const wall = Date.now() / 1000;
  const now = Math.trunc(wall);
  const body = JSON.stringify({ state, identification, now, processes: withFigures });
  // A running process's description starts "pid N, uptime H:MM:SS": the clock
  // again. What follows (fastvisor's notes: health, STATUS=) is not.
  const stable = JSON.stringify({
    state,
    identification,
    processes: processes.map((p) => (p.state === RUNNING ? { ...p, description: notesOf(p.description) } : p)),
  });
  const etag = etagOf(stable);
  // now: the daemon's wall clock when the figures were read (the page divides CPU seconds by its deltas).
  const figures = JSON.stringify({ etag, now: stats.now ?? wall, figures: rows });
  return { body, etag, figures };
}

function notesOf(description: unknown): string | null {
  const text = typeof description === 'string' ? description : '';
  const at = text.indexOf('; ');
  return at >= 0 ? text.slice(at) : null;
}

function etagOf(text: string): string {
  return `"${createHash('sha1').update(text).digest('base64url').slice(0, 22)}"`;
}
