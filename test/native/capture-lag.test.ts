// SPDX-License-Identifier: MIT
// The capture lag bound (CoreOptions.batchMs, [supervisord] capture_lag_ms):
// after a wave of small reads the I/O thread waits before it reads again, so
// each read takes many lines. Under a long bound nothing may change for the
// reader of a log: an exit still comes after its child's last byte is on
// disk, a child that keeps trickling is still read while it runs, bulk output
// next to trickles loses nothing, and a new bound applies to a running loop.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { IoCore, type LogSink, type NativeEvent } from '../../src/native/index.js';
import { BACKENDS } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked, track } from '../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

afterEach(() => killTracked());
afterAll(() => removeTmpDirs());

const LONG_BOUND_MS = 1000;

/** What the trickle script below prints. */
function trickleText(id: number, lines: number): string {
  let s = '';
  for (let i = 0; i < lines; i++) s += `child ${id} line ${i}\n`;
  return s;
}

function trickleScript(id: number, lines: number, pause: string): string {
  return `i=0; while [ $i -lt ${lines} ]; do echo "child ${id} line $i"; i=$((i+1)); sleep ${pause}; done`;
}

function lineCount(file: string): number {
  try {
    return readFileSync(file, 'latin1').split('\n').length - 1;
  } catch {
    return 0;
  }
}

describe.each(BACKENDS)('capture lag bound (%s backend)', (backend) => {
  let core: IoCore;
  // child handle -> its log, read at the moment its exit event arrives
  const logs = new Map<number, string>();
  const atExit = new Map<number, string>();
  const exits = new Set<number>();

  beforeAll(() => {
    core = IoCore.start({
      backend: backend as 'epoll' | 'poll' | 'kqueue',
      batchMs: LONG_BOUND_MS,
      onEvents: (events: NativeEvent[]) => {
        for (const e of events) {
          if (e.kind !== 'exit') continue;
          exits.add(e.child);
          const log = logs.get(e.child);
          if (log !== undefined) atExit.set(e.child, readFileSync(log, 'latin1'));
        }
      },
    });
  });
  afterAll(() => core.stop());

  function spawnTo(script: string, log: string): { child: number; pid: number; sink: LogSink } {
    const sink = core.openSink(log, { maxbytes: 0, backups: 0 });
    const s = core.spawn({
      file: '/bin/sh',
      argv: ['sh', '-c', script],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdout: { sink },
      stderr: { mode: 'null' },
    });
    track(s.pid);
    logs.set(s.child, log);
    return { ...s, sink };
  }

  it('20 trickling children: each exit comes after its last byte is in its log', async () => {
    const dir = tmpDir();
    const lines = 15;
    const kids = Array.from({ length: 20 }, (_, id) => ({ id, ...spawnTo(trickleScript(id, lines, '0.02'), path.join(dir, `t${id}.log`)) }));
    await pollUntil(() => kids.every((k) => exits.has(k.child)), { timeout: 60_000, what: 'every exit' });
    for (const k of kids) {
      expect(atExit.get(k.child)).toBe(trickleText(k.id, lines));
      k.sink.close();
    }
  });

  it('a child that keeps trickling is read while it runs, and a new bound applies at once', async () => {
    const log = path.join(tmpDir(), 'forever.log');
    const k = spawnTo('i=0; while :; do echo "line $i"; i=$((i+1)); sleep 0.02; done', log);
    await pollUntil(() => lineCount(log) >= 5 || undefined, { timeout: 20_000, what: '5 lines while it runs' });
    core.setBatchMs(0);
    const seen = lineCount(log);
    await pollUntil(() => lineCount(log) >= seen + 5 || undefined, { timeout: 20_000, what: '5 more lines with the bound at 0' });
    core.setBatchMs(LONG_BOUND_MS);
    const seen2 = lineCount(log);
    await pollUntil(() => lineCount(log) >= seen2 + 5 || undefined, { timeout: 20_000, what: '5 more lines with the bound back' });
    process.kill(k.pid, 'SIGKILL');
    await pollUntil(() => exits.has(k.child) || undefined, { timeout: 10_000, what: 'exit' });
    k.sink.close();
  });

  it('bulk output next to trickles: nothing lost, the exit after the last byte', async () => {
    const dir = tmpDir();
    const trickles = Array.from({ length: 10 }, (_, id) => ({ id, ...spawnTo(trickleScript(id, 20, '0.02'), path.join(dir, `t${id}.log`)) }));
    const n = 300_000;
    const bulk = spawnTo(`seq 1 ${n}`, path.join(dir, 'bulk.log'));
    const all = [...trickles, bulk];
    await pollUntil(() => all.every((k) => exits.has(k.child)) || undefined, { timeout: 60_000, what: 'every exit' });
    let expected = '';
    for (let i = 1; i <= n; i++) expected += `${i}\n`;
    expect(atExit.get(bulk.child)!.length).toBe(expected.length);
    expect(atExit.get(bulk.child) === expected).toBe(true);
    for (const k of trickles) expect(atExit.get(k.child)).toBe(trickleText(k.id, 20));
    for (const k of all) k.sink.close();
  });
});
