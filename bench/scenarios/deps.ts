// SPDX-License-Identifier: MIT
// deps: what fastvisor's own options (issue 12) cost the daemon, measured
// against fastvisor without them and against supervisord on the same config
// without them (supervisord can express neither).
//
// Start-up cases: N programs of `sleep 1000`, autostart, one [program:x] each:
// a chain of LEVELS levels of WIDTH programs (c01_00 … c10_19), every program
// of level k having `depends_on` every program of level k-1 (level 1 none),
// plus as many independent programs (f000 …); the flat cases are the same N
// programs with no depends_on. Run with startsecs=1 (supervisord's default:
// each level waits for the previous one to be RUNNING, so a 10-level chain
// takes ~10 s by construction) and startsecs=0 (where the chain itself should
// cost milliseconds). Timed from the daemon's main log, its own account of
// every spawn and every change to RUNNING (ms timestamps, no polling load):
//   to all RUNNING   daemon launched → the last 'success:' line
//   first spawn      daemon launched → the first 'spawned:' line (boot)
//   gate             per level k ≥ 2: its first 'spawned:' minus level k-1's
//                    last 'success:' — how long the dependency gate took to
//                    let the next level go (the ordering's own cost)
//   order            a level-k program spawned before every level k-1 program
//                    was RUNNING is an error
// then getAllProcessInfo confirms all N RUNNING, and stopAllProcesses (with
// depends_on: dependents first) is timed until all are stopped.
//
// Health-check cases: N flat programs, startsecs=1, with `healthcheck =
// tcp:127.0.0.1:PORT` (one TCP server this trial runs; every check connects to
// it) or `healthcheck = cmd:true` (a fork/exec of /bin/sh per check), and
// healthcheck_interval=10s; the idle case is the same programs without health
// checks. Once all are RUNNING (and healthy, from fastvisor.getProcessHealth),
// a window: the daemon's CPU (utime+stime of all its threads, not its
// children) as % of one core, and the checks made in it (the sum of
// getProcessHealth's `checks`, read just before and after the window) —
// daemon CPU ms per check.
import http from 'node:http';
import net from 'node:net';
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { parseMethodResponse, serializeMethodCall, type XmlRpcStruct, type XmlRpcValue } from '../../src/rpc/codec.js';
import { asctimeMs, now, procCpu, procMemory } from '../lib/measure.js';
import { programArgv } from '../lib/pin.js';
import { isAlive, TOKEN_VAR } from '../lib/procs.js';
import type { PeerDef, PeerSession, ScenarioName, TrialContext, TrialResult, Work } from '../lib/types.js';
import { mainLogPath } from '../peers/supervisord.js';
import { makeWork, withPeer, type CaseDef, type Scenario } from './common.js';

/** The scenario's name. */
export const DEPS: ScenarioName = 'deps';

const LEVELS = 10;
function width(quick: boolean): number {
  return quick ? 5 : 20;
}
/** Programs in every case: LEVELS × width chained + as many independent ones. */
function count(quick: boolean): number {
  return 2 * LEVELS * width(quick);
}
function healthWindowMs(quick: boolean): number {
  return quick ? 20_000 : 60_000;
}
const HEALTH_INTERVAL_S = 10;
/** From all healthy to the window. */
const SETTLE_MS = 2000;

// ---- what a trial measures -------------------------------------------------------

export interface StartupMeasure {
  programs: number;
  /** 0 for the flat cases */
  levels: number;
  width: number;
  startsecs: number;
  /** daemon launched → first 'spawned:' line, s */
  firstSpawnSec: number;
  /** daemon launched → last 'spawned:' line, s */
  lastSpawnSec: number;
  /** daemon launched → last 'success:' line (all RUNNING), s */
  allRunningSec: number;
  /** chain: per level 2..LEVELS, first spawn of the level − last success of the previous one, ms */
  gateMs?: number[];
  /** chain: level-k spawns before level k-1 was all RUNNING */
  orderViolations?: number;
  /** chain: daemon launched → last success of each level, s */
  levelDoneSec?: number[];
  /** stopAllProcesses → all STOPPED/EXITED/FATAL (getAllProcessInfo every 50 ms), s */
  stopAllSec?: number;
  /** the daemon's CPU from launch to all RUNNING, s */
  cpuSec?: number;
}

