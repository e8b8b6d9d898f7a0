// SPDX-License-Identifier: MIT
// MemoryReclaimer: collects only when RSS has grown by half (and 32 MiB) over
// its level at rest; retries every 5 s while that helps, backs off while it
// does not, and accepts a new level at rest after three misses.
import { describe, expect, it } from 'vitest';

import { MemoryReclaimer } from '../../../src/cli/reclaim.js';

const MB = 1 << 20;

function rig(start: number) {
  const st = { rss: start, t: 0, collects: 0, freedTo: null as number | null };
  const r = new MemoryReclaimer(
    () => st.rss,
    () => st.t,
    () => {
      st.collects++;
      if (st.freedTo !== null) st.rss = st.freedTo;
    },
  );
  const tick = (ms = 1000) => {
    st.t += ms;
    return r.check();
  };
  return { st, tick };
}

describe('MemoryReclaimer', () => {
  it('does nothing at rest or on small growth', () => {
    const { st, tick } = rig(50 * MB);
    st.rss = 70 * MB; // 1.4x
    for (let i = 0; i < 10; i++) expect(tick()).toBe(false);
    const small = rig(10 * MB);
    small.st.rss = 30 * MB; // 3x but only 20 MiB more
    expect(small.tick()).toBe(false);
    expect(st.collects + small.st.collects).toBe(0);
  });

  it('collects after a burst, and again 5 s later if RSS grows again', () => {
    const { st, tick } = rig(50 * MB);
    st.rss = 160 * MB;
    st.freedTo = 60 * MB;
    expect(tick()).toBe(true);
    expect(st.rss).toBe(60 * MB);
    st.rss = 150 * MB;
    expect(tick()).toBe(false); // 1 s after: too soon
    for (let i = 0; i < 3; i++) tick();
    expect(tick()).toBe(true); // 5 s after
    expect(st.collects).toBe(2);
  });

  it('backs off while collecting does not help, then accepts the new level', () => {
    const { st, tick } = rig(50 * MB);
    st.rss = 200 * MB;
    st.freedTo = 190 * MB;
    const times: number[] = [];
    for (let i = 0; i < 60; i++) if (tick()) times.push(st.t);
    // 5 s, then 10 s later, then 20 s later: the third miss moves the level at rest.
    expect(times.slice(0, 3)).toEqual([1000, 11000, 31000]);
    expect(times).toHaveLength(3);
  });
});
