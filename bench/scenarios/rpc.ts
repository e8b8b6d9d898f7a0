// SPDX-License-Identifier: MIT
// rpc: N programs of `sleep 60` (startsecs=1) under a real daemon — fastvisor's
// own (bundled, plain Node) or supervisord — and supervisor.getAllProcessInfo
// as a client sees it once all N are RUNNING: latency (one call at a time on a
// keep-alive connection, median and p99), calls per second serially and with
// CONCURRENCY connections each keeping a call in flight, the daemon's CPU per
// call, and its RSS right after start (what the 'many' scenario's driver
// cannot show: the daemon's own footprint with N processes).
//
// The client only receives the bytes in the timed loops; one answer is parsed
// first to check it lists N RUNNING processes.
//
// Two more cases ask fastvisor alone the same way for the per-process figures:
// fastvisor.getAllProcessStats, and GET /metrics (a Prometheus scrape): its
// CPU per call is the "scrape budget" row.
import http from 'node:http';

import { parseMethodResponse, serializeMethodCall, type XmlRpcStruct } from '../../src/rpc/codec.js';
import { now, percentile, procCpu, procMemory } from '../lib/measure.js';
import { daemonPeers } from '../peers/fastvisord.js';
import type { PeerDef, RpcMeasure, TrialContext, TrialResult } from '../lib/types.js';
import { makeWork, withPeer, type CaseDef, type Scenario } from './common.js';

function count(quick: boolean): number {
  return quick ? 50 : 500;
}

/** Connections for the throughput window. */
const CONCURRENCY = 4;
/** The latency loop: this many calls, or this long, whichever ends first. */
const LATENCY_CALLS = 300;
const LATENCY_MS = 6000;
/** The throughput window. */
const RATE_MS = 3000;

export interface Target {
  /** what the errors call it */
  what: string;
  method: 'POST' | 'GET';
  path: string;
  body?: Buffer;
}

const rpcTarget = (method: string): Target => ({ what: method, method: 'POST', path: '/RPC2', body: serializeMethodCall(method, []) });
export const TARGETS: Record<string, Target> = {
  getAllProcessInfo: rpcTarget('supervisor.getAllProcessInfo'),
  getAllProcessStats: rpcTarget('fastvisor.getAllProcessStats'),
  metrics: { what: 'GET /metrics', method: 'GET', path: '/metrics' },
};

export interface Reply {
  status: number;
  body: Buffer;
}

/** The target's request over the unix socket; resolves when the last byte of the reply is in. */
export function post(socketPath: string, agent: http.Agent, keep: boolean, t: Target): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = t.body ? { 'Content-Type': 'text/xml', 'Content-Length': t.body.length } : {};
    const req = http.request(
      { socketPath, agent, path: t.path, method: t.method, headers },
      (res) => {
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (keep) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: keep ? Buffer.concat(chunks) : Buffer.alloc(n) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(t.body);
  });
}

/** How many processes an answer shows RUNNING, and how many it lists. */
function running(t: Target, body: Buffer): [number, number] {
  if (t.method === 'GET') {
    const lines = body.toString('utf8').split('\n').filter((l) => l.startsWith('fastvisor_process_state{'));
    return [lines.filter((l) => l.includes('state="RUNNING"} 1')).length, lines.length / 8];
  }
  const parsed = parseMethodResponse(body);
  if (parsed.kind !== 'params') throw new Error(`${t.what}: fault ${parsed.faultString}`);
  const infos = parsed.params[0] as XmlRpcStruct[];
  return [infos.filter((i) => i.statename === 'RUNNING').length, infos.length];
}

