// SPDX-License-Identifier: MIT
// process/stats.ts on a /proc made up in a temp dir: the stat line's fields
// (a command name with spaces and parentheses), clock ticks and page size
// from the auxiliary vector, fds, log counters, restarts; nulls off Linux and
// without a child. The real /proc is covered by test/e2e/http/metrics.test.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { ProcessStats, systemUnits } from '../../../src/process/stats.js';
import { ProcessState } from '../../../src/process/states.js';
import type { Subprocess } from '../../../src/process/subprocess.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

function fakeProc(): string {
  const root = tmpDir('fv-proc-');
  const auxv = Buffer.alloc(16 * 3);
  auxv.writeBigUInt64LE(6n, 0); // AT_PAGESZ
  auxv.writeBigUInt64LE(16384n, 8);
  auxv.writeBigUInt64LE(17n, 16); // AT_CLKTCK
  auxv.writeBigUInt64LE(250n, 24);
  mkdirSync(path.join(root, 'self'));
  writeFileSync(path.join(root, 'self', 'auxv'), auxv);
  mkdirSync(path.join(root, '4242', 'fd'), { recursive: true });
  for (const fd of ['0', '1', '2', '7']) writeFileSync(path.join(root, '4242', 'fd', fd), '');
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itreal starttime vsize rss
  writeFileSync(path.join(root, '4242', 'stat'), '4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 500 250 9 9 20 0 3 0 12345 9999999 77 rest\n');
  return root;
}

const NO_LIMITS = { memory_max: null, memory_high: null, cpu_max: null, cpu_weight: null, pids_max: null, io_weight: null };
function config(fastvisor: Record<string, unknown> = {}): Subprocess['config'] {
  return { fastvisor: { ready: { kind: 'started' }, kill_mode: null, cgroup: NO_LIMITS, ...fastvisor } } as unknown as Subprocess['config'];
}

function proc(pid: number, extra: Partial<Subprocess> = {}): Subprocess {
  const sinks = { stdout: { closed: false, counters: () => ({ written: 1234, dropped: 5, size: 0, rotations: 0, faultErrno: 0 }) }, stderr: null };
  return {
    name: 'prog',
    groupName: 'grp',
    status: { state: pid ? ProcessState.RUNNING : ProcessState.STOPPED, pid, laststart: 1000 },
    spawns: 3,
    lastExitStatus: -1,
    oomKills: 0,
    config: config(),
    health: null,
    sink: (ch: 'stdout' | 'stderr') => sinks[ch],
    ...extra,
  } as unknown as Subprocess;
}

describe('process figures', () => {
  it('CPU, RSS and threads from /proc/PID/stat; fds; log counters; restarts', () => {
    const root = fakeProc();
    expect(systemUnits(root)).toEqual({ clkTck: 250, pageSize: 16384 });
    const f = new ProcessStats({ procRoot: root, platform: 'linux' }).read(proc(4242), 3500, 1_700_000_000_000);
    expect(f).toMatchObject({
      name: 'prog',
      group: 'grp',
      statename: 'RUNNING',
      pid: 4242,
      cpuSeconds: 3, // (500 + 250) / 250
      threads: 3,
      memoryBytes: 77 * 16384,
      memorySource: 'rss',
      openFds: 4,
      restarts: 2,
      exitStatus: -1,
      uptime: 2.5,
      startTime: 1_699_999_997.5,
      log: { stdout: { written: 1234, dropped: 5 }, stderr: null },
      health: null,
      ready: null,
      oomKills: null,
      limits: { memoryMaxBytes: null, cpuMaxRatio: null, pidsMax: null },
    });
  });

  it('readiness where signalled, OOM kills and the limits where the program has a cgroup', () => {
    const root = fakeProc();
    const stats = new ProcessStats({ procRoot: root, platform: 'linux' });
    const limited = config({ ready: { kind: 'log', pattern: 'up' }, cgroup: { ...NO_LIMITS, memory_max: 64 << 20, cpu_max: 50, pids_max: 20 } });
    const f = stats.read(proc(4242, { config: limited, oomKills: 2 }), 0, 0);
    expect([f.ready, f.oomKills, f.limits]).toEqual([1, 2, { memoryMaxBytes: 64 << 20, cpuMaxRatio: 0.5, pidsMax: 20 }]);
    const stopped = stats.read(proc(0, { config: limited }), 0, 0);
    expect(stopped.ready).toBe(0);
    // kill_mode=cgroup alone: a cgroup, no limits
    const killOnly = stats.read(proc(4242, { config: config({ kill_mode: 'cgroup' }) }), 0, 0);
    expect([killOnly.oomKills, killOnly.limits.memoryMaxBytes, killOnly.ready]).toEqual([0, null, null]);
  });

  it('reads many processes in one call, the real /proc through the native reader', () => {
    const stats = new ProcessStats();
    const [self, none, gone] = stats.readAll([proc(process.pid), proc(0), proc(0x3ffffff0)], 0, 0);
    if (process.platform !== 'linux') {
      expect(self!.cpuSeconds).toBeNull();
      return;
    }
    expect(self!.cpuSeconds).toBeGreaterThan(0);
    expect(self!.memoryBytes).toBeGreaterThan(1 << 20);
    expect(self!.threads).toBeGreaterThanOrEqual(1);
    expect(self!.openFds).toBeGreaterThanOrEqual(3);
    expect([none!.cpuSeconds, none!.openFds, gone!.cpuSeconds, gone!.openFds]).toEqual([null, null, null, null]);
  });

  it("the cgroup's memory where a reader gives one", () => {
    const root = fakeProc();
    const f = new ProcessStats({ procRoot: root, platform: 'linux', memoryCurrent: () => 5_000_000 }).read(proc(4242), 0, 0);
    expect(f.memoryBytes).toBe(5_000_000);
    expect(f.memorySource).toBe('cgroup');
  });

  it('nulls without a child, for a pid that is gone, and off Linux', () => {
    const root = fakeProc();
    const none = new ProcessStats({ procRoot: root, platform: 'linux' }).read(proc(0), 0, 0);
    expect([none.cpuSeconds, none.memoryBytes, none.openFds, none.threads, none.uptime, none.memorySource]).toEqual([null, null, null, null, null, null]);
    const gone = new ProcessStats({ procRoot: root, platform: 'linux' }).read(proc(999), 0, 0);
    expect([gone.cpuSeconds, gone.openFds]).toEqual([null, null]);
    const mac = new ProcessStats({ procRoot: root, platform: 'darwin' }).read(proc(4242), 0, 0);
    expect([mac.cpuSeconds, mac.memoryBytes, mac.openFds, mac.threads]).toEqual([null, null, null, null]);
    expect(mac.restarts).toBe(2);
  });
});
