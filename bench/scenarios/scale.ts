// SPDX-License-Identifier: MIT
// scale: N programs of `sleep 600` (startsecs=1) under the real daemon —
// fastvisor's (bundled, plain Node) and supervisord — for N in 100, 500, 1000,
// 2000 (`--sizes 100,500` runs a subset): the README's scaling table.
//
// Per trial: time from launching the daemon to all N RUNNING: the stamp of the
// last "entered RUNNING state" line of the daemon's main log (both write
// supervisord's), once polling getAllProcessInfo has seen all N (the next poll
// waiting twice as long as the last reply took, so that polling costs neither
// daemon more than a third of its time; a reply held up behind the start-up
// itself made the poll alone add seconds at 2000),
// the daemon's RSS and Private_Dirty (smaps_rollup: the node binary's shared
// clean text is much of fastvisor's RSS and none of its cost per process),
// its CPU per getAllProcessInfo (serial calls, as rpc.ts sends them), and
// the wall time of `supervisorctl status` with the Python supervisorctl and
// with fastvisorctl (bin/fastvisorctl.cjs, so `npm run build` first), plus a
// one-shot `fastvisorctl version` and a bare `node -e 0` for its start-up.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { fileLines } from '../lib/files.js';
import { asctimeMs, median, now, procCpu, procMemory } from '../lib/measure.js';
import type { PeerDef, TrialContext, TrialResult } from '../lib/types.js';
import { daemonPeers } from '../peers/fastvisord.js';
import { mainLogPath } from '../peers/supervisord.js';
import { makeWork, withPeer, type CaseDef, type Scenario } from './common.js';
import { post, TARGETS } from './rpc.js';

export const SCALE = 'scale' as const;

/** BENCH_SCALE_SIZES (run.ts --sizes) picks the sizes: the runner's trials inherit it. */
export const SIZES_VAR = 'BENCH_SCALE_SIZES';

/**
 * BENCH_SCALE_REST (run.ts --rest S): after the other figures, leave the daemon alone
 * S seconds and read its memory again. "At rest" is after V8's memory reducer, which
 * runs ~8 s after the last burst of allocation: 20-25 s is enough. Off by default
 * (it adds S seconds to every trial).
 */
export const REST_VAR = 'BENCH_SCALE_REST';

function restSeconds(): number {
  const v = process.env[REST_VAR];
  if (!v) return 0;
  const s = Number(v);
  if (!Number.isFinite(s) || s < 0) throw new Error(`--rest takes seconds: ${v}`);
  return s;
}

