// SPDX-License-Identifier: MIT
// npm run bench [-- [bulk|chatty|many|rpc|crashloop|deps|scale|CASE…] [--runs N] [--sizes 100,500] [--rest S] [--quick] [--peers a,b] [--no-pm2] [--pin] [--before DIR] [--after DIR]]
//
// Runs every scenario case × peer --runs times (default 3), each trial in a
// fresh process (bench/trial.ts), runs interleaved so drift spreads over all
// peers; prints the medians with ratios to the C loop and to supervisord, and
// writes everything to bench/results/<time>.json.
//
// --before DIR (or FASTVISOR_BEFORE=DIR) adds the peer fastvisord-before where
// a case lists it (crashloop): fastvisor's daemon from another, built checkout
// of the repository (see peers/fastvisord.ts), for before/after comparisons;
// --after DIR (FASTVISOR_AFTER) has the fastvisord peer run a checkout too.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildBinaries } from './lib/build.js';
import { median } from './lib/measure.js';
import { PROGRAM_CPU, PUMP_CPU } from './lib/pin.js';
import { atExit, killGroup } from './lib/procs.js';
import type { ScenarioName, TrialResult } from './lib/types.js';
import { AFTER_VAR, BEFORE_VAR } from './peers/fastvisord.js';
import { C_LOOP_PEER, PEERS, SUPERVISORD_PEER } from './peers/index.js';
import type { CaseDef } from './scenarios/common.js';
import { DEPS, type DepsTrialResult } from './scenarios/deps.js';
import { SCENARIOS } from './scenarios/index.js';
import { renderScale, REST_VAR, scaleLine, SIZES_VAR } from './scenarios/scale.js';
import type { TrialSpec } from './trial.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);

// ---- arguments ----------------------------------------------------------------

interface Options {
  runs: number;
  quick: boolean;
  filters: string[];
  peers: string[] | null;
  pm2: boolean;
  pin: boolean;
  before?: string;
  after?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { runs: 3, quick: false, filters: [], peers: null, pm2: true, pin: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs') o.runs = Math.max(1, Number(argv[++i]));
    else if (a.startsWith('--runs=')) o.runs = Math.max(1, Number(a.slice(7)));
    else if (a === '--quick') o.quick = true;
    else if (a === '--no-pm2') o.pm2 = false;
    else if (a === '--pin') o.pin = true;
    else if (a === '--before') o.before = argv[++i];
    else if (a.startsWith('--after=')) o.after = a.slice(8);
    else if (a === '--after') o.after = argv[++i];
    else if (a.startsWith('--before=')) o.before = a.slice(9);
    // scale's sizes: an environment variable, so the trials (child processes) see it too.
    else if (a === '--sizes') process.env[SIZES_VAR] = argv[++i] ?? '';
    else if (a.startsWith('--sizes=')) process.env[SIZES_VAR] = a.slice(8);
    else if (a === '--rest') process.env[REST_VAR] = argv[++i] ?? '';
    else if (a.startsWith('--rest=')) process.env[REST_VAR] = a.slice(7);
    else if (a === '--peers') o.peers = (argv[++i] ?? '').split(',');
    else if (a.startsWith('--peers=')) o.peers = a.slice(8).split(',');
    else if (a === '--help' || a === '-h') {
      console.log('npm run bench [-- [bulk|chatty|many|rpc|crashloop|deps|scale|CASE…] [--runs N] [--sizes 100,500] [--rest S] [--quick] [--peers a,b] [--no-pm2] [--pin] [--before DIR] [--after DIR]]');
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else o.filters.push(a);
  }
  if (!Number.isInteger(o.runs)) throw new Error('--runs takes a number');
  // The trials inherit these: the peers and the case list read them there.
  for (const [opt, value, name] of [
    ['--before', o.before, BEFORE_VAR],
    ['--after', o.after, AFTER_VAR],
  ] as const) {
    if (value === undefined) continue;
    if (!value) throw new Error(`${opt} takes a directory`);
    process.env[name] = path.resolve(value);
  }
  return o;
}

// ---- PM2, when it is quick to get ---------------------------------------------

function findPm2(): { cli?: string; why?: string } {
  try {
    // npx caches pm2 outside the repository; -c prints where its bin landed.
    const out = execFileSync('npx', ['--yes', '--package=pm2@5', '-c', 'command -v pm2'], {
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    const bin = out.split('\n').pop()!;
    return { cli: realpathSync(bin) };
  } catch (err) {
    return { why: `npx pm2@5 unavailable (${err instanceof Error ? err.message.split('\n')[0] : String(err)})` };
  }
}

// ---- trials ---------------------------------------------------------------------

let current: number | undefined;
atExit(() => {
  if (current) killGroup(current, 'SIGTERM');
});

function runTrial(spec: TrialSpec, timeoutSec: number): Promise<TrialResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(benchDir, 'trial.ts'), JSON.stringify(spec)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    current = child.pid;
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM'); // the trial cleans up on SIGTERM
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    }, timeoutSec * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) return resolve(JSON.parse(line.slice(7)) as TrialResult);
      resolve({
        ...spec,
        ok: false,
        error: timedOut ? `trial timed out after ${timeoutSec} s` : `trial exited (${code ?? signal}) without a result: ${err.trim()}`,
        leftover: 0,
        notes: [],
      });
    });
  });
}

