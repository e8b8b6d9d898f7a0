// SPDX-License-Identifier: MIT
// npm run soak [-- [--minutes M] [--programs N] [--daemons fastvisor,supervisord] [--seed S] [--daemon BUNDLE.cjs]]
//
// A crash-loop soak: N programs (default 300), each `/bin/sh -c "sleep L; exit 1"` with its
// own life L between 0.1 and 2 s (seeded), startsecs=0 and autorestart=true (every exit is
// from RUNNING: restarted at once, forever), and an [eventlistener] subscribed to
// PROCESS_STATE that writes a line per event it gets (bench/scenarios/crashloop-listener.py),
// stopasgroup=true (so a stop ends the sleep too), for M minutes (default 10), under fastvisor (src/ bundled, plain Node) and then under the
// real supervisord 4.2.5, same config. Unix socket only; it stops by itself.
//
// Every 10 s: the daemon's children in state Z (zombies; one seen in two samples running is
// one never reaped), its open descriptors (/proc/PID/fd), its RSS, and the events the
// listener has written so far. At the end: the least-squares slope of fds and RSS per
// minute (after start-up: the first minute, up to two in long runs) and whether the growth it predicts over the
// run stays within the noise (twice the residuals' standard deviation, or 2 fds / 2 % of
// RSS; fds follow the number of live children, so they move); from the main log: spawns,
// exits up to 1 s before the end, overflow discards; from the listener: exit events by the
// end (every exit in the main log must have reached it unless an overflow was logged), the
// longest gap between two of its events and the fewest it got in 10 s (a stall).
//
// Every process it starts carries a token in its environment and is killed by pid / process
// group at the end, whatever happens.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { rng } from '../../test/helpers/rng.js';
import { bundleDaemon } from '../lib/build.js';
import { fileLines } from '../lib/files.js';
import { asctimeMs, procMemory } from '../lib/measure.js';
import { atExit, isAlive, killGroup, killStrays, killStraysSync, newToken, TOKEN_VAR } from '../lib/procs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const LISTENER = path.join(repoRoot, 'bench', 'scenarios', 'crashloop-listener.py');
const SAMPLE_MS = 10_000;

type Kind = 'fastvisor' | 'supervisord';

interface Options {
  minutes: number;
  programs: number;
  daemons: Kind[];
  seed: number;
  daemon: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { minutes: 10, programs: 300, daemons: ['fastvisor', 'supervisord'], seed: 1, daemon: null };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const v = (): string => inline ?? argv[++i] ?? '';
    if (k === '--minutes') o.minutes = Number(v());
    else if (k === '--programs') o.programs = Number(v());
    else if (k === '--seed') o.seed = Number(v());
    else if (k === '--daemons') o.daemons = v().split(',').filter(Boolean) as Kind[];
    else if (k === '--daemon') o.daemon = path.resolve(v());
    else if (k === '--help' || k === '-h') {
      console.log('npm run soak [-- [--minutes M] [--programs N] [--daemons fastvisor,supervisord] [--seed S] [--daemon BUNDLE.cjs]]');
      process.exit(0);
    } else throw new Error(`unknown option ${k}`);
  }
  if (!(o.minutes > 0) || !(Number.isInteger(o.programs) && o.programs > 0)) throw new Error('--minutes and --programs take positive numbers');
  for (const d of o.daemons) if (d !== 'fastvisor' && d !== 'supervisord') throw new Error(`--daemons: unknown daemon ${d}`);
  return o;
}

function config(dir: string, n: number, seed: number): string {
  const r = rng(seed);
  const programs: string[] = [];
  for (let i = 0; i < n; i++) {
    const life = (0.1 + 1.9 * r()).toFixed(2);
    programs.push(`[program:c${String(i).padStart(3, '0')}]\ncommand=/bin/sh -c "sleep ${life}; exit 1"\nstartsecs=0\nautorestart=true\nstopasgroup=true\n`);
  }
  return (
    `[supervisord]\nnodaemon=true\nlogfile=${dir}/supervisord.log\nlogfile_maxbytes=0\npidfile=${dir}/supervisord.pid\n` +
    `childlogdir=${dir}/logs\nminfds=4096\n\n[unix_http_server]\nfile=${dir}/supervisor.sock\n\n` +
    '[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n' +
    // A buffer that holds minutes of events: an overflow would show a listener that fell behind.
    `[eventlistener:counter]\ncommand=/usr/bin/python3 -u ${LISTENER} ${dir}/events.txt\nevents=PROCESS_STATE\nbuffer_size=10000\n` +
    'stdout_logfile=NONE\nstderr_logfile=NONE\n\n' +
    programs.join('\n')
  );
}

// ---- /proc ---------------------------------------------------------------------------

/** The daemon's children: the zombies (state Z) by pid, and how many are alive. */
function children(ppid: number): { zombies: number[]; alive: number } {
  const out: number[] = [];
  let alive = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let s: string;
    try {
      s = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[1]) !== ppid) continue;
    if (rest[0] === 'Z') out.push(Number(name));
    else alive++;
  }
  return { zombies: out, alive };
}

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

