// SPDX-License-Identifier: MIT
// GET /fastvisor/status.json: what the live page polls every second. The same
// supervisor.getState and supervisor.getAllProcessInfo as over /RPC2, as compact JSON,
// with an ETag over everything but the clock: while nothing changes the answer is a
// bodiless 304 and the page counts uptimes on its own. (getAllProcessInfo over XML-RPC is
// about 1.2 KB per process: 400 KB a second and 45 ms of XML parsing in the browser for
// 320 processes; this is a tenth of the bytes once, then a few hundred bytes of headers.)
import { createHash } from 'node:crypto';

import type { XmlRpcStruct, XmlRpcValue } from '../rpc/codec.js';
import { RPCError } from '../rpc/faults.js';
import type { Call } from './rpc.js';

const RUNNING = 20;
/** The fields the page uses; the log file paths stay out. */
const FIELDS = ['name', 'group', 'state', 'statename', 'pid', 'start', 'stop', 'spawnerr', 'exitstatus', 'description'] as const;

export interface StatusFeed {
  /** the JSON text */
  body: string;
  /** changes when anything but the clock does */
  etag: string;
}

function pick(p: XmlRpcStruct): Record<string, XmlRpcValue> {
  const out: Record<string, XmlRpcValue> = {};
  for (const f of FIELDS) out[f] = p[f] ?? null;
  return out;
}

export async function statusFeed(call: Call): Promise<StatusFeed> {
  let state: XmlRpcValue;
  let info: XmlRpcValue;
  let identification: XmlRpcValue;
  try {
    [state, info, identification] = await Promise.all([
      call('supervisor.getState'),
      call('supervisor.getAllProcessInfo'),
      call('supervisor.getIdentification'),
    ]);
  } catch (err) {
    if (!(err instanceof RPCError)) throw err;
    const body = JSON.stringify({ fault: { faultCode: err.code, faultString: err.text } });
    return { body, etag: etagOf(body) };
  }
  const processes = (Array.isArray(info) ? info : []).map((p) => pick(p as XmlRpcStruct));
  const now = Math.trunc(Date.now() / 1000);
  const body = JSON.stringify({ state, identification, now, processes });
  // A running process's description starts "pid N, uptime H:MM:SS": the clock
  // again. What follows (fastvisor's notes: health, STATUS=) is not.
  const stable = JSON.stringify({
    state,
    identification,
    processes: processes.map((p) => (p.state === RUNNING ? { ...p, description: notesOf(p.description) } : p)),
  });
  return { body, etag: etagOf(stable) };
}

function notesOf(description: unknown): string | null {
  const text = typeof description === 'string' ? description : '';
  const at = text.indexOf('; ');
  return at >= 0 ? text.slice(at) : null;
}

function etagOf(text: string): string {
  return `"${createHash('sha1').update(text).digest('base64url').slice(0, 22)}"`;
}
