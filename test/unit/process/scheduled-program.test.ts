// SPDX-License-Identifier: MIT
// A scheduled program inside the Supervisor, on a fake clock and a fake native core: not
// autostarted, started on the minute, EXITED (not BACKOFF) however quickly it exits, skipped
// while still running, no runs once the daemon stops or the group is removed; and a program
// without schedule exactly as before.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import { MainLog } from '../../../src/log/main-log.js';
import type { IoCore, SpawnOutcome } from '../../../src/native/index.js';
import { FakeClock } from '../../../src/process/clock.js';
import { ProcessState, SupervisorState } from '../../../src/process/states.js';
import { Supervisor } from '../../../src/process/supervisor.js';
import type { Subprocess } from '../../../src/process/subprocess.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** Spawns answer when the test says so; kills are recorded. */
class FakeCore {
  pending: Array<(o: SpawnOutcome) => void> = [];
  kills: Array<[number, number]> = [];
  private nextPid = 1000;
  spawnAsync(_req: unknown, done: (o: SpawnOutcome) => void): void {
    this.pending.push(done);
  }
  /** every spawn in flight succeeds: [pid, child] of each */
  answer(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const done of this.pending.splice(0)) {
      const pid = this.nextPid++;
      out.push([pid, pid]);
      done({ ok: true, spawned: { pid, child: pid } });
    }
    return out;
  }
  kill(pid: number, signal: number): boolean {
    this.kills.push([pid, signal]);
    return true;
  }
}

function setup(programs: string) {
  const dir = tmpDir('fv-sched-');
  const conf = path.join(dir, 'supervisord.conf');
  writeFileSync(conf, `[supervisord]\nchildlogdir=${dir}\n\n${programs}\n`);
  const model = loadConfig({ configfile: conf });
  const clock = new FakeClock(5_000, T0);
  const lines: string[] = [];
  const log = new MainLog(10, [{ write: (l: string) => lines.push(l) }], () => clock.wall());
  const core = new FakeCore();
  const sup = new Supervisor({ model, core: core as unknown as IoCore, clock, log, env: {}, serverurl: null });
  const proc = (name: string): Subprocess => sup.groups.get(name)!.processes.get(name)!;
  const exit = (p: Subprocess, code: number | null, signal: number | null = null): void =>
    sup.handleNative([{ kind: 'exit', child: p.child, pid: p.pid, code, signal, coreDumped: false, time: clock.wall() }]);
  const describe = (p: Subprocess): string => p.describe('', clock.now(), clock.wall());
  return { sup, clock, core, lines, proc, exit, describe, log: () => lines.join('') };
}

const program = (name: string, extra: string): string =>
  `[program:${name}]\ncommand=/bin/true\nstdout_logfile=NONE\nstderr_logfile=NONE\n${extra}\n`;

describe('a scheduled program in the Supervisor', () => {
  it('is not autostarted; starts on the minute; a 0.2 s run is EXITED, expected, not BACKOFF; no autorestart', () => {
    const t = setup(program('job', 'schedule=* * * * *\nschedule_timezone=UTC\nautorestart=true\nstartsecs=10'));
    t.sup.start();
    const job = t.proc('job');
    expect(job.state).toBe(ProcessState.STOPPED);
    expect(t.describe(job)).toBe('next run 2026-01-01 12:01:00 UTC');
    t.clock.advance(MIN);
    expect(job.state).toBe(ProcessState.STARTING);
    t.core.answer();
    expect(job.state).toBe(ProcessState.RUNNING);
    t.clock.advance(200);
    t.exit(job, 0);
    expect(job.state).toBe(ProcessState.EXITED);
    expect(job.status.exitstatus).toBe(0);
    expect(t.describe(job)).toBe('next run 2026-01-01 12:02:00 UTC, last exit 0 at 12:01:00');
    expect(t.log()).toContain('exited: job (exit status 0; expected)');
    t.clock.advance(30_000);
    expect(t.core.pending).toHaveLength(0); // no autorestart
    t.clock.advance(30_000);
    expect(t.core.pending).toHaveLength(1); // 12:02
  });

  it('an exit code not in exitcodes: logged, EXITED, shown as the last result; no restart, no backoff', () => {
    const t = setup(program('job', 'schedule=* * * * *\nschedule_timezone=UTC\nexitcodes=0'));
    t.sup.start();
    const job = t.proc('job');
    t.clock.advance(MIN);
    t.core.answer();
    t.exit(job, 3);
    expect(job.state).toBe(ProcessState.EXITED);
    expect(job.status.spawnerr).toBe('Bad exit code 3');
    expect(t.log()).toContain('WARN exited: job (exit status 3; not expected)');
    expect(t.describe(job)).toBe('next run 2026-01-01 12:02:00 UTC, last exit 3 at 12:01:00 (not expected)');
    t.clock.advance(59_000);
    expect(t.core.pending).toHaveLength(0);
  });

  it('skips the run while the last one still runs, with one line, and keeps the child', () => {
    const t = setup(program('job', 'schedule=* * * * *\nschedule_timezone=UTC'));
    t.sup.start();
    const job = t.proc('job');
    t.clock.advance(MIN);
    const [[pid]] = t.core.answer() as [[number, number]];
    t.clock.advance(MIN);
    expect(job.state).toBe(ProcessState.RUNNING);
    expect(job.pid).toBe(pid);
    expect(t.core.pending).toHaveLength(0);
    expect(t.lines.filter((l) => l.includes('skipped'))).toEqual([
      `2026-01-01 12:02:00,000 WARN skipped: job (scheduled run of 2026-01-01 12:02:00 UTC; still RUNNING, pid ${pid})\n`,
    ]);
  });

  it('a start by hand runs it now as well', () => {
    const t = setup(program('job', 'schedule=0 0 * * *\nschedule_timezone=UTC'));
    t.sup.start();
    const job = t.proc('job');
    job.feed({ kind: 'start' });
    t.core.answer();
    expect(job.state).toBe(ProcessState.RUNNING);
    expect(t.describe(job)).toMatch(/^next run 2026-01-02 00:00:00 UTC$/);
  });

  it('no runs once the daemon stops, or after the group is removed; no timer left', async () => {
    const t = setup(program('a', 'schedule=* * * * *') + program('b', 'schedule=* * * * *'));
    t.sup.start();
    expect(t.clock.pending()).toBe(2);
    expect(t.sup.removeProcessGroup('b')).toBe(true);
    expect(t.clock.pending()).toBe(1);
    await t.sup.stopAll(SupervisorState.SHUTDOWN);
    expect(t.clock.pending()).toBe(0);
    t.clock.advance(5 * MIN);
    expect(t.core.pending).toHaveLength(0);
    expect(t.proc('a').state).toBe(ProcessState.STOPPED);
    expect(t.describe(t.proc('a'))).toBe('');
  });

  it('a program without schedule: autostart and autorestart as ever, no description note', () => {
    const t = setup(program('plain', 'startsecs=1\nautorestart=unexpected'));
    t.sup.start();
    const p = t.proc('plain');
    expect(p.state).toBe(ProcessState.STARTING);
    t.core.answer();
    t.clock.advance(200);
    t.exit(p, 0);
    expect(p.state).toBe(ProcessState.BACKOFF); // too quickly, as supervisord
    expect(t.describe(p)).toBe('');
    expect(t.clock.pending()).toBe(1); // the backoff timer only
  });
});