function lineCount(file: string): number {
  try {
    const b = readFileSync(file);
    let n = 0;
    for (let i = 0; i < b.length; i++) if (b[i] === 10) n++;
    return n;
  } catch {
    return 0;
  }
}

// ---- figures ---------------------------------------------------------------------------

interface Sample {
  /** minutes since the start */
  t: number;
  zombies: number[];
  /** live children: each holds pipes, so the daemon's fds go up and down with them */
  children: number;
  fds: number;
  rssMB: number;
  events: number;
}

/** Least squares y = a + b t: the slope b (per minute) and the residuals' standard deviation. */
function fit(ts: number[], ys: number[]): { slope: number; sd: number } {
  const n = ts.length;
  if (n < 3) return { slope: NaN, sd: NaN };
  const mt = ts.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (ts[i]! - mt) * (ys[i]! - my);
    sxx += (ts[i]! - mt) ** 2;
  }
  const slope = sxy / sxx;
  const a = my - slope * mt;
  const ss = ys.reduce((acc, y, i) => acc + (y - (a + slope * ts[i]!)) ** 2, 0);
  return { slope, sd: Math.sqrt(ss / (n - 2)) };
}

/** 1 min for short runs, up to 2 min (a fifth of the run) for long ones. */
function warmupMinutes(minutes: number): number {
  return Math.max(1, Math.min(2, minutes / 5));
}

interface Trend {
  slope: number;
  /** what the slope adds up to over the fitted span */
  change: number;
  noise: number;
  /** no growth beyond the noise (a fall is no leak: fewer programs alive at that instant) */
  flat: boolean;
}

function trend(samples: Sample[], pick: (s: Sample) => number, floor: (mean: number) => number, warmupMin: number): Trend {
  // Start-up is left out: buffers, caches and V8's heap grow to their working size over
  // the first minute or two (fastvisor's RSS levels off about 2 min in).
  const used = samples.filter((s) => s.t >= warmupMin && Number.isFinite(pick(s)));
  const ts = used.map((s) => s.t);
  const ys = used.map(pick);
  const { slope, sd } = fit(ts, ys);
  const span = ts.length ? ts[ts.length - 1]! - ts[0]! : 0;
  const mean = ys.reduce((a, b) => a + b, 0) / Math.max(1, ys.length);
  const noise = Math.max(2 * sd, floor(mean));
  const change = slope * span;
  return { slope, change, noise, flat: change <= noise };
}

interface LogFigures {
  spawned: number;
  exited: number;
  overflows: number;
}

/** The main log's counts up to `until` (epoch ms). */
function mainLogFigures(file: string, until: number): LogFigures {
  const f: LogFigures = { spawned: 0, exited: 0, overflows: 0 };
  for (const line of fileLines(file)) {
    if (asctimeMs(line.slice(0, 23)) > until) continue;
    if (/ spawned: 'c\d+'/.test(line)) f.spawned++;
    else if (/ exited: c\d+ /.test(line)) f.exited++;
    else if (/overflowed|discarding event/i.test(line)) f.overflows++;
  }
  return f;
}

interface ListenerFigures {
  events: number;
  exitEvents: number;
  /** the longest time between two events it received, s */
  longestGapS: number;
}

function listenerFigures(file: string, untilEpochS: number): ListenerFigures {
  const f: ListenerFigures = { events: 0, exitEvents: 0, longestGapS: 0 };
  let last = NaN;
  for (const line of fileLines(file)) {
    const [t, , , name] = line.split(' ');
    const at = Number(t);
    if (!Number.isFinite(at) || at > untilEpochS) continue;
    f.events++;
    if (name === 'PROCESS_STATE_EXITED') f.exitEvents++;
    if (Number.isFinite(last)) f.longestGapS = Math.max(f.longestGapS, at - last);
    last = at;
  }
  return f;
}

// ---- one daemon ------------------------------------------------------------------------

interface Result {
  kind: Kind;
  samples: Sample[];
  fds: Trend;
  rss: Trend;
  /** zombies: the most seen in one sample, and pids seen as zombies in two samples running */
  maxZombies: number;
  stuckZombies: number;
  log: LogFigures;
  listener: ListenerFigures;
  /** events the listener got, per 10 s sample: the fewest (0 is a stall) */
  minEventsPerSample: number;
  daemonExit: string;
}

