// SPDX-License-Identifier: MIT
// The one source of per-process figures (CPU, memory, fds, threads, log bytes,
// restarts, exit status, uptime), read on demand from /proc and the native
// core's counters: XML-RPC, fastvisorctl top, the web page and /metrics all ask
// here. Nothing walks the processes on a timer.
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';

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
}

/** Field positions in /proc/PID/stat after the `(comm)`, 0 = field 3 (state). */
const STAT = { utime: 11, stime: 12, threads: 17, rss: 21 } as const;

interface Raw {
  cpuSeconds: number;
  threads: number;
  rssBytes: number;
}

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
  private units: { clkTck: number; pageSize: number } | null = null;
  /** one read buffer for every /proc/PID/stat: a line is ~300 bytes, comm at most 64 */
  private readonly buf = Buffer.alloc(4096);

  constructor(private readonly opts: StatsOptions = {}) {
    this.linux = (opts.platform ?? process.platform) === 'linux';
    this.procRoot = opts.procRoot ?? '/proc';
  }

  /** The figures of one process now; now and wall are the clock's (read once for many processes). */
  read(proc: Subprocess, now: number, wall: number): ProcessFigures {
    const status = proc.status;
    const pid = status.pid;
    const raw = pid > 0 ? this.readStat(pid) : null;
    const cgroupMemory = pid > 0 && this.opts.memoryCurrent ? this.opts.memoryCurrent(proc) : null;
    const started = status.laststart;
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
      cpuSeconds: raw ? raw.cpuSeconds : null,
      memoryBytes: cgroupMemory ?? (raw ? raw.rssBytes : null),
      memorySource: cgroupMemory !== null ? 'cgroup' : raw ? 'rss' : null,
      openFds: pid > 0 ? this.countFds(pid) : null,
      threads: raw ? raw.threads : null,
      log: { stdout: logFigures(proc, 'stdout'), stderr: logFigures(proc, 'stderr') },
      health: proc.health,
    };
  }

  readAll(procs: Iterable<Subprocess>, now: number, wall: number): ProcessFigures[] {
    const out: ProcessFigures[] = [];
    for (const p of procs) out.push(this.read(p, now, wall));
    return out;
  }

  // One open/read/close into a reused buffer: readFileSync would add an fstat
  // and a buffer per call, 500 times a scrape.
  private readStat(pid: number): Raw | null {
    if (!this.linux) return null;
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
      return null; // gone between the exit and its report
    }
    const line = this.buf.toString('latin1', 0, n);
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[STAT.utime]) + Number(fields[STAT.stime]);
    const threads = Number(fields[STAT.threads]);
    const rss = Number(fields[STAT.rss]);
    if (!Number.isFinite(ticks) || !Number.isFinite(threads) || !Number.isFinite(rss)) return null;
    return { cpuSeconds: ticks / this.units.clkTck, threads, rssBytes: rss * this.units.pageSize };
  }

  // Needs ptrace access to the child (a daemon running as root, or the child's
  // user). Linux 6.2 and later give the count as the directory's size, one
  // stat() instead of listing it (half the cost); 0 there is an older kernel.
  private countFds(pid: number): number | null {
    if (!this.linux) return null;
    const dir = `${this.procRoot}/${pid}/fd`;
    try {
      return (this.procRoot === '/proc' && statSync(dir).size) || readdirSync(dir).length;
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
