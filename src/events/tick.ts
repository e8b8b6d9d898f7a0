// SPDX-License-Identifier: MIT
// TICK_5/60/3600 (supervisord.py Supervisor.tick): an event each time the
// wall clock enters a new period slice, never on the first look.
import type { TickEvent } from './types.js';

const PERIODS = [
  [5, 'TICK_5'],
  [60, 'TICK_60'],
  [3600, 'TICK_3600'],
] as const;

/** supervisord.py timeslice: the start of the period `when` falls in, as an int. */
export function timeslice(period: number, when: number): number {
  return Math.trunc(when - (when % period));
}

export class Ticker {
  private readonly last = new Map<number, number>();

  /**
   * Call with time.time() (epoch seconds, wall clock: `when:` is wall time)
   * at least every few seconds; supervisord calls it on every loop pass (≤ 1 s
   * apart). The first call only records the slices. A jump over several slices
   * yields one event per period, for the newest slice.
   */
  tick(nowSeconds: number): TickEvent[] {
    const out: TickEvent[] = [];
    for (const [period, name] of PERIODS) {
      const thisTick = timeslice(period, nowSeconds);
      const lastTick = this.last.get(period);
      if (lastTick === undefined) {
        this.last.set(period, thisTick);
        continue;
      }
      if (thisTick !== lastTick) {
        this.last.set(period, thisTick);
        out.push({ name, when: thisTick });
      }
    }
    return out;
  }

  /** When the next TICK_5 is due (epoch seconds): a timer for then replaces polling. */
  static nextDue(nowSeconds: number): number {
    return timeslice(5, nowSeconds) + 5;
  }
}
