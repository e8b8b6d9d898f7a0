// SPDX-License-Identifier: MIT
// chatty: many programs each writing 500 lines of 100 bytes a second (or
// 1000 programs 100 a second: the wide case), one write() per line, then exiting after exactly rate × duration lines. What it
// costs the pump to keep up: CPU % of one core over the steady window (from
// 20 % to 90 % of the duration after go, while every program runs), bytes
// lost, and the age of the newest line on disk (each line carries the time it
// was written).
//
// Line formats (stdout_logfile_format): the same work with the logs written
// timestamped or as JSON lines (peers fastvisor-timestamped, fastvisor-json),
// and the case CASE-stdout-json: every program's output to one FIFO standing
// for the daemon's stdout with child_log_format=json, read by a collector
// that parses every line. Their bytes are counted by parsing (lib/line-check.ts).
//
// CASE-rot: time rotation and gzip (peer fastvisor-gzip: rotate_every of a
// fifth of the run, so rotations and compressions fall inside the measured
// window; stdout_logfile_compress=gzip) against fastvisor without either.
// After the clock stops the logs are read back, backups gunzipped oldest
// first: every line 100 bytes, whole, in time order, none missing.
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { bytesOnDisk, expectedBytes } from '../lib/files.js';
import { checkDir, checkStream, newCheck, peerFormat, type LineCheck } from '../lib/line-check.js';
import { compressionPending, recoverLog } from '../lib/recover.js';
import { epochMicros, now, percentile, procCpu, procMemory } from '../lib/measure.js';
import type { PeerDef, TrialContext, TrialResult, Work } from '../lib/types.js';
import { daemonPeers } from '../peers/fastvisord.js';
import { makeWork, withPeer, type CaseDef, type Scenario } from './common.js';

const RATE = 500;
const LINE = 100;

interface Shape {
  procs: number;
  rate: number;
  seconds: number;
}

function shape(quick: boolean): Shape {
  return quick ? { procs: 20, rate: RATE, seconds: 3 } : { procs: 200, rate: RATE, seconds: 10 };
}

// Many slower writers: 1000 programs × 100 lines/s (the same 100 000 lines/s
// over five times the pipes and files). Longer, so that the steady window
// survives a slow start of 1000 programs.
function wideShape(quick: boolean): Shape {
  return quick ? { procs: 100, rate: 100, seconds: 4 } : { procs: 1000, rate: 100, seconds: 20 };
}

function nameOf(s: Shape): string {
  return `${s.procs}x${s.rate}lps-${s.seconds}s`;
}

function caseName(quick: boolean): string {
  return nameOf(shape(quick));
}

function stdoutCaseName(quick: boolean): string {
  return `${caseName(quick)}-stdout-json`;
}

function rotateEvery(quick: boolean): number {
  return Math.max(1, Math.floor(shape(quick).seconds / 5));
}

function rotCaseName(quick: boolean): string {
  return `${caseName(quick)}-rot${rotateEvery(quick)}s-gzip`;
}

/** A log chain read back: bytes of whole, 100-byte, time-ordered lines; -1 when it is not that. */
async function readBackLines(log: string): Promise<number> {
  let carry = Buffer.alloc(0);
  let last = -1;
  let ok = true;
  const { bytes } = await recoverLog(log, (chunk) => {
    const all = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const whole = Math.floor(all.length / LINE) * LINE;
    for (let i = 0; i < whole; i += LINE) {
      const m = /^t=(\d+)\.(\d{6}) /.exec(all.toString('latin1', i, i + 32));
      const t = m ? Number(m[1]) * 1e6 + Number(m[2]) : NaN;
      if (!(t >= last) || all[i + LINE - 1] !== 0x0a) ok = false;
      last = t;
    }
    carry = Buffer.from(all.subarray(whole));
  });
  return ok && carry.length === 0 ? bytes : -1;
}