// ---- tables ---------------------------------------------------------------------

interface Row {
  scenario: ScenarioName;
  case: string;
  peer: string;
  ok: number;
  runs: number;
  wallSec?: number;
  throughputGBs?: number;
  /** min and max over the runs: this VM is noisy */
  throughputRange?: [number, number];
  cpuSec?: number;
  cpuSecRange?: [number, number];
  cpuPct?: number;
  cpuPctRange?: [number, number];
  peakRssKB?: number;
  lostBytes?: number;
  lagP50?: number;
  lagP99?: number;
  stopSec?: number;
  goSec?: number;
  rssKB?: number;
  rpcP50?: number;
  rpcP99?: number;
  rpcRateSerial?: number;
  rpcRate?: number;
  rpcRateRange?: [number, number];
  rpcCpuMs?: number;
  rpcBytes?: number;
  crRate?: number;
  crRateRange?: [number, number];
  crAlive?: number;
  crChildren?: number;
  crGsP50?: number;
  crGsP99?: number;
  crGsMax?: number;
  crLostPct?: number;
  crLostRange?: [number, number];
  crOverflow?: number;
  crDelivered?: number;
  crWait?: number;
  crCpuPct?: number;
  crUpSec?: number;
  boRate?: number;
  boRateRange?: [number, number];
  boRatePeriod?: number;
  boCpuMs?: number;
  boCpuPct?: number;
  boCpuRange?: [number, number];
  boWait?: number;
  boPeak?: number;
  boPeakMean?: number;
  boPeakMeanRange?: [number, number];
  boCv?: number;
  boCvRange?: [number, number];
  boSecMin?: number;
  boSecMax?: number;
  /** deps start-up cases (scenarios/deps.ts) */
  dsStartsecs?: number;
  /** 0: the flat cases */
  dsLevels?: number;
  dsFirstSpawn?: number;
  dsAllRunning?: number;
  dsAllRunningRange?: [number, number];
  /** per run the median, the max and the sum of the per-level gates; medians over the runs */
  dsGateP50?: number;
  dsGateMax?: number;
  dsGateSum?: number;
  dsViolations?: number;
  dsStopAll?: number;
  /** deps health-check cases */
  hcCheck?: string;
  hcWindow?: number;
  hcChecks?: number;
  hcCpuPct?: number;
  hcCpuPctRange?: [number, number];
  hcMsPerCheck?: number;
  hcNotHealthy?: number;
  hcToHealthy?: number;
  hcRssKB?: number;
  leftover: number;
  errors: string[];
  notes: string[];
}

