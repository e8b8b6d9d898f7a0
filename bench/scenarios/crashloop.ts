// SPDX-License-Identifier: MIT
// crashloop: a bounded crash-loop soak on a saturated machine. N programs
// (one [program:c], numprocs=N) of `/bin/sh -c "sleep LIFE; exit 1"` with
// autorestart=true and startsecs=0 (supervisord 4.2.5: the exit is then one
// from RUNNING, so each program is restarted at once, forever, never BACKOFF
// or FATAL: STARTING, RUNNING, EXITED, 3 PROCESS_STATE events a cycle), an
// [eventlistener] subscribed to PROCESS_STATE that logs every event it gets
// (crashloop-listener.py), and busy loops on every CPU that the scenario
// starts first and kills (by process group) however the trial ends.
//
// Once the main log shows N 'spawned:' lines (start-up is not "the daemon
// answers": a daemon crash-looping on its JS thread may not answer at all),
// and after a warm-up, a fixed window:
//   restarts/s    'spawned:' lines for c_NNN in the daemon's main log whose
//                 timestamps fall inside the window, over its length (the log
//                 is the daemon's own account of every spawn: unlike polling
//                 pids it misses none, unlike the listener it loses none)
//   alive at end  the daemon's live (not zombie) /bin/sh children in /proc at
//                 the window's end: the programs up at that instant; and, from
//                 the daemon, getAllProcessInfo right after the window: c_NNN
//                 entries RUNNING with a pid alive when the answer is in
//                 (unknown when no answer comes within 15 s; with 0.05 s lives
//                 most have died by the time a slow answer arrives)
//   getState      latency of supervisor.getState from a client calling it
//                 every 100 ms (one at a time, keep-alive, unix socket); a call
//                 still unanswered 15 s after the window counts with the time
//                 it waited (censored: p99/max are then lower bounds)
//   events lost   by pool serial: the daemon numbers every event it buffers
//                 for the listener pool (poolserial:, consecutive); among the
//                 events the listener received in the window, the serials
//                 between the first and the last are what was generated for
//                 it, the ones it never got were lost (dropped on overflow)
//   daemon CPU    all its threads, % of one core over the window; and the
//                 time they spent runnable but waiting for a CPU (schedstat)
//
// The backoff cases (fastvisord only: supervisord knows none of these
// options): N programs `sh -c "sleep 0.05; exit 1"` with startsecs=1, so every
// run is a failed start and the program goes to BACKOFF, forever
// (startretries=forever), with exponential waits 1 s, 2 s, 4 s, then the 8 s
// cap (backoff_max), shortened by up to backoff_jitter at random (50%: waits
// in (4 s, 8 s]; 0%: exactly 8 s, so programs started together stay in step).
// No busy loops, no listener, no RPC client: what is measured is the daemon's
// own cost and the shape of its restarts. Start-up is again N 'spawned:'
// lines; the window opens BACKOFF_WARMUP_S later (by then, with 0% jitter, each
// program has had its 1+2+4 s waits and is on the cap; with jitter sooner):
//   restarts/s    'spawned:' lines inside the window, over its length
//   daemon CPU    as above
//   spread        those lines' timestamps (ms) bucketed by 100 ms from the
//                 window's start: the peak bucket over the mean bucket (1 is
//                 flat; all N in one bucket per cap is ~cap/0.1 s); and by whole
//                 seconds: coefficient of variation (stddev / mean) of the counts
import http from 'node:http';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { parseMethodResponse, serializeMethodCall, type XmlRpcStruct } from '../../src/rpc/codec.js';
import { fileLines } from '../lib/files.js';
import { asctimeMs, now, percentile, procCpu, procMemory } from '../lib/measure.js';
import { isAlive, killGroup, Proc, TOKEN_VAR } from '../lib/procs.js';
import type { CrashMeasure, PeerDef, PeerSession, TrialContext, TrialResult, Work } from '../lib/types.js';
import { daemonPeers } from '../peers/fastvisord.js';
import { mainLogPath, PYTHON } from '../peers/supervisord.js';
import { makeWork, withPeer, type CaseDef, type Scenario } from './common.js';

