// SPDX-License-Identifier: MIT
// FakeClock's ordering promises, and RealClock never firing early.
import { describe, expect, it } from 'vitest';

import { FakeClock, RealClock } from '../../../src/process/clock.js';

describe('FakeClock', () => {
  it('fires due timers in order of their time, ties in the order they were set', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(100, () => fired.push(`a@${clock.now()}`));
    clock.setTimer(100, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(301, () => fired.push('late'));
    clock.advance(300);
    expect(fired).toEqual(['a@100', 'b@100', 'c@300']);
    expect(clock.now()).toBe(300);
    expect(clock.pending()).toBe(1);
    expect(clock.nextAt()).toBe(301);
  });

  it('fires a timer set by a callback within the same advance', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimer(10, () => clock.setTimer(clock.now() + 10, () => fired.push(clock.now())));
    clock.advance(25);
    expect(fired).toEqual([20]);
  });

  it('does not fire a cancelled timer; a timer already due fires on advance(0)', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimer(1500, () => fired.push('cancelled')).cancel();
    clock.setTimer(900, () => fired.push('due'));
    clock.advance(0);
    clock.advance(1000);
    expect(fired).toEqual(['due']);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it('keeps wall time apart from monotonic time', () => {
    const clock = new FakeClock(0, 1_000_000);
    clock.advance(1500);
    expect(clock.wall()).toBe(1_001_500);
    clock.stepWall(-3_600_000);
    expect(clock.now()).toBe(1500);
    expect(clock.wall()).toBe(1_001_500 - 3_600_000);
  });
});

describe('RealClock', () => {
  it('fires no earlier than asked, and not after cancel', async () => {
    const clock = new RealClock();
    const at = clock.now() + 15;
    const firedAt = await new Promise<number>((resolve) => clock.setTimer(at, () => resolve(clock.now())));
    expect(firedAt).toBeGreaterThanOrEqual(at);

    let fired = false;
    clock.setTimer(clock.now() + 5, () => (fired = true)).cancel();
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(false);
  });
});
