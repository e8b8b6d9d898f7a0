// SPDX-License-Identifier: MIT
// Scheduled programs (`schedule=` in [program:x]): when the next run is due, on the wall clock,
// and whether it starts, is skipped (still running) or is held (the daemon is stopping).
// cron.ts says which minutes match; this file keeps time and decides; subprocess.ts starts.
import type { ProcessConfig } from '../config/model.js';
import type { Clock, Timer } from './clock.js';
import { describeNext, nextRun, parseSchedule, type Schedule } from './cron.js';
import type { LogLevel, ProcessStatus } from './machine.js';
import { ProcessState, processStateName, SupervisorState } from './states.js';

/**
 * The longest the wall clock goes unread. A timer runs on the monotonic clock, which knows
 * nothing of a step of the wall clock (NTP, `date -s`) or of a suspend (CLOCK_MONOTONIC stops
 * meanwhile): a step forward is noticed within this.
 */
export const CHECK_MS = 1000;
/** A run this late says why, once: the daemon was suspended, or the clock stepped forward. */
const LATE_MS = 60_000;

/**
 * What the machine sees of a scheduled program: started by the schedule (or by hand), never by
 * autostart; its exit is expected whenever it comes, so no autorestart and no backoff: a job that
 * runs 0.2 s is a success. exitcodes still decide `expected` (EXITED either way). Without
 * `schedule` the config itself, unchanged.
 */
export function machineConfigFor(config: ProcessConfig): ProcessConfig {
  if (config.fastvisor.schedule === null) return config;
  return { ...config, autostart: false, autorestart: 'false', startsecs: 0 };
}

/** Where the schedule stands, in epoch ms (wall clock). */
export interface Plan {
  /** the next due minute; NaN: never */
  readonly next: number;
  /** the last due minute that was dealt with (started, skipped or held); null before the first */
  readonly last: number | null;
}

/** The plan of a schedule that starts now: the first matching minute after `wall`. */
export function firstPlan(schedule: Schedule, wall: number, timeZone?: string): Plan {
  return { next: nextRun(schedule, wall, timeZone), last: null };
}

/**
 * One look at the wall clock. Due when `wall` has reached `next`, however late (a delayed
 * timer, a step forward, a resume): that is one run for all the minutes passed, and the next
 * counts from now. Otherwise the next is counted again from now, so a step back brings it
 * nearer, but never to or before the last minute dealt with: no minute runs twice.
 */
export function advance(schedule: Schedule, plan: Plan, wall: number, timeZone?: string): { due: number | null; plan: Plan } {
  if (wall >= plan.next) {
    return { due: plan.next, plan: { next: nextRun(schedule, Math.max(wall, plan.next), timeZone), last: plan.next } };
  }
  const next = nextRun(schedule, plan.last === null ? wall : Math.max(wall, plan.last), timeZone);
  return { due: null, plan: next === plan.next ? plan : { next, last: plan.last } };
}

export type RunDecision = 'start' | 'skip' | 'hold';

/**
 * A due run starts unless the last one still runs (anything but STOPPED, EXITED, FATAL: BACKOFF
 * is still trying to start it, STOPPING still waits for it, UNKNOWN cannot start), then it is
 * skipped; while the daemon shuts down or reloads it is held back, without a word.
 */
export function decide(state: ProcessState, mood: SupervisorState): RunDecision {
  if (mood <= SupervisorState.RESTARTING) return 'hold';
  return state === ProcessState.STOPPED || state === ProcessState.EXITED || state === ProcessState.FATAL ? 'start' : 'skip';
}

/** The process the schedule starts (subprocess.ts). */
export interface ScheduleTarget {
  readonly name: string;
  /** the process now; mood is supervisord's, as the process last heard it */
  status(): Pick<ProcessStatus, 'state' | 'pid' | 'mood'>;
  /** a normal start, as startProcess does */
  start(): void;
  log(level: LogLevel, message: string): void;
}

/**
 * The timer side: aims a monotonic timer at the next due minute, but never further than CHECK_MS
 * ahead, and on each firing reads the wall clock again (advance()): a timer that fires early
 * re-arms, a step of the clock shows within a second, and there is no drift to add up.
 */
