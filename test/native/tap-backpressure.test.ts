// SPDX-License-Identifier: MIT
// A channel whose bytes go only to JS (capture mode, an event listener's
// stream: no log sink) must lose nothing when JS falls behind: the I/O thread
// stops reading it while 16 MiB wait for JS, so the child blocks on its pipe,
// and the exit is reported only after the last byte.
import { afterEach, describe, expect, it } from 'vitest';

import type { TapEvent } from '../../src/native/index.js';
import { BACKENDS } from '../helpers/core.js';
import { IoCore } from '../../src/native/index.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked, track } from '../helpers/procs.js';

afterEach(() => killTracked());

describe.each(BACKENDS)('tap-only channels (%s backend)', (backend) => {
  it('a slow JS side loses none of 96 MiB, and the exit comes after the last byte', async () => {
    let bytes = 0;
    let dropped = 0;
    let exitAt = -1;
    const slow = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // JS busy elsewhere
      }
    };
    const core = IoCore.start({
      backend,
      onEvents: (events) => {
        for (const e of events) {
          if (e.kind === 'tap') bytes += (e as TapEvent).data.length;
          if (e.kind === 'tap-dropped') dropped += e.bytes;
          if (e.kind === 'exit') exitAt = bytes;
        }
        slow(40);
      },
    });
    try {
      const total = 96 * 1024 * 1024;
      const s = core.spawn({
        file: '/bin/sh',
        argv: ['sh', '-c', `head -c ${total} /dev/zero`],
        env: { PATH: '/usr/bin:/bin' },
        stdout: { sink: null, tap: true },
        stderr: { mode: 'null' },
      });
      track(s.pid);
      await pollUntil(() => exitAt >= 0, { timeout: 60_000, what: 'exit' });
      expect(dropped).toBe(0);
      expect(exitAt).toBe(total);
      expect(bytes).toBe(total);
    } finally {
      core.stop();
    }
  });
});
