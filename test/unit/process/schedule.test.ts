// SPDX-License-Identifier: MIT
// Scheduled programs' timekeeping and decisions on a fake clock: due on the minute with no
// drift, one run however late, no minute twice after a step back, skipped while the last run
// still runs, held while the daemon stops; and the description note.
import { describe, expect, it } from 'vitest';

import type { ProcessConfig } from '../../../src/config/model.js';
import { FakeClock } from '../../../src/process/clock.js';
import { parseSchedule } from '../../../src/process/cron.js';
import type { LogLevel } from '../../../src/process/machine.js';
import {
  advance,
  CHECK_MS,
  decide,
  firstPlan,
  machineConfigFor,
  ProgramSchedule,
  scheduleNote,
  type Plan,
} from '../../../src/process/schedule.js';
import { ProcessState, SupervisorState } from '../../../src/process/states.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0); // FakeClock's default wall at 0
const at = (h: number, m: number, s = 0): number => Date.UTC(2026, 0, 1, h, m, s);
const UTC = 'UTC';

describe('advance(): when a run is due', () => {
  const every5 = parseSchedule('*/5 * * * *');

  it('the first run is the first matching minute after the start', () => {
    expect(firstPlan(every5, at(12, 0, 0), UTC)).toEqual({ next: at(12, 5), last: null });
    expect(firstPlan(every5, at(12, 4, 59.999), UTC)).toEqual({ next: at(12, 5), last: null });
  });

  it('not due a moment before the minute; due at it, and the next counts from there', () => {
    const plan: Plan = { next: at(12, 5), last: null };
    expect(advance(every5, plan, at(12, 5) - 1, UTC)).toEqual({ due: null, plan });
    expect(advance(every5, plan, at(12, 5), UTC)).toEqual({ due: at(12, 5), plan: { next: at(12, 10), last: at(12, 5) } });
  });

  it('a late look (a delayed timer, a step forward) is one run for every minute passed, and the next counts from now', () => {
    const plan: Plan = { next: at(12, 5), last: null };
    expect(advance(every5, plan, at(12, 5, 30), UTC)).toEqual({ due: at(12, 5), plan: { next: at(12, 10), last: at(12, 5) } });
    // 17 minutes forward: 12:05, 12:10 and 12:15 were due; one run, then 12:25.
    expect(advance(every5, plan, at(12, 22), UTC)).toEqual({ due: at(12, 5), plan: { next: at(12, 25), last: at(12, 5) } });
  });

  it('a step back after a run never brings back the minute that ran', () => {
    const ran: Plan = { next: at(12, 10), last: at(12, 5) };
    // Back to 11:50: 11:55 and 12:00 ran before (as wall times) and 12:05 was the last: next stays 12:10.
    expect(advance(every5, ran, at(11, 50), UTC)).toEqual({ due: null, plan: ran });
    expect(advance(every5, ran, at(12, 5, 30), UTC)).toEqual({ due: null, plan: ran });
  });

  it('a step back before any run counts from the new time', () => {
    const plan: Plan = { next: at(12, 5), last: null };
    expect(advance(every5, plan, at(11, 51), UTC)).toEqual({ due: null, plan: { next: at(11, 55), last: null } });
  });
});

describe('decide(): start, skip or hold', () => {
  it('starts from STOPPED, EXITED and FATAL', () => {
    for (const s of [ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL]) expect(decide(s, SupervisorState.RUNNING)).toBe('start');
  });

  it('skips while the last run still runs, tries to start, stops, or is UNKNOWN', () => {
    for (const s of [ProcessState.STARTING, ProcessState.RUNNING, ProcessState.BACKOFF, ProcessState.STOPPING, ProcessState.UNKNOWN]) {
      expect(decide(s, SupervisorState.RUNNING)).toBe('skip');
    }
  });

  it('holds while the daemon shuts down or reloads', () => {
    for (const m of [SupervisorState.RESTARTING, SupervisorState.SHUTDOWN]) {
      expect(decide(ProcessState.EXITED, m)).toBe('hold');
      expect(decide(ProcessState.RUNNING, m)).toBe('hold');
    }
  });
});

describe('machineConfigFor()', () => {
  const base = {
    name: 'x',
    autostart: true,
    autorestart: 'unexpected',
    startsecs: 10,
    exitcodes: [0, 2],
    fastvisor: { schedule: null, schedule_timezone: null },
  } as unknown as ProcessConfig;

  it('a program without schedule: the config itself', () => {
    expect(machineConfigFor(base)).toBe(base);
  });

  it('a scheduled program: no autostart, no autorestart, startsecs 0; exitcodes kept', () => {
    const c = { ...base, fastvisor: { ...base.fastvisor, schedule: '* * * * *' } } as ProcessConfig;
    expect(machineConfigFor(c)).toMatchObject({ autostart: false, autorestart: 'false', startsecs: 0, exitcodes: [0, 2], name: 'x' });
    expect(c.autostart).toBe(true);
  });
});

