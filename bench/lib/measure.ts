// SPDX-License-Identifier: MIT
// What the bench reads about a process: CPU seconds from /proc (the process
// itself, every thread; not its children, so the writers' own CPU never
// counts), peak and current RSS from
// /proc/<pid>/status, a monotonic wall clock, and the median of the runs.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

let ticks: number | undefined;

/** Clock ticks per second (USER_HZ) for /proc/<pid>/stat. */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface ProcCpu {
  /** utime and stime from /proc/<pid>/stat, seconds (whole clock ticks) */
  user: number;
  system: number;
  /** on-CPU time of the live threads, from /proc/<pid>/task/<tid>/schedstat (nanoseconds) */
  sched: number;
  /**
   * CPU seconds, the larger of the two: schedstat has nanosecond resolution
   * where stat has 10 ms ticks; stat still counts threads that have exited.
   */
  total: number;
}

function schedSeconds(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread just exited
      }
    }
  } catch {
    return 0;
  }
  return ns / 1e9;
}

/** The process's own CPU time (all threads, not its children), seconds; null once it is gone. */
export function procCpu(pid: number): ProcCpu | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm may hold spaces and parens: the fields we want follow the last ')'.
  // After it: state(3) ppid(4) … utime(14) stime(15), numbered from pid = 1.
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  const hz = clockTicks();
  const user = Number(rest[11]) / hz;
  const system = Number(rest[12]) / hz;
  const sched = schedSeconds(pid);
  return { user, system, sched, total: Math.max(user + system, sched) };
}

export interface ProcMemory {
  /** peak resident set (VmHWM), KiB */
  peakKB: number;
  /** current resident set (VmRSS), KiB */
  rssKB: number;
}

export function procMemory(pid: number): ProcMemory | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { peakKB: field('VmHWM'), rssKB: field('VmRSS') };
}

/** Monotonic milliseconds. */
/** supervisord's asctime in its main log ('2026-01-01 10:00:00,123', local time) to epoch ms; NaN if it is not one. */
export function asctimeMs(s: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3})$/.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, se, ms] = m.map(Number) as number[];
  return new Date(y!, mo! - 1, d!, h!, mi!, se!, ms!).getTime();
}

export function now(): number {
  return performance.now();
}

/** Wall-clock microseconds since the epoch, with sub-millisecond resolution. */
export function epochMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

export function median(values: number[]): number | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1]! + v[mid]!) / 2;
}

export function percentile(values: number[], p: number): number | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}
