// SPDX-License-Identifier: MIT
// spawnAsync: the native spawn thread runs the spawn and the outcome comes back
// as an event, before any other event of that child; the descriptor reserve
// refuses spawns and log files that would eat into it.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { fdHeadroom, fdReserve, rlimit } from '../../src/native/index.js';
import { BACKENDS, CoreHarness } from '../helpers/core.js';
import { killTracked } from '../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

describe.each(BACKENDS)('spawnAsync (%s backend)', (backend) => {
  let h: CoreHarness;
  beforeAll(() => {
    h = new CoreHarness(backend);
  });
  afterAll(() => {
    fdReserve(0);
    h.stop();
    removeTmpDirs();
  });
  afterEach(() => killTracked());

  it('runs the program; its output and exit follow the outcome', async () => {
    const log = path.join(tmpDir(), 'out.log');
    const sink = h.core.openSink(log);
    const outcome = await h.spawnAsync({ file: '/bin/sh', argv: ['sh', '-c', 'echo hello; exit 3'], stdout: { sink, tap: true }, stderr: 'stdout' });
    if (!outcome.ok) throw outcome.error;
    const exit = await h.waitExit(outcome.spawned.child);
    expect(exit.code).toBe(3);
    expect(exit.pid).toBe(outcome.spawned.pid);
    expect(readFileSync(log, 'utf8')).toBe('hello\n');
    sink.close();
  });

  it('many at once: each request gets its own outcome, in order', async () => {
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => h.spawnAsync({ file: '/bin/sh', argv: ['sh', '-c', `exit ${i}`], stdout: { mode: 'null' }, stderr: { mode: 'null' } })));
    const exits = await Promise.all(
      outcomes.map((o) => {
        if (!o.ok) throw o.error;
        return h.waitExit(o.spawned.child);
      }),
    );
    expect(exits.map((e) => e.code)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Set(outcomes.map((o) => o.ok && o.spawned.child)).size).toBe(50);
  });

  it('an exec failure comes back as an error with the (reaped) pid and the stage', async () => {
    const outcome = await h.spawnAsync({ file: '/nonexistent/prog', argv: ['prog'] });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('ENOENT');
    expect(outcome.error.stage).toBe('exec');
    expect(outcome.error.pid).toBeGreaterThan(0);
  });

  it('outcomes arrive in the order the spawns were asked for, failures and successes alike', async () => {
    const order: number[] = [];
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.spawnAsync({ file: i % 3 === 0 ? '/nonexistent/prog' : '/bin/true', argv: ['x'] }).then((o) => {
          order.push(i);
          return o;
        }),
      ),
    );
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(all.map((o) => o.ok)).toEqual(Array.from({ length: 20 }, (_, i) => i % 3 !== 0));
  });

  it('misuse throws at once, and nothing is queued', () => {
    expect(() => h.core.spawnAsync({ file: '/bin/true', argv: [], env: {} }, () => {})).toThrow(/argv/);
    expect(h.core.spawnsPending).toBe(0);
  });

  it('the descriptor reserve refuses a spawn and a log file with EMFILE, and lets them through again', async () => {
    const limit = rlimit('nofile');
    expect(fdHeadroom(8)).toBe(8);
    // A reserve larger than the (lowered) limit can never be kept.
    rlimit('nofile', { soft: 512, hard: limit.hard });
    fdReserve(1024);
    try {
      const outcome = await h.spawnAsync({ file: '/bin/true', argv: ['true'] });
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) {
        expect(outcome.error.code).toBe('EMFILE');
        expect(outcome.error.pid).toBeUndefined();
      }
      expect(() => h.core.openSink(path.join(tmpDir(), 'x.log'))).toThrow(/EMFILE/);
    } finally {
      fdReserve(0);
      rlimit('nofile', limit);
    }
    const again = await h.spawnAsync({ file: '/bin/true', argv: ['true'] });
    expect(again.ok).toBe(true);
    if (again.ok) expect((await h.waitExit(again.spawned.child)).code).toBe(0);
  });
});