const LISTENER = 'counter';
const PROGRAM = 'c';
/**
 * How long each program lives, by case: 0.05 s (dies right after its start:
 * the daemon's restart rate is the limit) and 1 s (300 programs then ask for
 * ~300 restarts/s, about what an idle 2-CPU machine gives: how many programs
 * are alive at a time shows whether the daemon keeps up).
 */
const LIVES: Record<string, string> = { '': '0.05', '-life1s': '1' };
function caseName(quick: boolean, suffix: string): string {
  return `${count(quick)}xcrash${suffix}`;
}
const GETSTATE_EVERY_MS = 100;

/** The backoff cases: backoff_jitter (%) by case-name suffix. */
const JITTERS: Record<string, number> = { '-jitter50': 50, '-jitter0': 0 };
const BACKOFF_MAX_S = 8;
/** From the last program's first spawn to the window: 0.05+1+0.05+2+0.05+4+0.05 s of waits and lives, and a margin. */
const BACKOFF_WARMUP_S = 16;
const BUCKET_MS = 100;
function backoffCaseName(quick: boolean, suffix: string): string {
  return `${count(quick)}xbackoff${suffix}`;
}
function backoffWindowMs(quick: boolean): number {
  return quick ? 10_000 : 30_000;
}

function count(quick: boolean): number {
  return quick ? 50 : 300;
}
function windowMs(quick: boolean): number {
  return quick ? 8000 : 20_000;
}
function warmupMs(quick: boolean): number {
  return quick ? 1000 : 2000;
}
/** Busy loops: two per CPU, or FASTVISOR_BENCH_BURNERS. */
function burners(): number {
  const env = Number(process.env.FASTVISOR_BENCH_BURNERS);
  return Number.isInteger(env) && env >= 0 ? env : 2 * os.cpus().length;
}

// ---- XML-RPC over the unix socket ---------------------------------------------

/**
 * One XML-RPC call; rejects with 'no answer' when the whole answer is not in
 * within timeoutMs (a deadline, not an idle timeout: supervisord sends a long
 * answer a few KiB per turn of its main loop, which never looks idle).
 */
function call(socketPath: string, agent: http.Agent, method: string, timeoutMs: number): Promise<unknown> {
  const body = serializeMethodCall(method, []);
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
          resolve(parsed.params[0]);
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`${method}: no answer in ${Math.round(timeoutMs)} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

/**
 * Start-up, from the main log rather than the daemon's answers (a daemon busy
 * crash-looping may not answer at all): until it holds n 'spawned:' lines for
 * the crash-loop programs. The file is read on from where the last read ended.
 */
async function waitSpawned(file: string, n: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = now() + timeoutMs;
  const re = new RegExp(`spawned: '${PROGRAM}_\\d+'`, 'g');
  let offset = 0;
  let tail = '';
  let seen = 0;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      const buf = Buffer.alloc(1 << 20);
      for (;;) {
        const got = readSync(fd, buf, 0, buf.length, offset);
        if (got <= 0) break;
        offset += got;
        const text = tail + buf.toString('latin1', 0, got);
        const cut = text.lastIndexOf('\n') + 1;
        seen += text.slice(0, cut).match(re)?.length ?? 0;
        tail = text.slice(cut);
      }
    } catch {
      // not there yet
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (seen >= n) return;
    if (!alive()) throw new Error('the daemon exited during start-up');
    if (now() > deadline) throw new Error(`only ${seen} of ${n} programs spawned within ${timeoutMs} ms`);
    await sleep(100);
  }
}

// ---- logs -------------------------------------------------------------------------


interface LogCounts {
  spawned: number;
  success: number;
  exited: number;
  overflow: number;
}

/** Lines of the main log inside [from, to] (epoch ms). */
function countMainLog(file: string, from: number, to: number): LogCounts {
  const c: LogCounts = { spawned: 0, success: 0, exited: 0, overflow: 0 };
  const prog = new RegExp(`^(spawned|success|exited): '?${PROGRAM}_\\d+`);
  for (const line of fileLines(file)) {
    const t = asctimeMs(line.slice(0, 23));
    if (!(t >= from && t <= to)) continue;
    const rest = line.slice(24).replace(/^\w+ /, ''); // the level name
    const m = prog.exec(rest);
    if (m) c[m[1] as 'spawned' | 'success' | 'exited']++;
    else if (rest.includes('event buffer overflowed, discarding event')) c.overflow++;
  }
  return c;
}

