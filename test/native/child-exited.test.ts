// SPDX-License-Identifier: MIT
// childExited(pid): false while the child runs; true once it has died, before
// and after the I/O thread reaps it (its exit event may still be on the way),
// and the look never takes the status from the I/O thread.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked } from '../helpers/procs.js';

describe.each(BACKENDS)('childExited (%s backend)', (backend) => {
  let h: CoreHarness;
  beforeAll(() => {
    h = new CoreHarness(backend);
  });
  afterAll(() => h.stop());
  afterEach(() => killTracked());

  it('is false while the child runs, true once it is dead; the exit still reports its status', async () => {
    const s = h.sh('exec sleep 30');
    expect(h.core.childExited(s.pid)).toBe(false);
    expect(h.core.kill(s.pid, 'SIGTERM')).toBe(true);
    await pollUntil(() => h.core.childExited(s.pid), { what: 'childExited after SIGTERM' });
    const exit = await h.waitExit(s.child);
    expect(exit.signal).toBe(15);
    expect(h.core.childExited(s.pid)).toBe(true);
  });
});