async function measure(socketPath: string, pid: number, n: number, t: Target): Promise<RpcMeasure> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post1 = (keep: boolean): Promise<Reply> => post(socketPath, agent, keep, t);
  try {
    // Check the answer once, outside the timed loops.
    const first = await post1(true);
    if (first.status !== 200) throw new Error(`${t.what}: HTTP ${first.status}`);
    const [up, listed] = running(t, first.body);
    if (listed !== n || up !== n) throw new Error(`${t.what} lists ${listed} processes, ${up} RUNNING; expected ${n}`);
    for (let i = 0; i < 5; i++) await post1(false);

    // Latency: one call at a time.
    const lat: number[] = [];
    const t0 = now();
    while (lat.length < LATENCY_CALLS && now() - t0 < LATENCY_MS) {
      const t0call = now();
      const r = await post1(false);
      if (r.status !== 200) throw new Error(`${t.what}: HTTP ${r.status}`);
      lat.push(now() - t0call);
    }
    const serialSec = (now() - t0) / 1000;

    // Throughput: CONCURRENCY connections, one call in flight on each.
    const cpu0 = procCpu(pid);
    const w0 = now();
    let done = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (now() - w0 < RATE_MS) {
          const r = await post1(false);
          if (r.status !== 200) throw new Error(`${t.what}: HTTP ${r.status}`);
          done++;
        }
      }),
    );
    const windowSec = (now() - w0) / 1000;
    const cpu1 = procCpu(pid);

    return {
      processes: n,
      responseBytes: first.body.length,
      latencyMs: { p50: percentile(lat, 50)!, p99: percentile(lat, 99)!, calls: lat.length },
      rateSerial: lat.length / serialSec,
      rateConcurrent: done / windowSec,
      concurrency: CONCURRENCY,
      cpuMsPerCall: cpu0 && cpu1 && done ? ((cpu1.total - cpu0.total) * 1000) / done : undefined,
    };
  } finally {
    agent.destroy();
  }
}

export const rpc: Scenario = {
  name: 'rpc',
  describe: `N × \`sleep 60\` under the real daemon: getAllProcessInfo latency and calls/s (1 and ${CONCURRENCY} connections), RSS after start; fastvisor's getAllProcessStats and /metrics the same way`,
  cases(quick): CaseDef[] {
    return [
      {
        name: `${count(quick)}xsleep-getAllProcessInfo`,
        peers: [...daemonPeers(), 'supervisord'],
        timeoutSec: 300,
        note: 'the client receives every byte of each answer but parses only the first; both daemons answer over a unix socket',
      },
      {
        name: `${count(quick)}xsleep-getAllProcessStats`,
        peers: ['fastvisord'],
        timeoutSec: 300,
        note: 'fastvisor.getAllProcessStats: the figures of process/stats.ts (/proc read per call)',
      },
      {
        name: `${count(quick)}xsleep-metrics`,
        peers: ['fastvisord'],
        timeoutSec: 300,
        note: 'GET /metrics (Prometheus text): CPU ms/call is the daemon CPU per scrape',
      },
    ];
  },
  async run(name: string, peer: PeerDef, ctx: TrialContext, run: number): Promise<TrialResult> {
    const n = count(ctx.quick);
    const target = name.startsWith(`${n}xsleep-`) ? TARGETS[name.slice(`${n}xsleep-`.length)] : undefined;
    if (!target) throw new Error(`no rpc case ${name}`);
    const programs = Array.from({ length: n }, () => ({ argv: ['/bin/sleep', '60'], expectedBytes: 0 }));
    const work = makeWork('rpc', ctx, programs, { startsecs: 1 });
    const t0 = now();
    return withPeer({ scenario: 'rpc', case: name, peer: peer.name, run }, work, peer, ctx, async (s, r) => {
      if (!s.rpcSocket) throw new Error(`${peer.name} is not a daemon with an XML-RPC socket`);
      await s.ready(60_000);
      await s.go();
      await s.allRunning(120_000);
      r.wallSec = (now() - t0) / 1000;
      r.rssKB = procMemory(s.pid)?.rssKB;
      r.rpc = await measure(s.rpcSocket, s.pid, n, target);
      r.peakRssKB = procMemory(s.pid)?.peakKB;
      r.via = 'all RUNNING';
    });
  },
};