export interface HealthMeasure {
  programs: number;
  check: 'none' | 'tcp' | 'cmd';
  intervalSec: number;
  windowSec: number;
  /** checks finished inside the window (sum of getProcessHealth's checks) */
  checks: number;
  daemonCpuSec: number;
  daemonCpuPct: number;
  /** daemon CPU ms / checks */
  cpuMsPerCheck?: number;
  /** all RUNNING → all healthy, s */
  toHealthySec?: number;
  /** after the window: processes not healthy, and the sum of their counted failures */
  notHealthy?: number;
  failures?: number;
  /** connections the bench's TCP server accepted in the window */
  tcpAccepted?: number;
  rssKB?: number;
}

/** A TrialResult with this scenario's measures (lib/types.ts knows only the other scenarios'). */
export interface DepsTrialResult extends TrialResult {
  startup?: StartupMeasure;
  health?: HealthMeasure;
}

// ---- the cases --------------------------------------------------------------------

interface DepsCase {
  kind: 'startup' | 'health';
  chain: boolean;
  startsecs: number;
  check: 'none' | 'tcp' | 'cmd';
  peers: string[];
  note: string;
}

function cases(quick: boolean): Map<string, DepsCase> {
  const n = count(quick);
  const w = width(quick);
  const chain = `chain${LEVELS}x${w}`;
  const m = new Map<string, DepsCase>();
  const startup = (chained: boolean, startsecs: number): void => {
    m.set(`${n}xsleep-${chained ? chain : 'flat'}${startsecs === 1 ? '' : `-startsecs${startsecs}`}`, {
      kind: 'startup',
      chain: chained,
      startsecs,
      check: 'none',
      peers: chained ? ['fastvisord'] : ['fastvisord', 'supervisord'],
      note: chained
        ? `${LEVELS} levels × ${w} (level k depends_on every program of level k-1) + ${n / 2} independent; startsecs=${startsecs}`
        : `the same ${n} programs, no depends_on; startsecs=${startsecs}`,
    });
  };
  startup(true, 1);
  startup(false, 1);
  startup(true, 0);
  startup(false, 0);
  const window = `window ${healthWindowMs(quick) / 1000} s from ${SETTLE_MS / 1000} s after all healthy`;
  m.set(`${n}xsleep-idle`, {
    kind: 'health',
    chain: false,
    startsecs: 1,
    check: 'none',
    peers: ['fastvisord', 'supervisord'],
    note: `no health checks: the idle daemon; ${window.replace(' healthy', ' RUNNING')}`,
  });
  m.set(`${n}xsleep-hc-tcp`, {
    kind: 'health',
    chain: false,
    startsecs: 1,
    check: 'tcp',
    peers: ['fastvisord'],
    note: `healthcheck=tcp:127.0.0.1:PORT (one server in the bench), healthcheck_interval=${HEALTH_INTERVAL_S}s; ${window}`,
  });
  m.set(`${n}xsleep-hc-cmd`, {
    kind: 'health',
    chain: false,
    startsecs: 1,
    check: 'cmd',
    peers: ['fastvisord'],
    note: `healthcheck=cmd:true (/bin/sh -c true per check), healthcheck_interval=${HEALTH_INTERVAL_S}s; ${window}`,
  });
  return m;
}

// ---- the config ---------------------------------------------------------------------

const chainName = (level: number, i: number): string => `c${String(level).padStart(2, '0')}_${String(i).padStart(2, '0')}`;
const freeName = (i: number): string => `f${String(i).padStart(3, '0')}`;

/**
 * The programs as whole [program:x] sections (Work.conf.sections; Work.programs
 * stays empty: the peer's generated sections cannot carry depends_on or
 * healthcheck). Kind 'rpc': the daemon peers then autostart the programs, time
 * from launch, and stop them with stopAllProcesses before SIGTERM.
 */