/** What the listener received in [from, to] (epoch ms), by pool serial. */
function countEvents(file: string, from: number, to: number): { received: number; generated: number } {
  const serials = new Set<number>();
  let lo = Infinity;
  let hi = -Infinity;
  for (const line of fileLines(file)) {
    const [ts, pool] = line.split(' ');
    const t = Number(ts) * 1000;
    const s = Number(pool);
    if (!(t >= from && t <= to) || !Number.isInteger(s)) continue;
    serials.add(s);
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  return { received: serials.size, generated: serials.size ? hi - lo + 1 : 0 };
}

/** The daemon's live children running /bin/sh (the crash-loop programs, not the listener). */
function liveShChildren(daemon: number): number {
  let n = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) !== daemon || rest[0] === 'Z') continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').startsWith('/bin/sh\0')) n++;
    } catch {
      // gone
    }
  }
  return n;
}

/**
 * Seconds the process's live threads have waited on a run queue (the second
 * field of /proc/<pid>/task/<tid>/schedstat): runnable, not running. On a
 * saturated machine this, not CPU, is where a daemon's time goes.
 */
function runqWait(pid: number): number | undefined {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
      } catch {
        // the thread just exited
      }
    }
  } catch {
    return undefined;
  }
  return ns / 1e9;
}

// ---- the work -----------------------------------------------------------------------

function crashWork(ctx: TrialContext, n: number, life: string): { work: Work; eventsFile: string } {
  const work = makeWork('crashloop', ctx, []);
  const eventsFile = path.join(work.scratch, 'events.txt');
  const listener = path.join(ctx.repoRoot, 'bench', 'scenarios', 'crashloop-listener.py');
  const env = `environment=${TOKEN_VAR}="${work.token}"`;
  work.conf = {
    // No rotation of the main log during the window: it is what restarts are counted from.
    supervisord: ['loglevel=info', 'logfile_maxbytes=0'],
    sections: [
      [
        `[program:${PROGRAM}]`,
        `command=/bin/sh -c "sleep ${life}; exit 1"`,
        'process_name=%(program_name)s_%(process_num)03d',
        `numprocs=${n}`,
        'autostart=true',
        'autorestart=true',
        'startsecs=0',
        'startretries=3',
        'exitcodes=0',
        // sh's sleep child goes with it when the daemon stops the program
        'stopasgroup=true',
        'killasgroup=true',
        'stopwaitsecs=5',
        'redirect_stderr=true',
        `stdout_logfile=${path.join(work.logDir, '%(program_name)s_%(process_num)03d.log')}`,
        'stdout_logfile_maxbytes=0',
        'stdout_logfile_backups=0',
        env,
      ].join('\n'),
      [
        `[eventlistener:${LISTENER}]`,
        `command=${PYTHON} -u ${listener} ${eventsFile}`,
        'events=PROCESS_STATE',
        'buffer_size=10',
        'autorestart=true',
        'startsecs=0',
        `stderr_logfile=${path.join(work.logDir, 'listener.err')}`,
        env,
      ].join('\n'),
    ],
  };
  return { work, eventsFile };
}

function backoffWork(ctx: TrialContext, n: number, jitterPct: number): Work {
  const work = makeWork('crashloop', ctx, []);
  work.conf = {
    supervisord: ['loglevel=info', 'logfile_maxbytes=0'],
    sections: [
      [
        `[program:${PROGRAM}]`,
        'command=/bin/sh -c "sleep 0.05; exit 1"',
        'process_name=%(program_name)s_%(process_num)03d',
        `numprocs=${n}`,
        'autostart=true',
        'autorestart=true',
        // up for less than startsecs: a failed start, BACKOFF
        'startsecs=1',
        'startretries=forever',
        'backoff=exponential',
        'backoff_initial=1s',
        `backoff_max=${BACKOFF_MAX_S}s`,
        `backoff_jitter=${jitterPct}%`,
        'exitcodes=0',
        'stopasgroup=true',
        'killasgroup=true',
        'stopwaitsecs=5',
        'redirect_stderr=true',
        `stdout_logfile=${path.join(work.logDir, '%(program_name)s_%(process_num)03d.log')}`,
        'stdout_logfile_maxbytes=0',
        'stdout_logfile_backups=0',
        `environment=${TOKEN_VAR}="${work.token}"`,
      ].join('\n'),
    ],
  };
  return work;
}

