// SPDX-License-Identifier: MIT
// The orphan sweep (PID 1 / subreaper mode) reaps with waitpid on any child.
// A child forked but not yet registered with the I/O thread must still be
// reported as our child with its real exit status, never as an orphan. The
// fault-injection hook holds every spawn for 100 ms between fork and
// registration; a program that exits at once dies inside that window.
// Its own file: becoming a subreaper changes this test process for good.
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { testHooks, type OrphanEvent } from '../../src/native/index.js';
import { CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked, zombieChildren } from '../helpers/procs.js';

describe.runIf(process.platform === 'linux').each(['epoll', 'poll'])('reaping race (%s backend)', (backend) => {
  let h: CoreHarness;
  afterEach(() => killTracked());
  afterAll(() => {
    testHooks({ registerDelayMs: 0 });
    h?.core.reapOrphans(false);
    h?.stop();
  });

  it('a child that exits before it is registered keeps its exit status (sync and async spawn)', async () => {
    h = new CoreHarness(backend);
    h.core.reapOrphans(true);
    testHooks({ registerDelayMs: 100 });
    const quiet = { stdout: { mode: 'null' as const }, stderr: { mode: 'null' as const } };
    const s = h.sh('exit 7', quiet);
    expect((await h.waitExit(s.child)).code).toBe(7);
    const outcomes = await Promise.all([3, 4, 5].map((code) => h.spawnAsync({ file: '/bin/sh', argv: ['sh', '-c', `exit ${code}`], ...quiet })));
    for (const [i, o] of outcomes.entries()) {
      if (!o.ok) throw o.error;
      expect((await h.waitExit(o.spawned.child)).code).toBe(3 + i);
    }
    expect(h.events.filter((e) => e.kind === 'orphan')).toEqual([]);
    testHooks({ registerDelayMs: 0 });
  });

  it('a real orphan that dies while a spawn is in flight is still reaped and reported', async () => {
    testHooks({ registerDelayMs: 100 });
    const quiet = { stdout: { mode: 'null' as const }, stderr: { mode: 'null' as const } };
    // The shell leaves a grandchild that exits 9 while the next spawns are held.
    const parent = h.sh('sh -c "sleep 0.05; exit 9" &', quiet);
    const held = Promise.all([1, 2].map(() => h.spawnAsync({ file: '/bin/sh', argv: ['sh', '-c', 'sleep 0.2'], ...quiet })));
    expect((await h.waitExit(parent.child)).code).toBe(0);
    const orphan = await h.waitEvent((e): e is OrphanEvent => e.kind === 'orphan' && e.code === 9, 10_000, 'the orphan reaped');
    expect(orphan.code).toBe(9);
    for (const o of await held) {
      if (!o.ok) throw o.error;
      expect((await h.waitExit(o.spawned.child)).code).toBe(0);
    }
    testHooks({ registerDelayMs: 0 });
    await pollUntil(() => zombieChildren().length === 0, { what: 'no zombies' });
  });
});