async function soak(kind: Kind, opts: Options, bundle: string | null): Promise<Result> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fv-soak-${kind}-`));
  const token = newToken();
  const unhook = atExit(() => killStraysSync(token));
  writeFileSync(path.join(dir, 'supervisord.conf'), config(dir, opts.programs, opts.seed));
  mkdirSync(path.join(dir, 'logs'));
  const [cmd, args] = kind === 'fastvisor' ? [process.execPath, [bundle!]] : ['/usr/bin/supervisord', []];
  const child = spawn(cmd, [...args, '-n', '-c', path.join(dir, 'supervisord.conf')], {
    cwd: dir,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, [TOKEN_VAR]: token },
  });
  const pid = child.pid!;
  let exitText = 'running';
  child.once('exit', (code, sig) => (exitText = sig ?? `exit ${code}`));
  const samples: Sample[] = [];
  const zombieSeen = new Map<number, number>();
  let stuck = 0;
  const t0 = Date.now();
  const end = t0 + opts.minutes * 60_000;
  try {
    for (let next = t0 + SAMPLE_MS; next <= end; next += SAMPLE_MS) {
      await sleep(Math.max(0, next - Date.now()));
      if (!isAlive(pid)) throw new Error(`${kind} exited during the soak (${exitText})`);
      const kids = children(pid);
      const zombies = kids.zombies;
      for (const z of zombies) {
        const seen = (zombieSeen.get(z) ?? 0) + 1;
        zombieSeen.set(z, seen);
        if (seen === 2) stuck++;
      }
      for (const z of [...zombieSeen.keys()]) if (!zombies.includes(z)) zombieSeen.delete(z);
      const s: Sample = {
        t: (Date.now() - t0) / 60_000,
        zombies,
        children: kids.alive,
        fds: openFds(pid),
        rssMB: (procMemory(pid)?.rssKB ?? NaN) / 1024,
        events: lineCount(path.join(dir, 'events.txt')),
      };
      samples.push(s);
      console.log(
        `  ${kind} ${s.t.toFixed(2).padStart(5)} min: live children ${s.children}, zombies ${s.zombies.length}, fds ${s.fds}, RSS ${s.rssMB.toFixed(1)} MB, listener events ${s.events}`,
      );
    }
    const until = Date.now();
    // Exits up to 1 s before the end against the events the listener had by the end: a
    // listener that keeps up has them all (and those of the last second too).
    await sleep(1000);
    const log = mainLogFigures(path.join(dir, 'supervisord.log'), until - 1000);
    const listener = listenerFigures(path.join(dir, 'events.txt'), until / 1000);
    log.spawned = mainLogFigures(path.join(dir, 'supervisord.log'), until).spawned;
    const perSample = samples.slice(1).map((s, i) => s.events - samples[i]!.events);
    return {
      kind,
      samples,
      fds: trend(samples, (s) => s.fds, () => 2, warmupMinutes(opts.minutes)),
      rss: trend(samples, (s) => s.rssMB, (m) => 0.02 * m, warmupMinutes(opts.minutes)),
      maxZombies: Math.max(0, ...samples.map((s) => s.zombies.length)),
      stuckZombies: stuck,
      log,
      listener,
      minEventsPerSample: perSample.length ? Math.min(...perSample) : NaN,
      daemonExit: exitText,
    };
  } finally {
    // TERM, as an operator would; what has not ended a minute later is killed by group.
    if (isAlive(pid)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
      const deadline = Date.now() + 60_000;
      while (isAlive(pid) && Date.now() < deadline) await sleep(100);
      if (isAlive(pid)) killGroup(pid);
    }
    const strays = await killStrays(token).catch(() => -1);
    if (strays) console.log(`  ${kind}: ${strays} processes were left after the daemon stopped; killed`);
    unhook();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(results: Result[], opts: Options): void {
  const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows: string[][] = [
    [
      '', 'zombies max/sample', 'zombies never reaped', 'fds slope/min', 'fds no growth', 'RSS MB slope/min', 'RSS no growth',
      'spawned', 'exits in main log (to end-1 s)', 'exit events at listener (to end)', 'not at listener', 'overflows', 'listener longest gap s', 'fewest events/10 s',
    ],
  ];
  for (const r of results) {
    rows.push([
      r.kind,
      String(r.maxZombies),
      String(r.stuckZombies),
      `${f(r.fds.slope, 2)} (±${f(r.fds.noise, 1)} over the run)`,
      r.fds.flat ? 'yes' : 'NO',
      `${f(r.rss.slope, 2)} (±${f(r.rss.noise, 1)})`,
      r.rss.flat ? 'yes' : 'NO',
      String(r.log.spawned),
      String(r.log.exited),
      String(r.listener.exitEvents),
      String(Math.max(0, r.log.exited - r.listener.exitEvents)),
      String(r.log.overflows),
      f(r.listener.longestGapS, 2),
      String(r.minEventsPerSample),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  console.log(
    `\n${opts.programs} programs crash-looping (lives 0.1-2 s) for ${opts.minutes} min, samples every 10 s, slopes from minute ${warmupMinutes(opts.minutes)} on:`,
  );
  console.log(rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n'));
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const bundle = opts.daemons.includes('fastvisor') ? (opts.daemon ?? bundleDaemon(repoRoot)) : null;
  const results: Result[] = [];
  for (const kind of opts.daemons) {
    console.log(`${kind}: ${opts.programs} programs for ${opts.minutes} min`);
    results.push(await soak(kind, opts, bundle));
  }
  report(results, opts);
}

main().catch((err: unknown) => {
  console.error((err as Error)?.stack ?? String(err));
  process.exit(1);
});
