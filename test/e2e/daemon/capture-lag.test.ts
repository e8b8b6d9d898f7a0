// SPDX-License-Identifier: MIT
// [supervisord] capture_lag_ms (fastvisor): the bound on how long trickling
// output waits before it is read and logged. Whatever the bound, the log holds
// every line when the exit is reported, and a restart with a new value keeps
// capturing. supervisord 4.2.5 ignores the option, so the same file runs there.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, type Daemon } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { waitState } from '../../helpers/process-info.js';
import { tmpDir } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);

const LINES = 40;
const expected = Array.from({ length: LINES }, (_, i) => `line ${i + 1}\n`).join('');

function body(lag: string): string {
  return (
    `[supervisord]\n${lag}\n` +
    `[program:talker]\ncommand=/bin/sh -c 'i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); sleep 0.01; done'\n` +
    `autostart=true\nautorestart=false\nstartsecs=0\nstdout_logfile=%(here)s/talker.log\n`
  );
}

async function exitedWithEveryLine(d: Daemon): Promise<void> {
  await waitState(d, 'talker', 'EXITED', 20_000);
  // Read as soon as the exit is known: the output was drained before it.
  expect(readFileSync(path.join(d.dir, 'talker.log'), 'utf8')).toBe(expected);
}

describe('[supervisord] capture_lag_ms', () => {
  it.each([
    ['capture_lag_ms = 0', 'capture_lag_ms = 0'],
    ['capture_lag_ms = 1000', 'capture_lag_ms = 1000'],
    ['not set (the default)', ''],
  ])('%s: the log holds every line when the exit is reported', async (_label, lag) => {
    const d = await startDaemon('fastvisor', body(lag));
    await exitedWithEveryLine(d);
  });

  it('a restart with a new value keeps capturing', async () => {
    const d = await startDaemon('fastvisor', body('capture_lag_ms = 1000'));
    await exitedWithEveryLine(d);
    writeFileSync(d.conf, readFileSync(d.conf, 'utf8').replace('capture_lag_ms = 1000', 'capture_lag_ms = 0'));
    writeFileSync(path.join(d.dir, 'talker.log'), '');
    await d.rpc('supervisor.restart');
    await pollUntil(() => readFileSync(path.join(d.dir, 'talker.log'), 'utf8') === expected || undefined, {
      timeout: 30_000,
      what: 'every line again after the restart',
    });
  });

  it('supervisord 4.2.5 runs the same file (it ignores the option)', async () => {
    const d = await startDaemon('supervisord', body('capture_lag_ms = 1000'));
    await exitedWithEveryLine(d);
  });
});