interface Harness {
  clock: FakeClock;
  sched: ProgramSchedule;
  starts: number[];
  lines: string[];
  target: { state: ProcessState; pid: number; mood: SupervisorState };
}

function harness(text: string, opts: { startAt?: number; zone?: string; onStart?: (h: Harness) => void } = {}): Harness {
  const clock = new FakeClock(1_000_000, opts.startAt ?? T0);
  const target = { state: ProcessState.STOPPED as ProcessState, pid: 0, mood: SupervisorState.RUNNING as SupervisorState };
  const h = { clock, starts: [] as number[], lines: [] as string[], target } as Harness;
  h.sched = new ProgramSchedule(parseSchedule(text), opts.zone ?? UTC, clock, {
    name: 'job',
    status: () => target,
    start: () => {
      h.starts.push(clock.wall());
      opts.onStart?.(h);
    },
    log: (level: LogLevel, message: string) => h.lines.push(`${level.toUpperCase()} ${message}`),
  });
  return h;
}

describe('ProgramSchedule on a fake clock', () => {
  it('runs on the minute, every time, for hours: no drift', () => {
    const h = harness('*/5 * * * *', { startAt: T0 + 400 });
    h.sched.start();
    expect(h.sched.next).toBe(at(12, 5));
    h.clock.advance(2 * 3600_000);
    expect(h.starts).toHaveLength(24);
    h.starts.forEach((t, i) => expect(t).toBe(at(12, 5) + i * 5 * MIN));
    // At most one timer, never more than CHECK_MS ahead.
    expect(h.clock.pending()).toBe(1);
    expect(h.clock.nextAt()! - h.clock.now()).toBeLessThanOrEqual(CHECK_MS);
  });

  it('a timer that fires before the wall minute (the clocks slew apart) arms again and runs at the minute', () => {
    const h = harness('* * * * *');
    h.sched.start();
    h.clock.advance(MIN - CHECK_MS); // the last check before 12:01 is armed for 12:01 exactly
    h.clock.stepWall(-3); // the wall clock now lags the monotonic one by 3 ms
    h.clock.advance(CHECK_MS);
    expect(h.starts).toEqual([]);
    h.clock.advance(3);
    expect(h.starts).toEqual([at(12, 1)]);
  });

  it('a step forward runs the missed minute once, within a second, and says it is late', () => {
    const h = harness('*/5 * * * *');
    h.sched.start();
    h.clock.advance(2 * MIN);
    h.clock.stepWall(20 * MIN); // 12:02 -> 12:22 (NTP, or a resume: the monotonic clock stood still)
    h.clock.advance(CHECK_MS);
    expect(h.starts).toEqual([at(12, 22) + CHECK_MS]);
    expect(h.lines).toEqual(['INFO scheduled run of job for 2026-01-01 12:05:00 UTC starts 1021 s late (the daemon was suspended or the clock stepped forward)']);
    expect(h.sched.next).toBe(at(12, 25));
    h.clock.advance(3 * MIN);
    expect(h.starts).toEqual([at(12, 22) + CHECK_MS, at(12, 25)]);
  });

  it('a minute due less than a minute ago still runs (a timer held up by a busy event loop)', () => {
    const h = harness('* * * * *');
    h.sched.start();
    h.clock.stepWall(MIN + 40_000); // 12:01:40: 12:01 is 40 s overdue
    h.clock.advance(CHECK_MS);
    expect(h.starts).toEqual([at(12, 1, 41)]);
    expect(h.lines).toEqual(['DEBUG scheduled run of job for 2026-01-01 12:01:00 UTC']);
  });

  it('a step back after a run: the minutes that ran do not run again', () => {
    const h = harness('*/5 * * * *');
    h.sched.start();
    h.clock.advance(5 * MIN + 1); // 12:05 runs
    expect(h.starts).toEqual([at(12, 5)]);
    h.clock.stepWall(-30 * MIN); // 11:35 again
    h.clock.advance(35 * MIN); // wall 11:35 -> 12:10
    expect(h.starts).toEqual([at(12, 5), at(12, 10)]);
  });

  it('skips a run while the last one still runs, one line each, and runs again once it is over', () => {
    const h = harness('* * * * *', {
      onStart: (x) => {
        x.target.state = ProcessState.RUNNING;
        x.target.pid = 4242;
      },
    });
    h.sched.start();
    h.clock.advance(2 * MIN); // 12:01 starts, 12:02 finds it running
    expect(h.starts).toEqual([at(12, 1)]);
    expect(h.lines.filter((l) => l.startsWith('WARN'))).toEqual(['WARN skipped: job (scheduled run of 2026-01-01 12:02:00 UTC; still RUNNING, pid 4242)']);
    h.target.state = ProcessState.EXITED;
    h.target.pid = 0;
    h.clock.advance(MIN);
    expect(h.starts).toEqual([at(12, 1), at(12, 3)]);
  });

  it('BACKOFF and STOPPING count as still running', () => {
    const h = harness('* * * * *');
    h.target.state = ProcessState.BACKOFF;
    h.sched.start();
    h.clock.advance(MIN);
    h.target.state = ProcessState.STOPPING;
    h.target.pid = 7;
    h.clock.advance(MIN);
    expect(h.starts).toEqual([]);
    expect(h.lines).toEqual([
      'WARN skipped: job (scheduled run of 2026-01-01 12:01:00 UTC; still BACKOFF)',
      'WARN skipped: job (scheduled run of 2026-01-01 12:02:00 UTC; still STOPPING, pid 7)',
    ]);
  });

  it('holds runs while the daemon stops, without a line; stop() leaves no timer', () => {
    const h = harness('* * * * *');
    h.sched.start();
    h.target.mood = SupervisorState.SHUTDOWN;
    h.clock.advance(3 * MIN);
    expect(h.starts).toEqual([]);
    expect(h.lines).toEqual([]);
    h.sched.stop();
    expect(h.sched.active).toBe(false);
    expect(h.sched.next).toBeNull();
    expect(h.clock.pending()).toBe(0);
    h.target.mood = SupervisorState.RUNNING;
    h.clock.advance(3 * MIN);
    expect(h.starts).toEqual([]);
  });

  it('a start that throws does not end the schedule', () => {
    let first = true;
    const h = harness('* * * * *', {
      onStart: () => {
        if (first) {
          first = false;
          throw new Error('boom');
        }
      },
    });
    h.sched.start();
    expect(() => h.clock.advance(MIN)).toThrow('boom');
    h.clock.advance(MIN);
    expect(h.starts).toEqual([at(12, 1), at(12, 2)]);
  });

  it('counts minutes in its time zone', () => {
    const h = harness('0 9 * * *', { zone: 'Europe/Berlin' }); // 09:00 CET = 08:00 UTC
    h.sched.start();
    expect(h.sched.next).toBe(Date.UTC(2026, 0, 2, 8, 0));
  });
});