/** Timestamps (epoch ms) of the main log's 'spawned:' lines for the programs inside [from, to). */
function spawnTimes(file: string, from: number, to: number): { times: number[]; byProgram: Map<string, number[]> } {
  const times: number[] = [];
  const byProgram = new Map<string, number[]>();
  const re = new RegExp(`^\\w+ spawned: '(${PROGRAM}_\\d+)'`);
  for (const line of fileLines(file)) {
    const t = asctimeMs(line.slice(0, 23));
    if (!(t >= from && t < to)) continue;
    const m = re.exec(line.slice(24));
    if (!m) continue;
    times.push(t);
    byProgram.set(m[1]!, [...(byProgram.get(m[1]!) ?? []), t]);
  }
  return { times, byProgram };
}

function bucketCounts(times: number[], from: number, to: number, width: number): number[] {
  const counts = new Array<number>(Math.ceil((to - from) / width)).fill(0);
  for (const t of times) counts[Math.floor((t - from) / width)]!++;
  return counts;
}

async function backoffSoak(s: PeerSession, work: Work, n: number, jitterPct: number, quick: boolean, r: TrialResult, t0: number) {
  await waitSpawned(mainLogPath(work), n, 120_000, () => isAlive(s.pid));
  const started = now();
  r.wallSec = (started - t0) / 1000;
  await sleep(BACKOFF_WARMUP_S * 1000);

  const cpu0 = procCpu(s.pid);
  const wait0 = runqWait(s.pid);
  const w0 = now();
  const from = Date.now();
  const to = from + backoffWindowMs(quick);
  while (Date.now() < to) await sleep(Math.max(1, to - Date.now()));
  const w1 = now();
  const cpu1 = procCpu(s.pid);
  const wait1 = runqWait(s.pid);
  if (!isAlive(s.pid)) throw new Error('the daemon exited during the window');

  // Give the main log's writer (fastvisor's is asynchronous) a moment.
  await sleep(1000);
  const { times, byProgram } = spawnTimes(mainLogPath(work), from, to);
  let byPeriod = 0;
  let periods = 0;
  for (const ts of byProgram.values()) {
    if (ts.length < 2) continue;
    byPeriod += (ts.length - 1) / ((ts[ts.length - 1]! - ts[0]!) / 1000);
    periods++;
  }
  if (periods < n) r.notes.push(`${n - periods} programs spawned fewer than twice in the window: left out of restarts/s by period`);
  if (!times.length) throw new Error(`no 'spawned:' lines for ${PROGRAM}_NNN in the main log inside the window`);
  const windowSec = (to - from) / 1000;
  const buckets = bucketCounts(times, from, to, BUCKET_MS);
  const perSec = bucketCounts(times, from, to, 1000);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const secMean = mean(perSec);
  const secSd = Math.sqrt(mean(perSec.map((x) => (x - secMean) ** 2)));
  const meanPerBucket = mean(buckets);
  const peakPerBucket = Math.max(...buckets);
  const cpuSec = (w1 - w0) / 1000;
  r.backoff = {
    programs: n,
    jitterPct,
    capSec: BACKOFF_MAX_S,
    windowSec,
    warmupSec: (w0 - started) / 1000,
    spawns: times.length,
    restartsPerSec: times.length / windowSec,
    restartsPerSecByPeriod: periods ? byPeriod : undefined,
    daemonCpuPct: cpu0 && cpu1 ? (100 * (cpu1.total - cpu0.total)) / cpuSec : undefined,
    cpuMsPerRestart: cpu0 && cpu1 ? (1000 * (cpu1.total - cpu0.total)) / times.length : undefined,
    daemonRunqWaitPct: wait0 !== undefined && wait1 !== undefined ? (100 * (wait1 - wait0)) / cpuSec : undefined,
    bucketMs: BUCKET_MS,
    peakPerBucket,
    meanPerBucket,
    peakOverMean: peakPerBucket / meanPerBucket,
    perSec: { min: Math.min(...perSec), max: Math.max(...perSec), cv: secSd / secMean },
  };
  r.peakRssKB = procMemory(s.pid)?.peakKB;
  r.via = 'main log spawned: lines';
}

