// SPDX-License-Identifier: MIT
// Gives memory back after a burst. Hostile or just large XML-RPC traffic
// (multi-megabyte bodies, thousands of connections) leaves the daemon's RSS
// 2-3 times its size at rest for good: the garbage is mostly Buffers outside
// V8's heap, which an idle daemon's V8 seldom collects, and what is freed
// stays mapped in glibc's heap. Once a second: when RSS has grown by half
// over its level at rest (and by at least 32 MiB), run a full collection
// and malloc_trim. Tried every 5 s while that helps; when it does not (the
// daemon really holds more: more processes, a burst still under way) the
// interval doubles up to 5 min, and after three misses in a row the level
// at rest moves up to what is left. A daemon at rest never pays for it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { trimMemory } from '../native/index.js';

const GROWTH = 1.5;
const MIN_GROWTH_BYTES = 32 << 20;
const FIRST_INTERVAL_MS = 5_000;
const MAX_INTERVAL_MS = 300_000;
const MISSES_TO_ACCEPT = 3;

/** A full garbage collection without starting Node with --expose-gc. */
function fullGc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

export class MemoryReclaimer {
  private atRest: number;
  private last = -Infinity;
  private interval = FIRST_INTERVAL_MS;
  private misses = 0;
  private readonly gc: (() => void) | null;

  constructor(
    private readonly rss: () => number = () => process.memoryUsage.rss(),
    private readonly now: () => number = () => performance.now(),
    private readonly collect: () => void = () => {
      this.gc?.();
      trimMemory();
    },
  ) {
    this.gc = fullGc();
    this.atRest = this.rss();
  }

  private grown(rss: number): boolean {
    return rss >= this.atRest * GROWTH && rss - this.atRest >= MIN_GROWTH_BYTES;
  }

  /** Once a second. Returns true when it collected. */
  check(): boolean {
    const t = this.now();
    if (!this.grown(this.rss()) || t - this.last < this.interval) return false;
    this.last = t;
    this.collect();
    const after = this.rss();
    if (!this.grown(after)) {
      this.interval = FIRST_INTERVAL_MS;
      this.misses = 0;
    } else if (++this.misses >= MISSES_TO_ACCEPT) {
      // What remains is the new level at rest; only growth beyond it counts.
      this.atRest = after;
      this.misses = 0;
      this.interval = FIRST_INTERVAL_MS;
    } else {
      this.interval = Math.min(this.interval * 2, MAX_INTERVAL_MS);
    }
    return true;
  }
}