function summarise(results: TrialResult[]): Row[] {
  const groups = new Map<string, TrialResult[]>();
  for (const r of results) {
    const k = `${r.scenario}\0${r.case}\0${r.peer}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const ok = rs.filter((r) => r.ok);
    const values = (f: (r: TrialResult) => number | undefined) => ok.map(f).filter((x): x is number => x !== undefined);
    const m = (f: (r: TrialResult) => number | undefined) => median(values(f));
    const range = (f: (r: TrialResult) => number | undefined): [number, number] | undefined => {
      const v = values(f);
      return v.length ? [Math.min(...v), Math.max(...v)] : undefined;
    };
    return {
      scenario: rs[0]!.scenario,
      case: rs[0]!.case,
      peer: rs[0]!.peer,
      ok: ok.length,
      runs: rs.length,
      wallSec: m((r) => r.wallSec),
      throughputGBs: m((r) => r.throughputGBs),
      throughputRange: range((r) => r.throughputGBs),
      cpuSec: m((r) => r.cpuSec),
      cpuSecRange: range((r) => r.cpuSec),
      cpuPct: m((r) => r.cpuPct),
      cpuPctRange: range((r) => r.cpuPct),
      peakRssKB: m((r) => r.peakRssKB),
      // lost bytes: the worst run, not the median — one lossy run matters.
      lostBytes: ok.length ? Math.max(...ok.map((r) => r.lostBytes ?? 0)) : undefined,
      lagP50: m((r) => r.lagMs?.p50),
      lagP99: m((r) => r.lagMs?.p99),
      stopSec: m((r) => r.stopSec),
      goSec: m((r) => r.goSec),
      rssKB: m((r) => r.rssKB),
      rpcP50: m((r) => r.rpc?.latencyMs.p50),
      rpcP99: m((r) => r.rpc?.latencyMs.p99),
      rpcRateSerial: m((r) => r.rpc?.rateSerial),
      rpcRate: m((r) => r.rpc?.rateConcurrent),
      rpcRateRange: range((r) => r.rpc?.rateConcurrent),
      rpcCpuMs: m((r) => r.rpc?.cpuMsPerCall),
      rpcBytes: m((r) => r.rpc?.responseBytes),
      crRate: m((r) => r.crash?.restartsPerSec),
      crRateRange: range((r) => r.crash?.restartsPerSec),
      crAlive: m((r) => r.crash?.aliveAtEnd),
      crChildren: m((r) => r.crash?.childrenAtEnd),
      crGsP50: m((r) => r.crash?.getStateMs.p50),
      crGsP99: m((r) => r.crash?.getStateMs.p99),
      crGsMax: m((r) => r.crash?.getStateMs.max),
      crLostPct: m((r) => r.crash?.events.lostPct),
      crLostRange: range((r) => r.crash?.events.lostPct),
      crOverflow: m((r) => r.crash?.events.overflowLogged),
      crDelivered: m((r) => r.crash?.events.deliveredPerSec),
      crWait: m((r) => r.crash?.daemonRunqWaitPct),
      crCpuPct: m((r) => r.crash?.daemonCpuPct),
      crUpSec: m((r) => (r.crash || r.backoff ? r.wallSec : undefined)),
      boRate: m((r) => r.backoff?.restartsPerSec),
      boRateRange: range((r) => r.backoff?.restartsPerSec),
      boRatePeriod: m((r) => r.backoff?.restartsPerSecByPeriod),
      boCpuMs: m((r) => r.backoff?.cpuMsPerRestart),
      boCpuPct: m((r) => r.backoff?.daemonCpuPct),
      boCpuRange: range((r) => r.backoff?.daemonCpuPct),
      boWait: m((r) => r.backoff?.daemonRunqWaitPct),
      boPeak: m((r) => r.backoff?.peakPerBucket),
      boPeakMean: m((r) => r.backoff?.peakOverMean),
      boPeakMeanRange: range((r) => r.backoff?.peakOverMean),
      boCv: m((r) => r.backoff?.perSec.cv),
      boCvRange: range((r) => r.backoff?.perSec.cv),
      boSecMin: m((r) => r.backoff?.perSec.min),
      boSecMax: m((r) => r.backoff?.perSec.max),
      ...depsFields(ok),
      leftover: Math.max(0, ...rs.map((r) => r.leftover)),
      errors: rs.filter((r) => !r.ok).map((r) => `run ${r.run}: ${r.error?.split('\n')[0]}`),
      notes: [...new Set(rs.flatMap((r) => r.notes))],
    };
  });
}

const fmt = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}×`;
const mb = (kb: number | undefined) => (kb === undefined ? '—' : (kb / 1024).toFixed(1));
const span = (r: [number, number] | undefined, digits: number) => (r ? `${r[0].toFixed(digits)}–${r[1].toFixed(digits)}` : '—');

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function render(rows: Row[], cases: Map<string, CaseDef>): string[] {
  const out: string[] = [];
  const find = (r: Row, peer: string) => rows.find((x) => x.scenario === r.scenario && x.case === r.case && x.peer === peer);
  const okStr = (r: Row) => (r.ok === r.runs ? '' : ` (${r.ok}/${r.runs} ok)`);
  for (const scenario of ['bulk', 'chatty', 'many', 'rpc', 'crashloop'] as const) {
    const rs = rows.filter((r) => r.scenario === scenario);
    if (!rs.length) continue;
    out.push('', `## ${scenario}: ${SCENARIOS[scenario].describe}`, '');
    if (scenario === 'bulk') {
      out.push(
        table(
          ['case', 'peer', 'wall s', 'spawn s', 'GB/s', '(min–max)', 'CPU s', 'peak RSS MiB', 'lost B', 'GB/s vs C', 'CPU vs C', 'GB/s vs sd', 'CPU vs sd'],
          rs.map((r) => {
            const c = find(r, C_LOOP_PEER);
            const sd = find(r, SUPERVISORD_PEER);
            return [
              r.case,
              r.peer + okStr(r),
              fmt(r.wallSec, 3),
              fmt(r.goSec, 3),
              fmt(r.throughputGBs),
              span(r.throughputRange, 2),
              fmt(r.cpuSec, 3),
              mb(r.peakRssKB),
              fmt(r.lostBytes, 0),
              ratio(r.throughputGBs, c?.throughputGBs),
              ratio(r.cpuSec, c?.cpuSec),
              ratio(r.throughputGBs, sd?.throughputGBs),
              ratio(r.cpuSec, sd?.cpuSec),
            ];
          }),
        ),
      );
    } else if (scenario === 'chatty') {
      out.push(
        table(
          ['case', 'peer', 'spawn s', 'CPU % (window)', '(min–max)', 'CPU s (all)', 'peak RSS MiB', 'lost B', 'lag p50 ms', 'lag p99 ms', 'CPU% vs C', 'CPU% vs sd'],
          rs.map((r) => {
            const c = find(r, C_LOOP_PEER);
            const sd = find(r, SUPERVISORD_PEER);
            return [
              r.case,
              r.peer + okStr(r),
              fmt(r.goSec, 2),
              fmt(r.cpuPct, 1),
              span(r.cpuPctRange, 1),
              fmt(r.cpuSec, 2),
              mb(r.peakRssKB),
              fmt(r.lostBytes, 0),
              fmt(r.lagP50, 1),
              fmt(r.lagP99, 1),
              ratio(r.cpuPct, c?.cpuPct),
              ratio(r.cpuPct, sd?.cpuPct),
            ];
          }),
        ),
      );
    } else if (scenario === 'rpc') {
      out.push(
        table(
          [
            'case',
            'peer',
            'to all RUNNING s',
            'RSS after start MiB',
            'peak RSS MiB',
            'p50 ms',
            'p99 ms',
            'calls/s (1 conn)',
            'calls/s (4 conns)',
            '(min–max)',
            'CPU ms/call',
            'reply KiB',
            'p50 vs sd',
            'calls/s vs sd',
            'RSS vs sd',
          ],
          rs.map((r) => {
            const sd = find(r, SUPERVISORD_PEER);
            return [
              r.case,
              r.peer + okStr(r),
              fmt(r.wallSec, 2),
              mb(r.rssKB),
              mb(r.peakRssKB),
              fmt(r.rpcP50, 2),
              fmt(r.rpcP99, 2),
              fmt(r.rpcRateSerial, 1),
              fmt(r.rpcRate, 1),
              span(r.rpcRateRange, 1),
              fmt(r.rpcCpuMs, 2),
              fmt(r.rpcBytes === undefined ? undefined : r.rpcBytes / 1024, 0),
              ratio(r.rpcP50, sd?.rpcP50),
              ratio(r.rpcRate, sd?.rpcRate),
              ratio(r.rssKB, sd?.rssKB),
            ];
          }),
        ),
      );
    } else if (scenario === 'crashloop') {
      const backoff = rs.filter((r) => r.boRate !== undefined || /xbackoff-/.test(r.case));
      const loop = rs.filter((r) => !backoff.includes(r));
      if (backoff.length) {
        out.push(
          table(
            [
              'case',
              'peer',
              'up s',
              'restarts/s',
              '(min–max)',
              'by period',
              'daemon CPU %',
              '(min–max)',
              'CPU ms/restart',
              'runq wait %',
              'peak/100 ms',
              'peak/mean per 100 ms',
              '(min–max)',
              'per-s min',
              'per-s max',
              'CV per s',
              '(min–max)',
            ],
            backoff.map((r) => [
              r.case,
              r.peer + okStr(r),
              fmt(r.crUpSec, 2),
              fmt(r.boRate, 1),
              span(r.boRateRange, 1),
              fmt(r.boRatePeriod, 1),
              fmt(r.boCpuPct, 2),
              span(r.boCpuRange, 2),
              fmt(r.boCpuMs, 2),
              fmt(r.boWait, 2),
              fmt(r.boPeak, 0),
              fmt(r.boPeakMean, 1),
              span(r.boPeakMeanRange, 1),
              fmt(r.boSecMin, 0),
              fmt(r.boSecMax, 0),
              fmt(r.boCv, 2),
              span(r.boCvRange, 2),
            ]),
          ),
        );
        if (loop.length) out.push('');
      }
      if (loop.length) out.push(
        table(
          [
            'case',
            'peer',
            'up s',
            'restarts/s',
            '(min–max)',
            'alive at end (/proc)',
            '(RPC)',
            'getState p50 ms',
            'p99 ms',
            'max ms',
            'events lost %',
            '(min–max)',
            'overflow lines',
            'delivered/s',
            'daemon CPU %',
            'runq wait %',
            'restarts vs before',
            'restarts vs sd',
          ],
          loop.map((r) => {
            const sd = find(r, SUPERVISORD_PEER);
            const before = find(r, 'fastvisord-before');
            return [
              r.case,
              r.peer + okStr(r),
              fmt(r.crUpSec, 2),
              fmt(r.crRate, 1),
              span(r.crRateRange, 1),
              fmt(r.crChildren, 0),
              fmt(r.crAlive, 0),
              fmt(r.crGsP50, 1),
              fmt(r.crGsP99, 1),
              fmt(r.crGsMax, 1),
              fmt(r.crLostPct, 2),
              span(r.crLostRange, 2),
              fmt(r.crOverflow, 0),
              fmt(r.crDelivered, 1),
              fmt(r.crCpuPct, 1),
              fmt(r.crWait, 1),
              ratio(r.crRate, before?.crRate),
              ratio(r.crRate, sd?.crRate),
            ];
          }),
        ),
      );
    } else {
      out.push(
        table(
          ['case', 'peer', 'to all RUNNING s', 'CPU s', 'peak RSS MiB', 'stop s', 'left over', 'time vs sd', 'RSS vs sd'],
          rs.map((r) => {
            const sd = find(r, SUPERVISORD_PEER);
            return [
              r.case,
              r.peer + okStr(r),
              fmt(r.wallSec, 2),
              fmt(r.cpuSec, 2),
              mb(r.peakRssKB),
              fmt(r.stopSec, 2),
              String(r.leftover),
              ratio(r.wallSec, sd?.wallSec),
              ratio(r.peakRssKB, sd?.peakRssKB),
            ];
          }),
        ),
      );
    }
    for (const c of new Set(rs.map((r) => r.case))) {
      const note = cases.get(`${scenario}\0${c}`)?.note;
      if (note) out.push(`  ${c}: ${note}`);
    }
    for (const r of rs) {
      for (const e of r.errors) out.push(`  ! ${r.case} ${r.peer} ${e}`);
      for (const n of r.notes) out.push(`  * ${r.case} ${r.peer}: ${n}`);
      if (r.leftover) out.push(`  ! ${r.case} ${r.peer}: ${r.leftover} processes outlived the peer`);
    }
  }
  return out;
}

// ---- deps (scenarios/deps.ts) -----------------------------------------------------

function depsFields(ok: TrialResult[]): Partial<Row> {
  const ds = ok as DepsTrialResult[];
  if (!ds.some((r) => r.startup || r.health)) return {};
  const m = (f: (r: DepsTrialResult) => number | undefined) => median(ds.map(f).filter((x): x is number => x !== undefined));
  const range = (f: (r: DepsTrialResult) => number | undefined): [number, number] | undefined => {
    const v = ds.map(f).filter((x): x is number => x !== undefined);
    return v.length ? [Math.min(...v), Math.max(...v)] : undefined;
  };
  const gates = (r: DepsTrialResult) => r.startup?.gateMs ?? [];
  return {
    dsStartsecs: m((r) => r.startup?.startsecs),
    dsLevels: m((r) => r.startup?.levels),
    dsFirstSpawn: m((r) => r.startup?.firstSpawnSec),
    dsAllRunning: m((r) => r.startup?.allRunningSec),
    dsAllRunningRange: range((r) => r.startup?.allRunningSec),
    dsGateP50: m((r) => median(gates(r))),
    dsGateMax: m((r) => (gates(r).length ? Math.max(...gates(r)) : undefined)),
    dsGateSum: m((r) => (gates(r).length ? gates(r).reduce((a, b) => a + b, 0) : undefined)),
    dsViolations: ds.some((r) => r.startup?.orderViolations !== undefined) ? Math.max(...ds.map((r) => r.startup?.orderViolations ?? 0)) : undefined,
    dsStopAll: m((r) => r.startup?.stopAllSec),
    hcCheck: ds.find((r) => r.health)?.health?.check,
    hcWindow: m((r) => r.health?.windowSec),
    hcChecks: m((r) => r.health?.checks),
    hcCpuPct: m((r) => r.health?.daemonCpuPct),
    hcCpuPctRange: range((r) => r.health?.daemonCpuPct),
    hcMsPerCheck: m((r) => r.health?.cpuMsPerCheck),
    hcNotHealthy: ds.some((r) => r.health?.notHealthy !== undefined) ? Math.max(...ds.map((r) => r.health?.notHealthy ?? 0)) : undefined,
    hcToHealthy: m((r) => r.health?.toHealthySec),
    hcRssKB: m((r) => r.health?.rssKB),
  };
}

/**
 * deps: fastvisor against itself (the chain against the same programs flat;
 * health checks against none) and supervisord on the flat configs.
 */
function renderDeps(rows: Row[], cases: Map<string, CaseDef>): string[] {
  const rs = rows.filter((r) => r.scenario === DEPS);
  if (!rs.length) return [];
  const out: string[] = ['', `## deps: ${SCENARIOS[DEPS].describe}`, ''];
  const okStr = (r: Row) => (r.ok === r.runs ? '' : ` (${r.ok}/${r.runs} ok)`);
  const sign = (v: number | undefined, digits: number) => (v === undefined || !Number.isFinite(v) ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`);
  const startup = rs.filter((r) => r.hcCheck === undefined);
  const health = rs.filter((r) => r.hcCheck !== undefined);
  const flatOf = (r: Row, peer: string) =>
    startup.find((x) => x.peer === peer && x.dsLevels === 0 && x.dsStartsecs === r.dsStartsecs && x.ok > 0);
  if (startup.length) {
    out.push(
      table(
        [
          'case',
          'peer',
          'startsecs',
          'to all RUNNING s',
          '(min–max)',
          'first spawn s',
          'minus levels×startsecs s',
          'vs flat, minus (levels-1)×startsecs s',
          'gate p50 ms',
          'gate max ms',
          'gates sum ms',
          'stop all s',
          'time vs fastvisord flat',
          'time vs sd flat',
        ],
        startup.map((r) => {
          const levels = r.dsLevels ?? 0;
          const chained = levels > 0;
          const startsecs = r.dsStartsecs ?? NaN;
          const flat = flatOf(r, r.peer);
          const fvFlat = flatOf(r, 'fastvisord');
          const sdFlat = flatOf(r, SUPERVISORD_PEER);
          return [
            r.case,
            r.peer + okStr(r),
            fmt(r.dsStartsecs, 0),
            fmt(r.dsAllRunning, 3),
            span(r.dsAllRunningRange, 3),
            fmt(r.dsFirstSpawn, 3),
            chained && r.dsAllRunning !== undefined ? fmt(r.dsAllRunning - levels * startsecs, 3) : '—',
            chained && r.dsAllRunning !== undefined && flat?.dsAllRunning !== undefined
              ? sign(r.dsAllRunning - flat.dsAllRunning - (levels - 1) * startsecs, 3)
              : '—',
            chained ? fmt(r.dsGateP50, 1) : '—',
            chained ? fmt(r.dsGateMax, 0) : '—',
            chained ? fmt(r.dsGateSum, 0) : '—',
            fmt(r.dsStopAll, 3),
            r.peer === 'fastvisord' && r !== fvFlat ? ratio(r.dsAllRunning, fvFlat?.dsAllRunning) : '—',
            r !== sdFlat ? ratio(r.dsAllRunning, sdFlat?.dsAllRunning) : '—',
          ];
        }),
      ),
    );
  }
  if (health.length) {
    if (startup.length) out.push('');
    const idleOf = (peer: string) => health.find((x) => x.peer === peer && x.hcCheck === 'none' && x.ok > 0);
    out.push(
      table(
        [
          'case',
          'peer',
          'check',
          'window s',
          'checks',
          'checks/s',
          'daemon CPU %',
          '(min–max)',
          'CPU ms/check',
          'over idle ms/check',
          'to healthy s',
          'not healthy',
          'RSS MiB',
          'CPU vs fastvisord idle',
          'CPU vs sd idle',
        ],
        health.map((r) => {
          const idle = idleOf(r.peer);
          const fvIdle = idleOf('fastvisord');
          const sdIdle = idleOf(SUPERVISORD_PEER);
          const perSec = r.hcChecks !== undefined && r.hcWindow ? r.hcChecks / r.hcWindow : undefined;
          // (CPU % − idle CPU %) of a second, per check: ms of CPU each check adds.
          const over =
            r.hcCheck !== 'none' && perSec && r.hcCpuPct !== undefined && idle?.hcCpuPct !== undefined
              ? ((r.hcCpuPct - idle.hcCpuPct) * 10) / perSec
              : undefined;
          return [
            r.case,
            r.peer + okStr(r),
            r.hcCheck ?? '—',
            fmt(r.hcWindow, 1),
            fmt(r.hcChecks, 0),
            fmt(perSec, 1),
            fmt(r.hcCpuPct, 3),
            span(r.hcCpuPctRange, 3),
            fmt(r.hcMsPerCheck, 3),
            fmt(over, 3),
            fmt(r.hcToHealthy, 2),
            fmt(r.hcNotHealthy, 0),
            mb(r.hcRssKB),
            r.peer === 'fastvisord' && r !== fvIdle ? ratio(r.hcCpuPct, fvIdle?.hcCpuPct) : '—',
            r !== sdIdle ? ratio(r.hcCpuPct, sdIdle?.hcCpuPct) : '—',
          ];
        }),
      ),
    );
  }
  for (const c of new Set(rs.map((r) => r.case))) {
    const note = cases.get(`${DEPS}\0${c}`)?.note;
    if (note) out.push(`  ${c}: ${note}`);
  }
  out.push(
    '  to all RUNNING: daemon launched → its main log\'s last success: line; gate: per level k ≥ 2, its first spawned: minus level k-1\'s last success:',
    '  over idle ms/check: (daemon CPU % − the same peer\'s idle CPU %) per check; CPU is utime+stime of all the daemon\'s threads (not its children)',
  );
  for (const r of rs) {
    if (r.dsViolations) out.push(`  ! ${r.case} ${r.peer}: ${r.dsViolations} programs spawned before their dependencies were all RUNNING`);
    for (const e of r.errors) out.push(`  ! ${r.case} ${r.peer} ${e}`);
    for (const n of r.notes) out.push(`  * ${r.case} ${r.peer}: ${n}`);
    if (r.leftover) out.push(`  ! ${r.case} ${r.peer}: ${r.leftover} processes outlived the peer`);
  }
  return out;
}

function targets(rows: Row[]): string[] {
  const out: string[] = ['', '## targets', ''];
  const get = (s: string, c: string, p: string) => rows.find((r) => r.scenario === s && r.case === c && r.peer === p);
  const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  for (const r of rows.filter((x) => x.scenario === 'bulk' && x.peer === 'fastvisor')) {
    const c = get('bulk', r.case, C_LOOP_PEER);
    if (!c || r.throughputGBs === undefined || c.throughputGBs === undefined || r.cpuSec === undefined || c.cpuSec === undefined) continue;
    const t = r.throughputGBs / c.throughputGBs;
    const cpu = r.cpuSec / c.cpuSec;
    // Noise on this kind of VM only ever slows a run down: best against best is the second opinion.
    const best = (a?: [number, number], b?: [number, number], i = 1) => (a && b ? `${(a[i]! / b[i]!).toFixed(2)}×` : '?');
    out.push(
      `${mark(t >= 0.9)} bulk ${r.case}: throughput ${t.toFixed(2)}× the C loop, best-of-runs ${best(r.throughputRange, c.throughputRange)} (target ≥ 0.9×)`,
      `${mark(cpu <= 1.5)} bulk ${r.case}: CPU ${cpu.toFixed(2)}× the C loop, best-of-runs ${best(r.cpuSecRange, c.cpuSecRange, 0)} (target ≤ 1.5×)`,
      `${mark(r.lostBytes === 0)} bulk ${r.case}: ${r.lostBytes ?? '?'} bytes lost (target 0)`,
    );
  }
  for (const r of rows.filter((x) => x.scenario === 'chatty' && x.peer.startsWith('fastvisor'))) {
    const sd = get('chatty', r.case, SUPERVISORD_PEER);
    if (!sd || r.cpuPct === undefined || sd.cpuPct === undefined) continue;
    const q = r.cpuPct / sd.cpuPct;
    // Issue 16: 200 × 500 lines/s at ≤ 0.05× with lag p99 ≤ 50 ms; 1000 × 100 lines/s (the wide case) at ≤ 0.1×.
    const wide = /^\d+x100lps-/.test(r.case);
    const bound = wide ? 0.1 : 0.05;
    out.push(
      `${mark(q <= bound)} chatty ${r.case} ${r.peer}: CPU ${q.toFixed(3)}× supervisord's (target ≤ ${bound}×)`,
      `${mark(r.lostBytes === 0)} chatty ${r.case} ${r.peer}: ${r.lostBytes ?? '?'} bytes lost (target 0)`,
    );
    if (!wide && r.lagP99 !== undefined) out.push(`${mark(r.lagP99 <= 50)} chatty ${r.case} ${r.peer}: lag p99 ${r.lagP99.toFixed(0)} ms (target ≤ 50 ms)`);
  }
  for (const r of rows.filter((x) => x.scenario === 'rpc' && x.peer === 'fastvisord')) {
    const sd = get('rpc', r.case, SUPERVISORD_PEER);
    if (!sd || r.rpcRate === undefined || sd.rpcRate === undefined) continue;
    const q = r.rpcRate / sd.rpcRate;
    const serial = r.rpcRateSerial !== undefined && sd.rpcRateSerial !== undefined ? (r.rpcRateSerial / sd.rpcRateSerial).toFixed(1) : '?';
    const p50 = r.rpcP50 !== undefined && sd.rpcP50 !== undefined ? (sd.rpcP50 / r.rpcP50).toFixed(1) : '?';
    out.push(`${mark(q >= 10)} rpc ${r.case}: ${q.toFixed(1)}× supervisord's calls/s (4 conns; 1 conn ${serial}×; p50 latency ${p50}× lower) (target ≥ 10×)`);
  }
  return out.length > 3 ? out : [];
}

// ---- main -----------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  buildBinaries(benchDir);

  const plan: Array<{ scenario: ScenarioName; c: CaseDef }> = [];
  for (const s of Object.values(SCENARIOS)) {
    for (const c of s.cases(opts.quick)) {
      if (opts.filters.length && !opts.filters.includes(s.name) && !opts.filters.includes(c.name)) continue;
      plan.push({ scenario: s.name, c });
    }
  }
  if (!plan.length) throw new Error(`nothing matches ${opts.filters.join(' ')}`);
  for (const p of opts.peers ?? []) if (!PEERS[p]) throw new Error(`unknown peer ${p}; known: ${Object.keys(PEERS).join(', ')}`);

  const skipped: string[] = [];
  let pm2: string | undefined;
  if (plan.some((p) => p.c.peers.includes('pm2')) && (!opts.peers || opts.peers.includes('pm2'))) {
    if (!opts.pm2) skipped.push('pm2: skipped (--no-pm2)');
    else {
      const found = findPm2();
      pm2 = found.cli;
      if (!pm2) skipped.push(`pm2: skipped, ${found.why}`);
    }
  }

  const cpuModel = os.cpus()[0]?.model ?? '?';
  console.log(
    `fastvisor bench — ${opts.quick ? 'quick, ' : ''}${opts.pin ? `pinned (programs on CPU ${PROGRAM_CPU}, pump on CPU ${PUMP_CPU}), ` : ''}${opts.runs} run(s) each, medians · ${os.cpus().length} × ${cpuModel} · ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB · Linux ${os.release()} · Node ${process.version}`,
  );
  for (const s of skipped) console.log(s);

  const results: TrialResult[] = [];
  const started = Date.now();
  for (const { scenario, c } of plan) {
    const peers = c.peers.filter((p) => (!opts.peers || opts.peers.includes(p)) && (p !== 'pm2' || pm2));
    for (let run = 1; run <= opts.runs; run++) {
      for (const peer of peers) {
        const t = Date.now();
        const r = await runTrial({ scenario, case: c.name, peer, run, quick: opts.quick, pin: opts.pin, pm2 }, c.timeoutSec);
        results.push(r);
        const what = r.ok
          ? [
              r.throughputGBs !== undefined ? `${r.throughputGBs.toFixed(2)} GB/s` : '',
              r.cpuPct !== undefined ? `${r.cpuPct.toFixed(1)}% CPU` : r.cpuSec !== undefined ? `${r.cpuSec.toFixed(3)} CPU-s` : '',
              r.wallSec !== undefined ? `${r.wallSec.toFixed(2)} s` : '',
              r.lostBytes ? `LOST ${r.lostBytes} B` : '',
              r.rpc ? `${r.case.replace(/^\d+xsleep-/, '')} p50 ${r.rpc.latencyMs.p50.toFixed(2)} ms, ${r.rpc.rateConcurrent.toFixed(1)} calls/s` : '',
              r.crash
                ? `${r.crash.restartsPerSec.toFixed(1)} restarts/s, ${r.crash.aliveAtEnd ?? '?'} alive (${r.crash.childrenAtEnd} in /proc), getState p50/p99/max ` +
                  `${r.crash.getStateMs.p50.toFixed(1)}/${r.crash.getStateMs.p99.toFixed(1)}/${r.crash.getStateMs.max.toFixed(1)} ms, ` +
                  `${r.crash.events.lostPct.toFixed(2)}% events lost, daemon ${r.crash.daemonCpuPct?.toFixed(1) ?? '?'}% CPU`
                : '',
              r.backoff
                ? `${r.backoff.restartsPerSec.toFixed(1)} restarts/s (by period ${r.backoff.restartsPerSecByPeriod?.toFixed(1) ?? '?'}), daemon ${r.backoff.daemonCpuPct?.toFixed(2) ?? '?'}% CPU, ` +
                  `peak/mean per ${r.backoff.bucketMs} ms ${r.backoff.peakOverMean.toFixed(1)} (peak ${r.backoff.peakPerBucket}), ` +
                  `per s ${r.backoff.perSec.min}–${r.backoff.perSec.max} CV ${r.backoff.perSec.cv.toFixed(2)}`
                : '',
              r.rssKB !== undefined ? `RSS ${(r.rssKB / 1024).toFixed(1)} MiB` : '',
              scaleLine(r),
              (r as DepsTrialResult).startup?.gateMs?.length
                ? `gates max ${Math.max(...(r as DepsTrialResult).startup!.gateMs!)} ms, sum ${(r as DepsTrialResult).startup!.gateMs!.reduce((a, b) => a + b, 0)} ms`
                : '',
              (r as DepsTrialResult).health?.checks
                ? `${(r as DepsTrialResult).health!.checks} checks, ${(r as DepsTrialResult).health!.cpuMsPerCheck?.toFixed(3) ?? '?'} ms CPU/check`
                : '',
            ]
              .filter(Boolean)
              .join(', ')
          : `FAILED: ${r.error?.split('\n')[0]}`;
        console.log(`  ${scenario} ${c.name} ${peer} #${run}: ${what}  [${((Date.now() - t) / 1000).toFixed(1)} s]`);
      }
    }
  }

  const rows = summarise(results);
  const caseDefs = new Map(plan.map((p) => [`${p.scenario}\0${p.c.name}`, p.c]));
  const report = [...render(rows, caseDefs), ...renderDeps(rows, caseDefs), ...renderScale(results), ...targets(rows)];
  console.log(report.join('\n'));
  const peersUsed = new Set(results.map((r) => r.peer));
  console.log('\npeers:');
  for (const p of peersUsed) console.log(`  ${p.padEnd(17)} ${PEERS[p]?.describe ?? ''}`);
  for (const s of skipped) console.log(`  ${s}`);

  const resultsDir = path.join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(resultsDir, `${stamp}${opts.quick ? '-quick' : ''}.json`);
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        fastvisor: pkg.version,
        host: { cpus: os.cpus().length, cpuModel, memGiB: os.totalmem() / 2 ** 30, kernel: os.release(), node: process.version },
        options: opts,
        durationSec: (Date.now() - started) / 1000,
        skipped,
        peers: Object.fromEntries([...peersUsed].map((p) => [p, PEERS[p]?.describe])),
        summary: rows,
        trials: results,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nresults: ${path.relative(process.cwd(), file)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  console.log('rerun: npm run bench' + (process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
