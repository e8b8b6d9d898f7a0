// SPDX-License-Identifier: MIT
// The one source of per-process figures (CPU, memory, fds, threads, log bytes,
// restarts, exit status, uptime), read on demand from /proc and the native
// core's counters: XML-RPC, fastvisorctl top, the web page and /metrics all ask
// here. Nothing walks the processes on a timer.
//
// /proc is read by the native core, all processes in one call (native/
// procstat.cc: /proc/PID/stat kept open and re-read, the fd count from the size
// of /proc/PID/fd): from Node, open + read + close of 500 stat files alone
// cost more than the whole scrape budget (README "Metrics and figures").
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

import { PROC_STAT_FIELDS, procStats, procStatsForget } from '../native/index.js';
import { wantsCgroup } from './cgroup-plan.js';
import type { Health } from './health.js';
import { processStateName, ProcessState } from './states.js';
import type { Subprocess } from './subprocess.js';

export interface LogFigures {
  /** bytes written to the log file, across rotations */
  written: number;
  /** bytes lost to write errors (full disk, removed directory) */
  dropped: number;
}

/** One process's figures; null where this OS (or this moment: no child) cannot say. */
export interface ProcessFigures {
  name: string;
  group: string;
  state: ProcessState;
  statename: string;
  /** 0 without a child */
  pid: number;
  /** wall clock, seconds since the epoch, of the last spawn; null before any */
  startTime: number | null;
  /** seconds since that spawn while a child is there; null without one */
  uptime: number | null;
  /** children started after the first, since the process was created (daemon start, or its group added) */
  restarts: number;
  /** the last child's exit status (-1: killed by a signal); null before any exit */
  exitStatus: number | null;
  /** the child's user + system CPU time (not its own children's), seconds */
  cpuSeconds: number | null;
  /** resident memory in bytes: the child's RSS, or its cgroup's memory.current where a reader is given */
  memoryBytes: number | null;
  memorySource: 'rss' | 'cgroup' | null;
  openFds: number | null;
  threads: number | null;
  log: { stdout: LogFigures | null; stderr: LogFigures | null };
  /** the health check's verdict; null without a health check */
  health: Health | null;
  /** ready=notify or log: 1 while RUNNING (ready), else 0; null for ready=started */
  ready: 0 | 1 | null;
  /** children of the process killed by the OOM killer, counted at each exit, since the process was added; null without a cgroup */
  oomKills: number | null;
  /** the cgroup limits that are set (null: not set) */
  limits: { memoryMaxBytes: number | null; cpuMaxRatio: number | null; pidsMax: number | null };
}

export interface StatsOptions {
  /**
   * The memory a process's cgroup charges (memory.current / memory.usage_in_bytes),
   * or null when it has none: the cgroup module plugs in here; RSS otherwise.
   */
  memoryCurrent?: (proc: Subprocess) => number | null;
  /** tests: another /proc */
  procRoot?: string;
  /** tests: pretend to be another OS */
  platform?: NodeJS.Platform;
  /** keep each child's /proc/PID/stat open between reads (native/procstat.h; default true) */
  cacheStatFds?: boolean;
}

/** Field positions in /proc/PID/stat after the `(comm)`, 0 = field 3 (state). */
const STAT = { utime: 11, stime: 12, threads: 17, rss: 21 } as const;

/** Positions in a pid's slice of the raw figures (src/native procStats' layout). */
const RAW = { cpu: 0, rss: 1, threads: 2, fds: 3 } as const;

/**
 * sysconf(_SC_CLK_TCK) and the page size without running getconf: the kernel
 * hands both to every process in its auxiliary vector (AT_PAGESZ = 6,
 * AT_CLKTCK = 17). A child process here would be reaped by the PID-1 orphan
 * sweep, and one exec per daemon is one too many anyway. 100 and 4096 when it
 * cannot be read (every Linux port but ia64 and a few arm64 kernels uses them).
 */
export function systemUnits(procRoot = '/proc'): { clkTck: number; pageSize: number } {
  let clkTck = 100;
  let pageSize = 4096;
  try {
    const auxv = readFileSync(`${procRoot}/self/auxv`);
    const word = process.arch.endsWith('64') ? 8 : 4;
    const read = (at: number): number => (word === 8 ? Number(auxv.readBigUInt64LE(at)) : auxv.readUInt32LE(at));
    for (let at = 0; at + 2 * word <= auxv.length; at += 2 * word) {
      const type = read(at);
      if (type === 0) break;
      if (type === 6) pageSize = read(at + word) || pageSize;
      else if (type === 17) clkTck = read(at + word) || clkTck;
    }
  } catch {
    // not Linux, or no /proc: the defaults
  }
  return { clkTck, pageSize };
}

export class ProcessStats {
  private readonly linux: boolean;
  private readonly procRoot: string;
  /** the native reader (the real /proc on Linux); else the JS one below (tests' made-up /proc) */
  private readonly native: boolean;
  private units: { clkTck: number; pageSize: number } | null = null;
  /** one read buffer for every /proc/PID/stat: a line is ~300 bytes, comm at most 64 */
  private readonly buf = Buffer.alloc(4096);
  /** reused between calls: pids in, PROC_STAT_FIELDS figures per pid out */
  private pids = new Int32Array(0);
  private raw = new Float64Array(0);

