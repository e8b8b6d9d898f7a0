// SPDX-License-Identifier: MIT
// Time for the state machines: a monotonic clock in milliseconds plus one-shot
// timers on it. Tests inject FakeClock and move time by hand.

/** A scheduled callback; cancel() is idempotent and safe after it fired. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /**
   * Monotonic milliseconds from an arbitrary origin: every decision (startsecs,
   * backoff, stopwaitsecs) is made on this. supervisord decides on time.time()
   * and needs _check_and_adjust_for_system_clock_rollback; a monotonic clock
   * cannot roll back.
   */
  now(): number;
  /** Epoch milliseconds, for reporting only (getProcessInfo start/stop/now). */
  wall(): number;
  /** Run cb once now() >= at (never earlier). */
  setTimer(at: number, cb: () => void): Timer;
}

// setTimeout takes a signed 32-bit delay; anything longer fires at once (with a
// TimeoutOverflowWarning), so long waits (stopwaitsecs=3000000) go in hops.
const MAX_DELAY = 2 ** 31 - 1;

export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }

  wall(): number {
    // The one place the wall clock is read: reports show wall time, and a
    // jump of the system clock should show in them, not in decisions.
    return Date.now();
  }

  setTimer(at: number, cb: () => void): Timer {
    let handle: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const arm = (): void => {
      const left = at - this.now();
      // libuv measures timeouts from its cached loop time, which may lag
      // performance.now() by a fraction of a millisecond: a timer can run
      // just before `at`. Re-arm so callers may rely on now() >= at.
      if (left > 0) handle = setTimeout(arm, Math.min(Math.ceil(left), MAX_DELAY));
      else if (live) {
        live = false;
        cb();
      }
    };
    handle = setTimeout(arm, Math.min(Math.max(0, Math.ceil(at - this.now())), MAX_DELAY));
    return {
      cancel: () => {
        live = false;
        if (handle !== undefined) clearTimeout(handle);
      },
    };
  }
}

interface FakeTimer {
  at: number;
  seq: number;
  cb: () => void;
  live: boolean;
}

/**
 * A clock that moves only when told. advance(ms) fires every due timer in
 * order of `at` (ties in the order they were set), with now() equal to that
 * timer's `at` while it runs; timers set by a callback fire in the same
 * advance if they fall inside it.
 */
export class FakeClock implements Clock {
  private t: number;
  private readonly origin: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  /** @param start monotonic ms; @param wallAtStart the epoch ms that `start` corresponds to */
  constructor(start = 0, private wallAtStart = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    this.t = start;
    this.origin = start;
  }

  now(): number {
    return this.t;
  }

  wall(): number {
    return this.wallAtStart + (this.t - this.origin);
  }

  /** Move the wall clock alone, as an NTP step or `date -s` would. */
  stepWall(ms: number): void {
    this.wallAtStart += ms;
  }

  setTimer(at: number, cb: () => void): Timer {
    const timer: FakeTimer = { at, seq: this.seq++, cb, live: true };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.live = false;
      },
    };
  }

  advance(ms: number): void {
    if (ms < 0) throw new RangeError('a monotonic clock does not go back');
    const until = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => x.live);
      let next: FakeTimer | undefined;
      for (const x of this.timers) {
        if (x.at <= until && (next === undefined || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      }
      if (next === undefined) break;
      next.live = false;
      this.t = Math.max(this.t, next.at);
      next.cb();
    }
    this.t = until;
  }

  /** How many timers are set and not yet fired or cancelled. */
  pending(): number {
    return this.timers.filter((x) => x.live).length;
  }

  /** The earliest pending deadline, or null. */
  nextAt(): number | null {
    let at: number | null = null;
    for (const x of this.timers) if (x.live && (at === null || x.at < at)) at = x.at;
    return at;
  }
}