function sizes(quick: boolean): number[] {
  const env = process.env[SIZES_VAR];
  if (env) {
    const list = env.split(',').map(Number);
    if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes takes whole numbers: ${env}`);
    return list;
  }
  return quick ? [20, 50] : [100, 500, 1000, 2000];
}

/** ctl runs per trial for each command (their median is reported). */
const CTL_RUNS = 3;
/** getAllProcessInfo calls for the CPU figure: this many, or this long. */
const CPU_CALLS = 10;
const CPU_MS = 8000;

export interface ScaleMeasure {
  programs: number;
  /** launch → all RUNNING, s */
  upSec: number;
  rssKB?: number;
  /** Private_Dirty of smaps_rollup, KiB */
  privateKB?: number;
  /** RSS and Private_Dirty once the daemon has been left alone for --rest seconds, KiB */
  restRssKB?: number;
  restPrivateKB?: number;
  /** daemon CPU per getAllProcessInfo, ms */
  cpuMsPerCall?: number;
  replyBytes?: number;
  /** medians of CTL_RUNS, ms */
  pyStatusMs?: number;
  fvStatusMs?: number;
  fvVersionMs?: number;
  nodeMs?: number;
}

export type ScaleTrialResult = TrialResult & { scale?: ScaleMeasure };

/** Rss and Private_Dirty of the daemon's smaps_rollup, KiB, from one read. */
function rollupKB(pid: number): { rssKB?: number; privateKB?: number } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return {};
  }
  const kb = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  return { rssKB: kb('Rss'), privateKB: kb('Private_Dirty') };
}

/** Polls until all n are RUNNING; each poll waits twice the previous reply's time (at least 100 ms). */
async function waitAllRunning(sock: string, n: number, timeoutMs: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const t = TARGETS.getAllProcessInfo!;
  const deadline = now() + timeoutMs;
  let last = -1;
  try {
    while (now() < deadline) {
      const t0 = now();
      let took = 0;
      try {
        const r = await post(sock, agent, true, t);
        took = now() - t0;
        if (r.status === 200) {
          last = r.body.toString('latin1').split('<string>RUNNING</string>').length - 1;
          if (last >= n) return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, Math.max(100, 2 * took)));
    }
    throw new Error(`${last} of ${n} RUNNING after ${timeoutMs / 1000} s`);
  } finally {
    agent.destroy();
  }
}

/** Epoch ms of the last "entered RUNNING state" line of a main log (NaN: none, or no log). */
function lastRunningMs(mainLog: string): number {
  let last = NaN;
  for (const line of fileLines(mainLog)) {
    if (!line.includes(' entered RUNNING state')) continue;
    const t = asctimeMs(line.slice(0, 23));
    if (!(t <= last)) last = t;
  }
  return last;
}

/** Daemon CPU ms per getAllProcessInfo, serial calls on one connection. */
async function cpuPerCall(sock: string, pid: number): Promise<{ ms?: number; bytes: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const t = TARGETS.getAllProcessInfo!;
  try {
    const first = await post(sock, agent, false, t);
    const c0 = procCpu(pid);
    const t0 = now();
    let calls = 0;
    while (calls < CPU_CALLS && now() - t0 < CPU_MS) {
      const r = await post(sock, agent, false, t);
      if (r.status !== 200) throw new Error(`getAllProcessInfo: HTTP ${r.status}`);
      calls++;
    }
    const c1 = procCpu(pid);
    return { ms: c0 && c1 ? ((c1.total - c0.total) * 1000) / calls : undefined, bytes: first.body.length };
  } finally {
    agent.destroy();
  }
}

/**
 * Median wall ms of a command run CTL_RUNS times; `check` sees its stdout. The
 * child is killed by pid on timeout (spawnSync's), so nothing outlives it.
 */
function wallMs(file: string, args: string[], check: (stdout: string, status: number | null) => string | undefined): number {
  const times: number[] = [];
  for (let i = 0; i < CTL_RUNS; i++) {
    const t0 = now();
    const r = spawnSync(file, args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
    times.push(now() - t0);
    if (r.error) throw new Error(`${path.basename(file)} ${args.join(' ')}: ${r.error.message}`);
    const bad = check(r.stdout, r.status);
    if (bad) throw new Error(`${path.basename(file)} ${args.join(' ')}: ${bad}`);
  }
  return median(times)!;
}

export const scale: Scenario = {
  name: SCALE,
  describe:
    'N × `sleep 600`, startsecs=1, under the real daemon: launch → all RUNNING, RSS and Private_Dirty, CPU per getAllProcessInfo, `supervisorctl status` wall (Python ctl and fastvisorctl)',
  cases(quick): CaseDef[] {
    return sizes(quick).map((n) => ({
      name: `${n}xsleep`,
      peers: [...daemonPeers(), 'supervisord'],
      timeoutSec: 120 + n / 2,
      note: 'all RUNNING: the last "entered RUNNING state" line of the main log, once a getAllProcessInfo poll (each after twice the last reply time) has seen all; ctl times are medians of 3, the same daemon for both ctls',
    }));
  },
  async run(name: string, peer: PeerDef, ctx: TrialContext, run: number): Promise<TrialResult> {
    const n = Number(/^(\d+)xsleep$/.exec(name)?.[1]);
    if (!n) throw new Error(`no scale case ${name}`);
    const fastvisorctl = path.join(ctx.repoRoot, 'bin', 'fastvisorctl.cjs');
    if (!existsSync(path.join(ctx.repoRoot, 'dist', 'fastvisorctl.cjs'))) {
      throw new Error('fastvisorctl runs dist/: `npm run build` first');
    }
    const programs = Array.from({ length: n }, () => ({ argv: ['/bin/sleep', '600'], expectedBytes: 0 }));
    const work = makeWork(SCALE, ctx, programs, { startsecs: 1 });
    const t0 = now();
    const wall0 = Date.now();
    return withPeer({ scenario: SCALE, case: name, peer: peer.name, run }, work, peer, ctx, async (s, r) => {
      if (!s.rpcSocket) throw new Error(`${peer.name} is not a daemon with an XML-RPC socket`);
      await s.ready(60_000);
      await s.go();
      await waitAllRunning(s.rpcSocket, n, 60_000 + n * 400);
      const polled = (now() - t0) / 1000;
      const logged = (lastRunningMs(mainLogPath(work)) - wall0) / 1000;
      const upSec = logged > 0 && logged <= polled ? logged : polled;
      if (upSec === polled) r.notes.push('all RUNNING from the poll: no RUNNING line in the main log');
      const m: ScaleMeasure = { programs: n, upSec, ...rollupKB(s.pid) };
      const cpu = await cpuPerCall(s.rpcSocket, s.pid);
      m.cpuMsPerCall = cpu.ms;
      m.replyBytes = cpu.bytes;
      const conf = path.join(work.scratch, 'supervisord.conf');
      const allListed = (out: string, status: number | null): string | undefined => {
        const running = out.split('\n').filter((l) => /\sRUNNING\s/.test(l)).length;
        return running === n && status === 0 ? undefined : `${running} RUNNING lines of ${n}, exit status ${status}`;
      };
      m.pyStatusMs = wallMs('/usr/bin/supervisorctl', ['-c', conf, 'status'], allListed);
      m.fvStatusMs = wallMs(process.execPath, [fastvisorctl, '-c', conf, 'status'], allListed);
      m.fvVersionMs = wallMs(process.execPath, [fastvisorctl, '-c', conf, 'version'], (out, st) =>
        st === 0 && /^\d/.test(out) ? undefined : `no version (exit status ${st})`,
      );
      m.nodeMs = wallMs(process.execPath, ['-e', '0'], () => undefined);
      const rest = restSeconds();
      if (rest > 0) {
        await sleep(rest * 1000);
        const atRest = rollupKB(s.pid);
        m.restRssKB = atRest.rssKB;
        m.restPrivateKB = atRest.privateKB;
      }
      (r as ScaleTrialResult).scale = m;
      r.wallSec = upSec;
      r.rssKB = m.rssKB;
      r.peakRssKB = procMemory(s.pid)?.peakKB;
      r.via = 'all RUNNING';
    });
  },
};

/** The trial's figures for the runner's progress line. */
export function scaleLine(r: TrialResult): string {
  const m = (r as ScaleTrialResult).scale;
  if (!m) return '';
  const x = (v: number | undefined, d: number) => (v === undefined ? '?' : v.toFixed(d));
  return (
    `private ${x(m.privateKB === undefined ? undefined : m.privateKB / 1024, 1)} MiB, ${x(m.cpuMsPerCall, 1)} ms CPU/getAllProcessInfo, ` +
    `status ${x(m.pyStatusMs, 0)} ms (py) ${x(m.fvStatusMs, 0)} ms (fastvisorctl), version ${x(m.fvVersionMs, 0)} ms, node -e 0 ${x(m.nodeMs, 0)} ms`
  );
}

// ---- the table ----------------------------------------------------------------------

const f = (v: number | undefined, d: number): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));

/**
 * The cost per added program over the last span of sizes, over that of the first span:
 * 1 is linear, above 1 grows faster than linearly (a constant floor cancels out).
 */
function growth(points: Array<[number, number | undefined]>): string {
  const ok = points.filter((p): p is [number, number] => p[1] !== undefined && Number.isFinite(p[1]));
  if (ok.length < 3) return '—';
  const slope = (a: [number, number], b: [number, number]) => (b[1] - a[1]) / (b[0] - a[0]);
  const first = slope(ok[0]!, ok[1]!);
  const last = slope(ok[ok.length - 2]!, ok[ok.length - 1]!);
  return first > 0 ? (last / first).toFixed(2) : '—';
}

/** The scaling table: one row per size and daemon, medians over the runs, ratios to supervisord. */
export function renderScale(results: TrialResult[]): string[] {
  const rs = (results as ScaleTrialResult[]).filter((r) => r.scenario === SCALE);
  if (!rs.length) return [];
  const med = (peer: string, n: number, pick: (m: ScaleMeasure) => number | undefined): number | undefined =>
    median(
      rs
        .filter((r) => r.ok && r.peer === peer && r.scale?.programs === n)
        .map((r) => pick(r.scale!))
        .filter((x): x is number => x !== undefined),
    );
  const ns = [...new Set(rs.map((r) => Number(/^(\d+)/.exec(r.case)?.[1])))].sort((a, b) => a - b);
  const peers = ['fastvisord', ...(rs.some((r) => r.peer === 'fastvisord-before') ? ['fastvisord-before'] : []), 'supervisord'];
  const cols: Array<[string, (m: ScaleMeasure) => number | undefined, number]> = [
    ['all RUNNING s', (m) => m.upSec, 2],
    ['RSS MiB', (m) => (m.rssKB === undefined ? undefined : m.rssKB / 1024), 1],
    ['private MiB', (m) => (m.privateKB === undefined ? undefined : m.privateKB / 1024), 1],
    ...(rs.some((r) => r.scale?.restRssKB !== undefined)
      ? ([
          ['RSS at rest MiB', (m) => (m.restRssKB === undefined ? undefined : m.restRssKB / 1024), 1],
          ['private at rest MiB', (m) => (m.restPrivateKB === undefined ? undefined : m.restPrivateKB / 1024), 1],
        ] as Array<[string, (m: ScaleMeasure) => number | undefined, number]>)
      : []),
    ['CPU ms/getAllProcessInfo', (m) => m.cpuMsPerCall, 1],
    ['status (py ctl) ms', (m) => m.pyStatusMs, 0],
    ['status (fastvisorctl) ms', (m) => m.fvStatusMs, 0],
  ];
  const headers = ['N', 'daemon', ...cols.map((c) => c[0])];
  const rows: string[][] = [];
  for (const n of ns) {
    for (const p of peers) rows.push([String(n), p, ...cols.map(([, pick, d]) => f(med(p, n, pick), d))]);
    rows.push([
      '',
      'fastvisord ÷ supervisord',
      ...cols.map(([, pick]) => {
        const a = med('fastvisord', n, pick);
        const b = med('supervisord', n, pick);
        return a !== undefined && b ? `${(a / b).toFixed(2)}×` : '—';
      }),
    ]);
  }
  for (const p of peers) rows.push(['', `${p} slope last ÷ first`, ...cols.map(([, pick]) => growth(ns.map((n) => [n, med(p, n, pick)])))]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  const out = ['', `## ${SCALE}: ${scale.describe}`, '', line(headers), '|' + widths.map((w, i) => (i < 2 ? '-' : '') + '-'.repeat(w) + (i < 2 ? '-' : '-:')).join('|') + '|', ...rows.map(line)];
  // fastvisorctl's own start-up: a one-shot command against a bare node.
  const fv = ns.map((n) => [n, med('fastvisord', n, (m) => m.fvVersionMs), med('fastvisord', n, (m) => m.nodeMs)] as const);
  out.push('', `fastvisorctl version (ms, fastvisord): ${fv.map(([n, v, z]) => `N=${n} ${f(v, 0)} (node -e 0: ${f(z, 0)}, +${f(v !== undefined && z !== undefined ? v - z : undefined, 0)})`).join('; ')}`);
  out.push(`slope last ÷ first: the cost per added program between the two largest sizes over that between the two smallest (1.00 = linear, above 1 = faster than linear)`);
  for (const r of rs) {
    if (!r.ok) out.push(`  ! ${r.case} ${r.peer} #${r.run}: ${r.error?.split('\n')[0]}`);
    for (const note of r.notes) out.push(`  * ${r.case} ${r.peer}: ${note}`);
    if (r.leftover) out.push(`  ! ${r.case} ${r.peer}: ${r.leftover} processes outlived the peer`);
  }
  return out;
}