/** Age in ms of the newest complete line in a log, or undefined when it has none yet. */
function newestLineAge(file: string, buf: Buffer): number | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const end = Math.floor(size / LINE) * LINE;
    if (end < LINE) return undefined;
    readSync(fd, buf, 0, LINE, end - LINE);
    const m = /^t=(\d+)\.(\d{6}) /.exec(buf.toString('latin1', 0, 32));
    if (!m) return undefined;
    const written = Number(m[1]) * 1e6 + Number(m[2]);
    return (epochMicros() - written) / 1000;
  } finally {
    closeSync(fd);
  }
}

/** Samples newest-line ages every 250 ms, 10 logs at a time, round-robin, until stop(). */
function lagSampler(work: Work): { stop: () => number[] } {
  const ages: number[] = [];
  const buf = Buffer.alloc(LINE);
  let next = 0;
  const timer = setInterval(() => {
    for (let k = 0; k < Math.min(10, work.programs.length); k++) {
      const p = work.programs[next++ % work.programs.length]!;
      const age = newestLineAge(p.log, buf);
      if (age !== undefined) ages.push(age);
    }
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      return ages;
    },
  };
}

async function sleepUntil(t: number): Promise<void> {
  const d = t - now();
  if (d > 0) await sleep(d);
}

export const chatty: Scenario = {
  name: 'chatty',
  describe: `programs writing ${RATE} lines/s of ${LINE} bytes, one write() per line; steady-window CPU %`,
  cases(quick): CaseDef[] {
    return [
      {
        name: caseName(quick),
        peers: [
          'fastvisor',
          'fastvisor-batch0',
          'fastvisor-timestamped',
          'fastvisor-json',
          ...daemonPeers(),
          'c-loop',
          'c-splice',
          'supervisord',
          'pm2',
        ],
        timeoutSec: shape(quick).seconds + 180,
      },
      {
        name: nameOf(wideShape(quick)),
        peers: ['fastvisor', ...daemonPeers(), 'c-loop', 'supervisord'],
        timeoutSec: wideShape(quick).seconds + 240,
      },
      {
        name: rotCaseName(quick),
        peers: ['fastvisor', 'fastvisor-gzip'],
        timeoutSec: shape(quick).seconds + 180,
        note: `fastvisor-gzip: rotate_every=${rotateEvery(quick)}s and gzip; fastvisor: neither. Logs read back (gunzipped) after the clock stopped`,
      },
      {
        name: stdoutCaseName(quick),
        peers: ['fastvisor', 'fastvisor-json'],
        timeoutSec: shape(quick).seconds + 180,
        note: 'every program to one FIFO (the daemon stdout of a container) that a collector reads and parses line by line; fastvisor: raw bytes, fastvisor-json: child_log_format=json',
      },
    ];
  },
  async run(name: string, peer: PeerDef, ctx: TrialContext, run: number): Promise<TrialResult> {
    const toStdout = name === stdoutCaseName(ctx.quick);
    const rot = name === rotCaseName(ctx.quick);
    const wide = name === nameOf(wideShape(ctx.quick));
    if (name !== caseName(ctx.quick) && !toStdout && !rot && !wide) throw new Error(`no chatty case ${name}`);
    const format = peerFormat(peer.name);
    const { procs, rate, seconds } = wide ? wideShape(ctx.quick) : shape(ctx.quick);
    const lines = rate * seconds;
    const programs = Array.from({ length: procs }, () => ({
      argv: [ctx.bins.writer, 'lines', String(rate), String(lines)],
      expectedBytes: lines * LINE,
    }));
    const work = makeWork('chatty', ctx, programs, { pollMs: 200, ...(rot ? { rotateEverySec: rotateEvery(ctx.quick), backups: 10 } : {}) });
    const expected = expectedBytes(work);
    // The collector: reading before the peer opens the FIFO (an open for
    // writing waits for a reader); raw output is only counted.
    let collected: { check: LineCheck; done: Promise<void> } | undefined;
    if (toStdout) {
      work.collect = path.join(work.scratch, 'daemon-stdout.fifo');
      execFileSync('mkfifo', [work.collect]);
      const check = newCheck();
      collected = { check, done: checkStream(check, format ?? 'raw', work.collect).catch(() => undefined) };
    }
    return withPeer({ scenario: 'chatty', case: name, peer: peer.name, run }, work, peer, ctx, async (s, r) => {
      await s.ready(60_000);
      const cpu0 = procCpu(s.pid);
      const t0 = now();
      await s.go();
      const goEnd = now();
      const goSec = (goEnd - t0) / 1000;
      // The steady window: every program spawned and none finished yet. The
      // first exits come T seconds after go, so it ends at 0.9 T; it starts at
      // 0.2 T, or half a second after the last spawn when starting them all
      // takes the peer longer than that.
      const w0 = Math.max(t0 + 0.2 * seconds * 1000, goEnd + 500);
      // (at least 1 s, even if the first programs are done by then)
      const w1 = Math.max(t0 + 0.9 * seconds * 1000, w0 + 1000);
      if (w1 - w0 < 0.5 * seconds * 1000) {
        r.notes.push(`starting ${procs} programs took ${goSec.toFixed(2)} s: the steady window shrank to ${((w1 - w0) / 1000).toFixed(1)} s`);
      }
      const window = (async () => {
        await sleepUntil(w0);
        const a = procCpu(s.pid);
        const ta = now();
        // Lines of a formatted log are not 100 bytes: the sampler reads raw logs only.
        const lag = format || toStdout ? { stop: (): number[] => [] } : lagSampler(work);
        await sleepUntil(w1);
        const b = procCpu(s.pid);
        const tb = now();
        return { a, b, ta, tb, ages: lag.stop() };
      })();
      const fin = await s.finished(seconds * 1000 + 120_000);
      const t1 = now();
      const cpu1 = procCpu(s.pid);
      const mem = procMemory(s.pid);
      const { a, b, ta, tb, ages } = await window;
      if (!cpu0 || !cpu1 || !a || !b) throw new Error(`could not read /proc/${s.pid}/stat`);
      let onDisk = bytesOnDisk(work);
      if (collected) {
        // Everything written is in the pipe; the collector may still be parsing it.
        const check = collected.check;
        const until = now() + 30_000;
        while (check.payloadBytes < expected && now() < until) await sleep(20);
        onDisk = check.payloadBytes;
        r.notes.push(`collector: ${check.records} lines, ${check.bad} did not parse alone`);
      } else if (peer.name.endsWith('-gzip')) {
        const tc = now();
        while (compressionPending(work.logDir) && now() - tc < 60_000) await sleep(50);
        onDisk = 0;
        let bad = 0;
        for (const p of work.programs) {
          const n = await readBackLines(p.log);
          if (n < 0) bad++;
          else onDisk += n;
        }
        const gz = readdirSync(work.logDir).filter((n) => n.endsWith('.gz')).length;
        r.notes.push(`gzip: ${gz} .gz backups, all compressed ${((now() - t1) / 1000).toFixed(2)} s after the end; ${bad} logs did not read back as whole ordered lines`);
      } else if (format) {
        const check = await checkDir(work.logDir, format);
        r.notes.push(`${format}: ${check.records} lines, ${check.bad} did not parse alone, ${onDisk} bytes in the files`);
        onDisk = check.payloadBytes;
      }
      r.window = [(ta - t0) / 1000, (tb - t0) / 1000];
      r.cpuPct = ((b.total - a.total) / ((tb - ta) / 1000)) * 100;
      r.cpuSec = cpu1.total - cpu0.total;
      r.wallSec = (t1 - t0) / 1000;
      r.goSec = goSec;
      r.expectedBytes = expected;
      r.bytesOnDisk = onDisk;
      r.lostBytes = expected - onDisk;
      r.peakRssKB = mem?.peakKB;
      if (ages.length) r.lagMs = { p50: percentile(ages, 50)!, p99: percentile(ages, 99)!, max: Math.max(...ages), samples: ages.length };
      r.via = fin.via;
      r.self = fin.self;
    });
  },
};