describe('scheduleNote()', () => {
  const now = at(10, 7, 12);
  it('next run, then the last exit of today with its time', () => {
    expect(scheduleNote(at(10, 10), null, now, UTC)).toBe('next run 2026-01-01 10:10:00 UTC');
    expect(scheduleNote(at(10, 10), { how: 0, expected: true, wall: at(10, 5, 3) }, now, UTC)).toBe(
      'next run 2026-01-01 10:10:00 UTC, last exit 0 at 10:05:03',
    );
  });

  it('an exit not in exitcodes, a signal, an exit of another day', () => {
    expect(scheduleNote(at(10, 10), { how: 3, expected: false, wall: at(10, 5, 3) }, now, UTC)).toBe(
      'next run 2026-01-01 10:10:00 UTC, last exit 3 at 10:05:03 (not expected)',
    );
    expect(scheduleNote(at(10, 10), { how: 'SIGKILL', expected: false, wall: at(10, 5, 3) }, now, UTC)).toBe(
      'next run 2026-01-01 10:10:00 UTC, last run ended by SIGKILL at 10:05:03 (not expected)',
    );
    expect(scheduleNote(at(10, 10), { how: 0, expected: true, wall: at(10, 5) - 86_400_000 }, now, UTC)).toBe(
      'next run 2026-01-01 10:10:00 UTC, last exit 0 at 2025-12-31 10:05:00',
    );
  });

  it('stopped (shutdown): only the last exit; nothing at all before any', () => {
    expect(scheduleNote(null, { how: 0, expected: true, wall: at(10, 5, 3) }, now, UTC)).toBe('last exit 0 at 10:05:03');
    expect(scheduleNote(null, null, now, UTC)).toBe('');
  });

  it('names the zone the way describeNext does', () => {
    expect(scheduleNote(Date.UTC(2026, 11, 6, 9, 5), null, now, 'Europe/Berlin')).toBe('next run 2026-12-06 10:05:00 CET');
  });
});