export class ProgramSchedule {
  private plan: Plan | null = null;
  private timer: Timer | null = null;

  constructor(
    readonly schedule: Schedule,
    /** IANA zone; undefined: the daemon's own */
    readonly timeZone: string | undefined,
    private readonly clock: Clock,
    private readonly target: ScheduleTarget,
  ) {}

  /** From the config; null for a program without `schedule`. */
  static forConfig(config: ProcessConfig, clock: Clock, target: ScheduleTarget): ProgramSchedule | null {
    const { schedule, schedule_timezone } = config.fastvisor;
    if (schedule === null) return null;
    return new ProgramSchedule(parseSchedule(schedule), schedule_timezone ?? undefined, clock, target);
  }

  get active(): boolean {
    return this.plan !== null;
  }

  /** The next due minute (epoch ms), or null while stopped. */
  get next(): number | null {
    return this.plan?.next ?? null;
  }

  /** Idempotent; counts from now. */
  start(): void {
    if (this.plan) return;
    this.plan = firstPlan(this.schedule, this.clock.wall(), this.timeZone);
    this.arm();
  }

  /** Shutdown, reload, removal: no more runs, no timer left. */
  stop(): void {
    this.plan = null;
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(): void {
    if (!this.plan) return;
    const left = this.plan.next - this.clock.wall();
    const wait = Number.isNaN(left) ? CHECK_MS : Math.min(Math.max(left, 0), CHECK_MS);
    this.timer = this.clock.setTimer(this.clock.now() + wait, this.check);
  }

  private readonly check = (): void => {
    this.timer = null;
    if (!this.plan) return;
    const wall = this.clock.wall();
    const r = advance(this.schedule, this.plan, wall, this.timeZone);
    this.plan = r.plan;
    try {
      if (r.due !== null) this.run(r.due, wall);
    } finally {
      // A start that throws must not end the schedule.
      this.arm();
    }
  };

  private run(due: number, wall: number): void {
    const t = this.target;
    const { state, pid, mood } = t.status();
    const when = describeNext(due, this.timeZone);
    switch (decide(state, mood)) {
      case 'hold':
        return;
      case 'skip': {
        const still = `still ${processStateName(state)}${pid ? `, pid ${pid}` : ''}`;
        t.log('warn', `skipped: ${t.name} (scheduled run of ${when}; ${still})`);
        return;
      }
      case 'start':
        if (wall - due >= LATE_MS) {
          const late = Math.round((wall - due) / 1000);
          t.log('info', `scheduled run of ${t.name} for ${when} starts ${late} s late (the daemon was suspended or the clock stepped forward)`);
        } else {
          t.log('debug', `scheduled run of ${t.name} for ${when}`);
        }
        t.start();
        return;
    }
  }
}

/** How the last child ended, kept for the description. */
export interface LastExit {
  /** the exit status, or the name of the signal that ended it */
  readonly how: number | string;
  readonly expected: boolean;
  /** epoch ms */
  readonly wall: number;
}

/**
 * The note getProcessInfo's description gets for a scheduled program:
 * `next run 2026-12-06 10:05:00 CET, last exit 0 at 10:00:03`; the exit's date is added when it
 * is not today's, ` (not expected)` when exitcodes say so. Stopped (shutdown): the last exit only.
 */
export function scheduleNote(next: number | null, last: LastExit | null, wall: number, timeZone?: string): string {
  const parts: string[] = [];
  if (next !== null) parts.push(`next run ${describeNext(next, timeZone)}`);
  if (last) {
    const [date, time] = describeNext(last.wall, timeZone).split(' ');
    const today = describeNext(wall, timeZone).split(' ')[0];
    const at = date === today ? time : `${date} ${time}`;
    const how = typeof last.how === 'number' ? `last exit ${last.how}` : `last run ended by ${last.how}`;
    parts.push(`${how} at ${at}${last.expected ? '' : ' (not expected)'}`);
  }
  return parts.join(', ');
}
