// SPDX-License-Identifier: MIT
// Reaping: many children started and reaped with no zombie and no fd leak,
// exits that race the spawn, and the I/O thread's shutdown.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { childrenOf, killTracked, openFds, zombieChildren } from '../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';
import path from 'node:path';

describe.each(BACKENDS)('reaping (%s backend)', (backend) => {
  let h: CoreHarness;
  beforeAll(() => {
    h = new CoreHarness(backend);
  });
  afterAll(() => {
    h.stop();
    removeTmpDirs();
  });
  afterEach(() => killTracked());

  it('starts and reaps 200 children with no zombie and no fd leak', async () => {
    const fdsBefore = openFds();
    const dir = tmpDir();
    const sinks = Array.from({ length: 200 }, (_, i) => h.core.openSink(path.join(dir, `c${i}.log`)));
    const kids = sinks.map((sink, i) =>
      // Half exit at once (racing the hand-over to the I/O thread), half a little later.
      i % 2 ? h.sh(`echo child ${i}`, { stdout: { sink } }) : h.sh(`sleep 0.2; echo child ${i} >&2; exit ${i % 7}`, { stdout: { sink }, stderr: 'stdout' }),
    );
    const exits = await Promise.all(kids.map((k) => h.waitExit(k.child, 20_000)));
    exits.forEach((e, i) => expect(e.code).toBe(i % 2 ? 0 : i % 7));
    for (const s of sinks) s.close();
    await pollUntil(() => zombieChildren().length === 0 && childrenOf().length === 0, { what: 'no children left' });
    // Every pipe, pidfd and log fd is closed again.
    await pollUntil(() => openFds() <= fdsBefore, { what: `fds back to ${fdsBefore} (now ${openFds()})` });
    sinks.forEach((s, i) => expect(s.counters().written).toBe(0)); // closed sinks read as zero
    expect(execFileSync('cat', [path.join(dir, 'c1.log'), path.join(dir, 'c2.log')], { encoding: 'utf8' })).toBe('child 1\nchild 2\n');
  });

  it('reports the exit of a child that exits before the I/O thread sees it', async () => {
    const kids = Array.from({ length: 50 }, () => h.spawn({ file: '/bin/true', argv: ['true'], stdout: { mode: 'null' }, stderr: { mode: 'null' } }));
    const exits = await Promise.all(kids.map((k) => h.waitExit(k.child)));
    expect(exits.every((e) => e.code === 0)).toBe(true);
    expect(zombieChildren()).toEqual([]);
  });

  it('reports the exit while a grandchild keeps the pipe open, then the EOF when it goes', async () => {
    const sink = h.core.openSink(path.join(tmpDir(), 'gc.log'));
    const s = h.sh('(sleep 0.3; echo grandchild) & echo parent', { stdout: { sink } });
    const exit = await h.waitExit(s.child);
    expect(exit.code).toBe(0);
    const eof = await h.waitEvent((e): e is Extract<typeof e, { kind: 'eof' }> => e.kind === 'eof' && e.child === s.child);
    expect(eof.time).toBeGreaterThanOrEqual(exit.time);
    await pollUntil(() => sink.counters().written === 'parent\ngrandchild\n'.length, { what: 'grandchild output' });
    sink.close();
  });
});
