// SPDX-License-Identifier: MIT
// Subreaper / PID-1 mode: orphaned grandchildren are reaped too. Its own file:
// becoming a subreaper changes this test process for good.
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import type { OrphanEvent } from '../../src/native/index.js';
import { BACKENDS, CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked, zombieChildren } from '../helpers/procs.js';

describe.runIf(process.platform === 'linux').each(BACKENDS)('orphan reaping (%s backend)', (backend) => {
  let h: CoreHarness;
  afterEach(() => killTracked());
  afterAll(() => h?.stop());

  it('reaps orphaned grandchildren and still reports its own children exits', async () => {
    h = new CoreHarness(backend);
    h.core.reapOrphans(true);
    // The shell forks a grandchild and exits; the grandchild is re-parented
    // to us (the subreaper) and exits 7 a moment later.
    const s = h.sh('sh -c "sleep 0.2; exit 7" & echo $!', { stdout: { mode: 'null' }, stderr: { mode: 'null' } });
    expect((await h.waitExit(s.child)).code).toBe(0);
    const orphan = await h.waitEvent((e): e is OrphanEvent => e.kind === 'orphan', 10_000, 'orphan reaped');
    expect(orphan.code).toBe(7);
    await pollUntil(() => zombieChildren().length === 0, { what: 'no zombies' });
    const t = h.sh('exit 4', { stdout: { mode: 'null' }, stderr: { mode: 'null' } });
    expect((await h.waitExit(t.child)).code).toBe(4);
    h.core.reapOrphans(false);
    h.stop();
  });
});