/** How long after the window an unanswered getState or the final getAllProcessInfo is waited for. */
const GRACE_MS = 15_000;

async function soak(s: PeerSession, work: Work, eventsFile: string, n: number, quick: boolean, nBurners: number, r: TrialResult, t0: number) {
  const sock = s.rpcSocket;
  if (!sock) throw new Error('not a daemon with an XML-RPC socket');
  await waitSpawned(mainLogPath(work), n, 120_000, () => isAlive(s.pid));
  r.wallSec = (now() - t0) / 1000;
  await sleep(warmupMs(quick));

  // The window.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const load = os.loadavg()[0]!;
    const cpu0 = procCpu(s.pid);
    const wait0 = runqWait(s.pid);
    const from = Date.now();
    const w0 = now();
    const wEnd = w0 + windowMs(quick);
    const lat: number[] = [];
    let failures = 0;
    let censored = 0;
    const poller = (async () => {
      while (now() < wEnd) {
        const t = now();
        try {
          // No call outlives the window by more than GRACE_MS; one that does
          // counts with the time it had waited (a lower bound), as censored.
          await call(sock, agent, 'supervisor.getState', Math.max(1, wEnd + GRACE_MS - t));
          lat.push(now() - t);
        } catch (err) {
          if (err instanceof Error && err.message.includes('no answer')) {
            censored++;
            lat.push(now() - t);
          } else failures++;
        }
        const next = t + GETSTATE_EVERY_MS - now();
        if (next > 0) await sleep(next);
      }
    })();
    await sleep(Math.max(0, wEnd - now()));
    const to = Date.now();
    const w1 = now();
    const cpu1 = procCpu(s.pid);
    const wait1 = runqWait(s.pid);
    const children = liveShChildren(s.pid);
    // The call in flight at the end is waited for: a slow answer counts.
    await poller;
    let alive: number | undefined;
    let states: Record<string, number> | undefined;
    try {
      const infos = (await call(sock, agent, 'supervisor.getAllProcessInfo', GRACE_MS)) as XmlRpcStruct[];
      const mine = infos.filter((i) => i.group === PROGRAM);
      if (mine.length !== n) throw new Error(`getAllProcessInfo lists ${mine.length} ${PROGRAM}_NNN processes, expected ${n}`);
      alive = mine.filter((i) => i.statename === 'RUNNING' && typeof i.pid === 'number' && i.pid > 0 && isAlive(i.pid)).length;
      states = {};
      for (const i of mine) states[String(i.statename)] = (states[String(i.statename)] ?? 0) + 1;
    } catch (err) {
      r.notes.push(`alive at end unknown: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (failures) r.notes.push(`${failures} getState calls failed`);
    if (censored) r.notes.push(`${censored} getState calls unanswered ${GRACE_MS / 1000} s after the window: counted with the time waited (p99/max are lower bounds)`);

    // Give the main log's writer (fastvisor's is asynchronous) a moment.
    await sleep(1000);
    const logged = countMainLog(mainLogPath(work), from, to);
    const ev = countEvents(eventsFile, from, to);
    const windowSec = (w1 - w0) / 1000;
    const m: CrashMeasure = {
      programs: n,
      windowSec,
      burners: nBurners,
      loadAvg1: load,
      spawns: logged.spawned,
      restartsPerSec: logged.spawned / windowSec,
      aliveAtEnd: alive,
      statesAtEnd: states,
      childrenAtEnd: children,
      getStateMs: {
        p50: percentile(lat, 50) ?? NaN,
        p99: percentile(lat, 99) ?? NaN,
        max: lat.length ? Math.max(...lat) : NaN,
        calls: lat.length,
        censored,
      },
      events: {
        received: ev.received,
        deliveredPerSec: ev.received / windowSec,
        generated: ev.generated,
        lost: ev.generated - ev.received,
        lostPct: ev.generated ? (100 * (ev.generated - ev.received)) / ev.generated : NaN,
        overflowLogged: logged.overflow,
        loggedTransitions: logged.spawned + logged.success + logged.exited,
      },
      daemonCpuPct: cpu0 && cpu1 ? (100 * (cpu1.total - cpu0.total)) / windowSec : undefined,
      daemonRunqWaitPct: wait0 !== undefined && wait1 !== undefined ? (100 * (wait1 - wait0)) / windowSec : undefined,
    };
    r.crash = m;
    if (!logged.spawned) throw new Error(`no 'spawned:' lines for ${PROGRAM}_NNN in the main log inside the window`);
    if (!ev.received) r.notes.push('the listener received no events inside the window');
    r.peakRssKB = procMemory(s.pid)?.peakKB;
    r.via = 'main log spawned: lines; listener pool serials';
  } finally {
    agent.destroy();
  }
}

export const crashloop: Scenario = {
  name: 'crashloop',
  describe:
    'N programs crash-looping (sh -c "sleep LIFE; exit 1", autorestart=true, startsecs=0) + a PROCESS_STATE listener, ' +
    'CPUs saturated by busy loops: restarts/s, alive at end, getState latency, events lost, daemon CPU; ' +
    'NxBACKOFF cases (fastvisord only): failed starts in exponential backoff, no busy loops: restarts/s, daemon CPU, spread of restart times',
  cases(quick): CaseDef[] {
    const backoff = Object.entries(JITTERS).map(([suffix, jitter]) => ({
      name: backoffCaseName(quick, suffix),
      peers: ['fastvisord'],
      timeoutSec: 120,
      note:
        `fastvisord only; sh -c "sleep 0.05; exit 1", startsecs=1, startretries=forever, backoff=exponential 1s..${BACKOFF_MAX_S}s, backoff_jitter=${jitter}%; ` +
        `no busy loops, listener or RPC client; window ${backoffWindowMs(quick) / 1000} s from ${BACKOFF_WARMUP_S} s after all spawned once; ` +
        `spread of the window's spawned: lines by ${BUCKET_MS} ms (peak/mean) and by second (CV)`,
    }));
    return [
      ...Object.entries(LIVES).map(([suffix, life]) => ({
      name: caseName(quick, suffix),
      peers: [...daemonPeers(), 'supervisord'],
      timeoutSec: 240,
      note:
        `LIFE ${life} s; window ${windowMs(quick) / 1000} s after a ${warmupMs(quick) / 1000} s warm-up, with ${burners()} busy loops on ${os.cpus().length} CPUs; ` +
        'restarts from the main log, events lost by the listener pool serials; fastvisord-before runs when --before DIR / FASTVISOR_BEFORE names a built checkout',
      })),
      ...backoff,
    ];
  },
  async run(name: string, peer: PeerDef, ctx: TrialContext, run: number): Promise<TrialResult> {
    const n = count(ctx.quick);
    const jitterSuffix = Object.keys(JITTERS).find((x) => name === backoffCaseName(ctx.quick, x));
    if (jitterSuffix !== undefined) {
      const jitter = JITTERS[jitterSuffix]!;
      const work = backoffWork(ctx, n, jitter);
      const t0 = now();
      return withPeer({ scenario: 'crashloop', case: name, peer: peer.name, run }, work, peer, ctx, (s, r) =>
        backoffSoak(s, work, n, jitter, ctx.quick, r, t0),
      );
    }
    const suffix = Object.keys(LIVES).find((x) => name === caseName(ctx.quick, x));
    if (suffix === undefined) throw new Error(`no crashloop case ${name}`);
    const { work, eventsFile } = crashWork(ctx, n, LIVES[suffix]!);
    const nBurners = burners();
    // Busy loops first: the daemon starts on a saturated machine. Each in its
    // own process group (Proc), killed by that group here or by Proc's exit hook.
    const loops: Proc[] = [];
    const stopLoops = async () => {
      for (const p of loops.splice(0)) {
        killGroup(p.pid, 'SIGKILL');
        await p.waitExit(5000);
      }
    };
    try {
      for (let i = 0; i < nBurners; i++) {
        loops.push(new Proc(`busy loop ${i}`, '/bin/sh', ['-c', 'while :; do :; done'], { captureStdout: false }));
      }
      const t0 = now();
      return await withPeer({ scenario: 'crashloop', case: name, peer: peer.name, run }, work, peer, ctx, async (s, r) => {
        try {
          await soak(s, work, eventsFile, n, ctx.quick, nBurners, r, t0);
        } finally {
          // before the peer's stop, so that the stop is not measured against them
          await stopLoops();
        }
      });
    } finally {
      await stopLoops();
    }
  },
};
