// SPDX-License-Identifier: MIT
// Health checks (healthcheck= in [program:x], as docker-compose's healthcheck): the rules that
// turn check results into a verdict (judge(), pure), and the driver that runs one probe at a time.
//
// - A monitor runs while its process is RUNNING: start() when the process becomes RUNNING,
//   stop() when it leaves RUNNING (health goes back to 'off').
// - Health is 'off' (not running, or no monitor), 'starting' (no verdict yet), 'healthy' or
//   'unhealthy'.
// - The first check runs at once on start(), then one every interval, counted from the start
//   of the previous check (at once after it if that check took longer). While health is
//   'starting' the cadence is min(interval, 1 s), so a dependent waiting for `healthy` is not
//   held up a whole interval.
// - During start_period (counted from start() to the moment a check began), a failure does not
//   count: health stays 'starting' and failures stay 0. A success during it makes 'healthy'.
//   After the first success the period no longer matters (as Docker).
// - One success makes 'healthy' and sets failures to 0. `retries` consecutive counted failures
//   make 'unhealthy', from 'starting' or 'healthy'. Once unhealthy, checks go on at the interval
//   and a success makes it healthy again.
// - A check that has not settled after timeout is a failure 'timed out after N s'. The monitor
//   guards with its own clock timer in case a probe misbehaves; a result after that is ignored.
//   A probe that throws or rejects is a failure too. Never two checks in flight for a monitor.
// - Every change of health calls onChange(status, previous) once; nothing else calls it.
//   onChange may call stop() or start(): the monitor's own work for that event is already done.
import type { FastvisorProgramOptions } from '../config/model.js';
import type { Clock, Timer } from './clock.js';
import { oneLine, timeoutDetail, type Probe, type ProbeResult } from './health-probes.js';

export type Health = 'off' | 'starting' | 'healthy' | 'unhealthy';

export interface HealthStatus {
  health: Health;
  /** consecutive counted failures (failures inside start_period do not count) */
  failures: number;
  /** checks finished since start() */
  checks: number;
  /** the last check's detail ('HTTP 503'); kept through stop() until the next start() */
  lastDetail: string | null;
  /** wall ms when the last check finished */
  lastCheckWall: number | null;
  /** wall ms of the last change of health */
  since: number | null;
}

export interface HealthOptions {
  intervalMs: number;
  timeoutMs: number;
  /** consecutive counted failures that make 'unhealthy'; below 1 counts as 1 */
  retries: number;
  startPeriodMs: number;
}

/** The cadence while no check has succeeded yet (capped by the interval). */
export const STARTING_INTERVAL_MS = 1000;

export const OFF: HealthStatus = Object.freeze({
  health: 'off',
  failures: 0,
  checks: 0,
  lastDetail: null,
  lastCheckWall: null,
  since: null,
});

/** The healthcheck_* options (seconds) in milliseconds. */
export function healthOptions(f: FastvisorProgramOptions): HealthOptions {
  const ms = (s: number): number => Math.round(s * 1000);
  return {
    intervalMs: ms(f.healthcheck_interval),
    timeoutMs: ms(f.healthcheck_timeout),
    retries: f.healthcheck_retries,
    startPeriodMs: ms(f.healthcheck_start_period),
  };
}

/** When a check was made: ms from start() to the moment the check began, and wall ms when it ended. */
export interface CheckTime {
  sinceStart: number;
  wall: number;
}

/**
 * The status after one check. Pure. `s` is a started monitor's status ('off' is taken as
 * 'starting': a fresh monitor with no verdict).
 */
export function judge(s: HealthStatus, r: ProbeResult, t: CheckTime, opts: HealthOptions): HealthStatus {
  const fresh = s.health === 'starting' || s.health === 'off';
  let health: Health;
  let failures: number;
  if (r.ok) {
    health = 'healthy';
    failures = 0;
  } else if (fresh && t.sinceStart < opts.startPeriodMs) {
    health = 'starting';
    failures = s.failures;
  } else {
    failures = s.failures + 1;
    health = failures >= Math.max(1, opts.retries) ? 'unhealthy' : fresh ? 'starting' : s.health;
  }
  return {
    health,
    failures,
    checks: s.checks + 1,
    lastDetail: r.detail,
    lastCheckWall: t.wall,
    since: health === s.health ? s.since : t.wall,
  };
}

/** The ms from one check's start to the next, in a given health. */
export function cadence(health: Health, opts: HealthOptions): number {
  return health === 'healthy' || health === 'unhealthy' ? opts.intervalMs : Math.min(opts.intervalMs, STARTING_INTERVAL_MS);
}

