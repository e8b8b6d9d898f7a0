// SPDX-License-Identifier: MIT
// procStats (native/procstat.cc): many pids' /proc figures in one call,
// against what /proc says read from here; NaN for a pid that is gone; the
// descriptor cache (kept per pid, re-read, dropped when the process is reaped
// or forgotten, never read through for a reused pid).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

import { PROC_STAT_FIELDS, procStats, procStatsCached, procStatsForget } from '../../src/native/index.js';
import { pollUntil } from '../helpers/poll.js';
import { isAlive } from '../helpers/procs.js';

const kids: number[] = [];
function sleeper(): number {
  const c = spawn('/bin/sleep', ['100'], { stdio: 'ignore' });
  kids.push(c.pid!);
  return c.pid!;
}

afterEach(() => {
  for (const pid of kids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  procStatsForget();
});

describe.runIf(process.platform === 'linux')('procStats', () => {
  it('CPU, RSS, threads and fds of many pids, as /proc says', async () => {
    const pids = [sleeper(), sleeper(), sleeper()];
    // Exec'd and asleep in nanosleep: until then the loader is still mapping
    // pages and RSS moves between two reads (seen under Node 24 in CI).
    const asleep = (p: number): boolean => {
      const f = readFileSync(`/proc/${p}/stat`, 'latin1');
      return readFileSync(`/proc/${p}/cmdline`, 'latin1').startsWith('/bin/sleep') && f.slice(f.lastIndexOf(')') + 2).startsWith('S');
    };
    await pollUntil(() => pids.every(asleep), { what: 'the sleepers to exec and sleep' });
    const out = procStats(Int32Array.from([...pids, 0, process.pid]));
    expect(out).toHaveLength(5 * PROC_STAT_FIELDS);
    const page = 4096;
    for (const [i, pid] of pids.entries()) {
      const f = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
      const at = i * PROC_STAT_FIELDS;
      expect(out[at]).toBeCloseTo((Number(x[11]) + Number(x[12])) / 100, 1);
      expect(Math.abs(out[at + 1]! - Number(x[21]) * page)).toBeLessThan(64 * page);
      expect(out[at + 2]).toBe(1);
      expect(out[at + 3]).toBe(readdirSync(`/proc/${pid}/fd`).length);
    }
    expect([...out.subarray(3 * PROC_STAT_FIELDS, 4 * PROC_STAT_FIELDS)].every(Number.isNaN)).toBe(true);
    expect(out[4 * PROC_STAT_FIELDS + 2]).toBeGreaterThanOrEqual(1); // this process's threads
  });

  it('keeps descriptors for the next call; a reaped pid reads NaN and loses them', async () => {
    const pid = sleeper();
    const before = procStatsCached();
    procStats(Int32Array.from([pid]));
    expect(procStatsCached()).toBeGreaterThan(before);
    expect(Number.isNaN(procStats(Int32Array.from([pid]))[0])).toBe(false);
    process.kill(pid, 'SIGKILL');
    await pollUntil(() => !isAlive(pid), { what: 'the sleeper to be reaped' });
    await pollUntil(() => Number.isNaN(procStats(Int32Array.from([pid]))[0]), { what: 'NaN for the reaped pid' });
    expect(procStatsCached()).toBe(before);
  });

  it('forget closes one pid, no pid closes all; without cache nothing is kept', () => {
    const a = sleeper();
    const b = sleeper();
    procStats(Int32Array.from([a, b]));
    const both = procStatsCached();
    procStatsForget(a);
    expect(procStatsCached()).toBeLessThan(both);
    procStatsForget();
    expect(procStatsCached()).toBe(0);
    procStats(Int32Array.from([a, b]), undefined, false);
    expect(procStatsCached()).toBe(0);
  });

  it('throws on misuse', () => {
    expect(() => procStats(Int32Array.from([1, 2]), new Float64Array(4))).toThrow(/Usage: procStats/);
  });
});