function depsWork(ctx: TrialContext, c: DepsCase, port: number | undefined): { work: Work; names: string[]; levelOf: Map<string, number> } {
  const work = makeWork('rpc', ctx, []);
  const w = width(ctx.quick);
  const names: string[] = [];
  const levelOf = new Map<string, number>();
  const deps = new Map<string, string>();
  for (let level = 1; level <= LEVELS; level++) {
    for (let i = 0; i < w; i++) {
      const name = chainName(level, i);
      names.push(name);
      levelOf.set(name, level);
      if (c.chain && level > 1) deps.set(name, Array.from({ length: w }, (_, j) => chainName(level - 1, j)).join(', '));
    }
  }
  for (let i = 0; i < LEVELS * w; i++) names.push(freeName(i));
  const command = programArgv(ctx, ['/bin/sleep', '1000']).join(' ');
  const health =
    c.check === 'tcp'
      ? [`healthcheck=tcp:127.0.0.1:${port}`, `healthcheck_interval=${HEALTH_INTERVAL_S}s`]
      : c.check === 'cmd'
        ? ['healthcheck=cmd:true', `healthcheck_interval=${HEALTH_INTERVAL_S}s`]
        : [];
  work.conf = {
    // No rotation of the main log: the start-up is read from it.
    supervisord: ['loglevel=info', 'logfile_maxbytes=0'],
    sections: names.map((name) =>
      [
        `[program:${name}]`,
        `command=${command}`,
        'autostart=true',
        'autorestart=false',
        `startsecs=${c.startsecs}`,
        'startretries=0',
        'redirect_stderr=true',
        `stdout_logfile=${path.join(work.logDir, `${name}.log`)}`,
        'stdout_logfile_maxbytes=0',
        'stdout_logfile_backups=0',
        `environment=${TOKEN_VAR}="${work.token}"`,
        ...(deps.has(name) ? [`depends_on=${deps.get(name)}`] : []),
        ...health,
      ].join('\n'),
    ),
  };
  return { work, names, levelOf };
}

// ---- XML-RPC over the unix socket ---------------------------------------------------