/** For a process description: 'healthy', 'unhealthy (3 failed checks: HTTP 503)', 'health starting'; null for off. */
export function healthNote(s: HealthStatus): string | null {
  switch (s.health) {
    case 'off':
      return null;
    case 'starting':
      return 'health starting';
    case 'healthy':
      return 'healthy';
    case 'unhealthy': {
      const n = `${s.failures} failed check${s.failures === 1 ? '' : 's'}`;
      return `unhealthy (${s.lastDetail === null ? n : `${n}: ${s.lastDetail}`})`;
    }
  }
}

/** A probe's result made safe to keep: a boolean verdict and one short line. */
function sane(r: unknown): ProbeResult {
  const x = r as Partial<ProbeResult> | null | undefined;
  const detail = typeof x?.detail === 'string' ? x.detail : '';
  return { ok: x?.ok === true, detail: oneLine(detail) || (x?.ok === true ? 'ok' : 'failed') };
}

function thrown(err: unknown): ProbeResult {
  return { ok: false, detail: oneLine(`probe failed: ${err instanceof Error ? err.message : String(err)}`) || 'probe failed' };
}

/** Runs one process's checks while it is RUNNING and reports each change of health. */
export class HealthMonitor {
  private s: HealthStatus = OFF;
  private running = false;
  private disposed = false;
  /** bumped by every start() and stop(): work begun under an older one is dropped */
  private epoch = 0;
  private startedAt = 0;
  private next: Timer | null = null;
  private guard: Timer | null = null;
  /** the check in flight: its identity, so a late or stale result is known */
  private inFlight: object | null = null;

  constructor(
    readonly opts: HealthOptions,
    private readonly probe: Probe,
    private readonly clock: Clock,
    private readonly onChange: (now: HealthStatus, before: HealthStatus) => void,
  ) {}

  get status(): HealthStatus {
    return this.s;
  }

  /** The process became RUNNING: fresh status 'starting', first check at once. Idempotent while running. */
  start(): void {
    if (this.disposed || this.running) return;
    this.running = true;
    const epoch = ++this.epoch;
    this.startedAt = this.clock.now();
    this.change({ ...OFF, health: 'starting', since: this.clock.wall() });
    // onChange may have stopped (or restarted) the monitor.
    if (this.epoch === epoch) this.check();
  }

  /** The process left RUNNING: health 'off', no timer left, an in-flight result ignored. */
  stop(): void {
    if (!this.running) return;
    this.halt();
    this.change({ ...OFF, lastDetail: this.s.lastDetail, lastCheckWall: this.s.lastCheckWall, since: this.clock.wall() });
  }

  /** Removal or shutdown: like stop() but silent (no onChange), and start() does nothing after it. */
  dispose(): void {
    this.halt();
    this.disposed = true;
    this.s = OFF;
  }

  private halt(): void {
    this.running = false;
    this.epoch++;
    this.next?.cancel();
    this.next = null;
    this.guard?.cancel();
    this.guard = null;
    this.inFlight = null;
  }

  private readonly check = (): void => {
    this.next = null;
    if (!this.running || this.inFlight !== null) return;
    const token = {};
    const began = this.clock.now();
    this.inFlight = token;
    this.guard = this.clock.setTimer(began + this.opts.timeoutMs, () =>
      this.settle(token, began, { ok: false, detail: timeoutDetail(this.opts.timeoutMs) }),
    );
    let p: Promise<ProbeResult>;
    try {
      p = Promise.resolve(this.probe(this.opts.timeoutMs));
    } catch (err) {
      p = Promise.resolve(thrown(err));
    }
    p.then(
      (r) => this.settle(token, began, sane(r)),
      (err: unknown) => this.settle(token, began, thrown(err)),
    );
  };

  private settle(token: object, began: number, r: ProbeResult): void {
    // A result after the timeout, after stop(), or of a check from before a restart.
    if (this.inFlight !== token) return;
    this.inFlight = null;
    this.guard?.cancel();
    this.guard = null;
    const s = judge(this.s, r, { sinceStart: began - this.startedAt, wall: this.clock.wall() }, this.opts);
    // Armed before onChange, so a stop() from onChange cancels it.
    this.next = this.clock.setTimer(Math.max(this.clock.now(), began + cadence(s.health, this.opts)), this.check);
    this.change(s);
  }

  private change(s: HealthStatus): void {
    const before = this.s;
    this.s = s;
    if (s.health !== before.health) this.onChange(s, before);
  }
}