  constructor(private readonly opts: StatsOptions = {}) {
    this.linux = (opts.platform ?? process.platform) === 'linux';
    this.procRoot = opts.procRoot ?? '/proc';
    this.native = this.linux && this.procRoot === '/proc';
  }

  /** The figures of one process now; now and wall are the clock's (read once for many processes). */
  read(proc: Subprocess, now: number, wall: number): ProcessFigures {
    return this.readAll([proc], now, wall)[0]!;
  }

  /** Every process's figures, /proc read for all of them in one native call. */
  readAll(procs: Iterable<Subprocess>, now: number, wall: number): ProcessFigures[] {
    const list = Array.isArray(procs) ? (procs as Subprocess[]) : [...procs];
    const raw = this.readRaw(list);
    return list.map((p, i) => this.figures(p, raw, i, now, wall));
  }

  /** The child pid was reaped: its cached /proc descriptor goes. */
  forget(pid: number): void {
    if (this.native && pid > 0) procStatsForget(pid);
  }

  private figures(proc: Subprocess, raw: Float64Array | null, i: number, now: number, wall: number): ProcessFigures {
    const status = proc.status;
    const pid = status.pid;
    const at = i * PROC_STAT_FIELDS;
    const fig = (k: number): number | null => {
      const v = raw && pid > 0 ? raw[at + k]! : NaN;
      return Number.isNaN(v) ? null : v;
    };
    const cpuSeconds = fig(RAW.cpu);
    const rss = fig(RAW.rss);
    const cgroupMemory = pid > 0 && this.opts.memoryCurrent ? this.opts.memoryCurrent(proc) : null;
    const started = status.laststart;
    const config = proc.config;
    const cg = config.fastvisor.cgroup;
    const ready = config.fastvisor.ready.kind;
    return {
      name: proc.name,
      group: proc.groupName,
      state: status.state,
      statename: processStateName(status.state),
      pid,
      startTime: started === null ? null : (wall - (now - started)) / 1000,
      uptime: started === null || pid === 0 ? null : Math.max(0, now - started) / 1000,
      restarts: Math.max(0, proc.spawns - 1),
      exitStatus: proc.lastExitStatus,
      cpuSeconds,
      memoryBytes: cgroupMemory ?? rss,
      memorySource: cgroupMemory !== null ? 'cgroup' : rss !== null ? 'rss' : null,
      openFds: fig(RAW.fds),
      threads: fig(RAW.threads),
      log: { stdout: logFigures(proc, 'stdout'), stderr: logFigures(proc, 'stderr') },
      health: proc.health,
      ready: ready === 'started' ? null : status.state === ProcessState.RUNNING ? 1 : 0,
      oomKills: wantsCgroup(cg, config.fastvisor.kill_mode) ? proc.oomKills : null,
      limits: { memoryMaxBytes: cg.memory_max, cpuMaxRatio: cg.cpu_max === null ? null : cg.cpu_max / 100, pidsMax: cg.pids_max },
    };
  }

  // PROC_STAT_FIELDS per process (NaN: unreadable or no child); null off Linux.
  private readRaw(procs: readonly Subprocess[]): Float64Array | null {
    if (!this.linux) return null;
    const n = procs.length;
    if (this.pids.length < n) {
      this.pids = new Int32Array(Math.max(n, 2 * this.pids.length));
      this.raw = new Float64Array(this.pids.length * PROC_STAT_FIELDS);
    }
    const pids = this.pids.subarray(0, n);
    for (let i = 0; i < n; i++) pids[i] = procs[i]!.status.pid;
    const raw = this.raw.subarray(0, n * PROC_STAT_FIELDS);
    if (this.native) return procStats(pids, raw, this.opts.cacheStatFds ?? true);
    raw.fill(NaN);
    for (let i = 0; i < n; i++) if (pids[i]! > 0) this.readProc(pids[i]!, raw, i * PROC_STAT_FIELDS);
    return raw;
  }

  // The JS reader, for a /proc elsewhere (tests): the native reader's layout.
  // One open/read/close into a reused buffer.
  private readProc(pid: number, out: Float64Array, at: number): void {
    this.units ??= systemUnits(this.procRoot);
    let n: number;
    try {
      const fd = openSync(`${this.procRoot}/${pid}/stat`, 'r');
      try {
        n = readSync(fd, this.buf, 0, this.buf.length, 0);
      } finally {
        closeSync(fd);
      }
    } catch {
      return; // gone between the exit and its report
    }
    const line = this.buf.toString('latin1', 0, n);
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[STAT.utime]) + Number(fields[STAT.stime]);
    const threads = Number(fields[STAT.threads]);
    const rss = Number(fields[STAT.rss]);
    if (!Number.isFinite(ticks) || !Number.isFinite(threads) || !Number.isFinite(rss)) return;
    out[at + RAW.cpu] = ticks / this.units.clkTck;
    out[at + RAW.threads] = threads;
    out[at + RAW.rss] = rss * this.units.pageSize;
    out[at + RAW.fds] = this.countFds(pid) ?? NaN;
  }

  private countFds(pid: number): number | null {
    try {
      return readdirSync(`${this.procRoot}/${pid}/fd`).length;
    } catch {
      return null;
    }
  }
}

function logFigures(proc: Subprocess, channel: 'stdout' | 'stderr'): LogFigures | null {
  const sink = proc.sink(channel);
  if (!sink || sink.closed) return null;
  const c = sink.counters();
  return { written: c.written, dropped: c.dropped };
}