function call(socketPath: string, agent: http.Agent, method: string, params: XmlRpcValue[], timeoutMs = 30_000): Promise<XmlRpcValue> {
  const body = serializeMethodCall(method, params);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, agent, path: '/RPC2', method: 'POST', headers: { 'Content-Type': 'text/xml', 'Content-Length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          if (res.statusCode !== 200) return reject(new Error(`${method}: HTTP ${res.statusCode}`));
          const parsed = parseMethodResponse(Buffer.concat(chunks));
          if (parsed.kind !== 'params') return reject(new Error(`${method}: fault ${parsed.faultString}`));
          resolve(parsed.params[0]!);
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`${method}: no answer in ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

async function processInfo(sock: string, agent: http.Agent): Promise<XmlRpcStruct[]> {
  return (await call(sock, agent, 'supervisor.getAllProcessInfo', [])) as XmlRpcStruct[];
}

interface HealthSnapshot {
  checks: number;
  healthy: number;
  failures: number;
}

/** fastvisor.getProcessHealth for every program, in one system.multicall. */
async function healthSnapshot(sock: string, agent: http.Agent, names: string[]): Promise<HealthSnapshot> {
  const calls = names.map((n) => ({ methodName: 'fastvisor.getProcessHealth', params: [n] }));
  const answers = (await call(sock, agent, 'system.multicall', [calls])) as XmlRpcValue[];
  const s: HealthSnapshot = { checks: 0, healthy: 0, failures: 0 };
  for (const a of answers) {
    // supervisord's multicall (and so fastvisor's) answers each call's value itself, not [value]
    const h = (Array.isArray(a) ? a[0] : a) as XmlRpcStruct;
    if (!h || typeof h !== 'object' || 'faultCode' in h || typeof h.checks !== 'number') throw new Error(`getProcessHealth: ${JSON.stringify(a)}`);
    s.checks += Number(h.checks);
    s.failures += Number(h.failures);
    if (h.health === 'healthy') s.healthy++;
  }
  return s;
}

/** stopAllProcesses, then getAllProcessInfo until nothing runs; seconds it took. */
async function stopAll(sock: string, agent: http.Agent, n: number): Promise<number> {
  const t = now();
  await call(sock, agent, 'supervisor.stopAllProcesses', [false]);
  const deadline = t + 60_000;
  for (;;) {
    const infos = await processInfo(sock, agent);
    if (infos.filter((i) => ['STOPPED', 'EXITED', 'FATAL'].includes(String(i.statename))).length >= n) return (now() - t) / 1000;
    if (now() > deadline) throw new Error('stopAllProcesses: programs still up after 60 s');
    await sleep(50);
  }
}

// ---- the main log ----------------------------------------------------------------------


/** 'spawned:' and 'success:' lines of the main log, by program (first of each), read on as the file grows. */
class MainLog {
  readonly spawned = new Map<string, number>();
  readonly success = new Map<string, number>();
  readonly failed: string[] = [];
  #offset = 0;
  #tail = '';

  constructor(private readonly file: string) {}

  read(): void {
    let fd: number | undefined;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return; // not there yet
    }
    try {
      const buf = Buffer.alloc(1 << 20);
      for (;;) {
        const got = readSync(fd, buf, 0, buf.length, this.#offset);
        if (got <= 0) break;
        this.#offset += got;
        const text = this.#tail + buf.toString('utf8', 0, got);
        const cut = text.lastIndexOf('\n') + 1;
        for (const line of text.slice(0, cut).split('\n')) this.#line(line);
        this.#tail = text.slice(cut);
      }
    } finally {
      closeSync(fd);
    }
  }

  #line(line: string): void {
    const t = asctimeMs(line.slice(0, 23));
    if (!Number.isFinite(t)) return;
    const rest = line.slice(24).replace(/^\w+ /, ''); // the level name
    const m = /^(spawned|success|gave up|exited): '?([cf][\d_]+)'?/.exec(rest);
    if (!m) return;
    const [, what, name] = m as unknown as [string, string, string];
    if (what === 'spawned' && !this.spawned.has(name)) this.spawned.set(name, t);
    else if (what === 'success' && !this.success.has(name)) this.success.set(name, t);
    else if (what === 'gave up' || what === 'exited') this.failed.push(rest);
  }
}

/** Until the main log has a 'success:' line for every program. */
async function waitAllRunning(log: MainLog, n: number, s: PeerSession, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  for (;;) {
    log.read();
    if (log.success.size >= n) return;
    if (log.failed.length) throw new Error(`a program failed during start-up: ${log.failed[0]}`);
    if (!isAlive(s.pid)) throw new Error('the daemon exited during start-up');
    if (now() > deadline) throw new Error(`only ${log.success.size} of ${n} programs RUNNING (main log) within ${timeoutMs} ms`);
    await sleep(20);
  }
}

// ---- the trials -----------------------------------------------------------------------------

async function startup(
  s: PeerSession,
  c: DepsCase,
  work: Work,
  names: string[],
  levelOf: Map<string, number>,
  launched: number,
  quick: boolean,
  r: DepsTrialResult,
): Promise<void> {
  const sock = s.rpcSocket;
  if (!sock) throw new Error('not a daemon with an XML-RPC socket');
  const n = names.length;
  const log = new MainLog(mainLogPath(work));
  await waitAllRunning(log, n, s, 120_000);
  const cpu = procCpu(s.pid);
  const sec = (t: number) => (t - launched) / 1000;
  const spawns = [...log.spawned.values()];
  const m: StartupMeasure = {
    programs: n,
    levels: c.chain ? LEVELS : 0,
    width: width(quick),
    startsecs: c.startsecs,
    firstSpawnSec: sec(Math.min(...spawns)),
    lastSpawnSec: sec(Math.max(...spawns)),
    allRunningSec: sec(Math.max(...log.success.values())),
    cpuSec: cpu?.total,
  };
  if (c.chain) {
    const firstSpawn: number[] = [];
    const lastSuccess: number[] = [];
    for (const [name, level] of levelOf) {
      const sp = log.spawned.get(name)!;
      const su = log.success.get(name)!;
      firstSpawn[level] = Math.min(firstSpawn[level] ?? Infinity, sp);
      lastSuccess[level] = Math.max(lastSuccess[level] ?? -Infinity, su);
    }
    m.gateMs = [];
    m.levelDoneSec = [];
    m.orderViolations = 0;
    for (let level = 1; level <= LEVELS; level++) {
      m.levelDoneSec.push(sec(lastSuccess[level]!));
      if (level === 1) continue;
      m.gateMs.push(firstSpawn[level]! - lastSuccess[level - 1]!);
      for (const [name, l] of levelOf) if (l === level && log.spawned.get(name)! < lastSuccess[level - 1]!) m.orderViolations++;
    }
    if (m.orderViolations) r.notes.push(`${m.orderViolations} programs spawned before every program of the level before was RUNNING (main log)`);
  }
  r.startup = m;
  r.wallSec = m.allRunningSec;
  r.cpuSec = m.cpuSec;
  r.peakRssKB = procMemory(s.pid)?.peakKB;
  r.via = 'main log success: lines';

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const infos = await processInfo(sock, agent);
    const running = infos.filter((i) => i.statename === 'RUNNING').length;
    if (infos.length !== n || running !== n) throw new Error(`getAllProcessInfo lists ${infos.length} processes, ${running} RUNNING; expected ${n}`);
    m.stopAllSec = await stopAll(sock, agent, n);
  } finally {
    agent.destroy();
  }
}

async function healthWindow(
  s: PeerSession,
  c: DepsCase,
  work: Work,
  names: string[],
  quick: boolean,
  accepted: () => number,
  r: DepsTrialResult,
): Promise<void> {
  const sock = s.rpcSocket;
  if (!sock) throw new Error('not a daemon with an XML-RPC socket');
  const n = names.length;
  const log = new MainLog(mainLogPath(work));
  await waitAllRunning(log, n, s, 120_000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const running = now();
    let toHealthySec: number | undefined;
    if (c.check !== 'none') {
      const deadline = running + 60_000;
      for (;;) {
        const h = await healthSnapshot(sock, agent, names);
        if (h.healthy === n) break;
        if (now() > deadline) throw new Error(`only ${h.healthy} of ${n} healthy 60 s after all RUNNING`);
        await sleep(200);
      }
      toHealthySec = (now() - running) / 1000;
    }
    await sleep(SETTLE_MS);

    const h0 = c.check !== 'none' ? await healthSnapshot(sock, agent, names) : undefined;
    const a0 = accepted();
    const cpu0 = procCpu(s.pid);
    const w0 = now();
    await sleep(healthWindowMs(quick));
    const cpu1 = procCpu(s.pid);
    const w1 = now();
    const a1 = accepted();
    const h1 = c.check !== 'none' ? await healthSnapshot(sock, agent, names) : undefined;
    if (!cpu0 || !cpu1 || !isAlive(s.pid)) throw new Error('the daemon exited during the window');

    const windowSec = (w1 - w0) / 1000;
    const cpuSec = cpu1.total - cpu0.total;
    const checks = h0 && h1 ? h1.checks - h0.checks : 0;
    r.health = {
      programs: n,
      check: c.check,
      intervalSec: HEALTH_INTERVAL_S,
      windowSec,
      checks,
      daemonCpuSec: cpuSec,
      daemonCpuPct: (100 * cpuSec) / windowSec,
      cpuMsPerCheck: checks ? (1000 * cpuSec) / checks : undefined,
      toHealthySec,
      notHealthy: h1 ? n - h1.healthy : undefined,
      failures: h1?.failures,
      tcpAccepted: c.check === 'tcp' ? a1 - a0 : undefined,
      rssKB: procMemory(s.pid)?.rssKB,
    };
    if (h1 && h1.healthy !== n) r.notes.push(`${n - h1.healthy} programs not healthy after the window (${h1.failures} counted failures)`);
    r.cpuPct = r.health.daemonCpuPct;
    r.peakRssKB = procMemory(s.pid)?.peakKB;
    r.via = 'utime+stime over the window; getProcessHealth checks';
    await stopAll(sock, agent, n);
  } finally {
    agent.destroy();
  }
}

/** The TCP server every tcp: check connects to: accepts and closes at once. */
async function listen(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    accepted++;
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
    sock.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export const deps: Scenario = {
  name: DEPS,
  describe:
    `fastvisor's depends_on and healthcheck: start-up of a ${LEVELS}-level dependency chain (+ as many independent programs) vs the same programs flat, ` +
    `and the daemon's CPU for tcp:/cmd: health checks every ${HEALTH_INTERVAL_S} s vs none; supervisord on the flat configs`,
  cases(quick): CaseDef[] {
    return [...cases(quick)].map(([name, c]) => ({
      name,
      peers: c.peers,
      timeoutSec: c.kind === 'startup' ? 180 : 120 + 2 * (healthWindowMs(quick) / 1000),
      note: c.note,
    }));
  },
  async run(name: string, peer: PeerDef, ctx: TrialContext, run: number): Promise<TrialResult> {
    const c = cases(ctx.quick).get(name);
    if (!c) throw new Error(`no deps case ${name}`);
    const server = c.check === 'tcp' ? await listen() : undefined;
    try {
      const { work, names, levelOf } = depsWork(ctx, c, server?.port);
      let launched = 0;
      return await withPeer({ scenario: DEPS, case: name, peer: peer.name, run }, work, peer, ctx, async (s, r: DepsTrialResult) => {
        // The peer has just spawned the daemon (after bundling it, for fastvisord): the clock starts here.
        launched = Date.now();
        if (c.kind === 'startup') await startup(s, c, work, names, levelOf, launched, ctx.quick, r);
        else await healthWindow(s, c, work, names, ctx.quick, server ? server.accepted : () => 0, r);
      });
    } finally {
      await server?.close();
    }
  },
};
