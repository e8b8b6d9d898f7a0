// SPDX-License-Identifier: MIT
// A child that closes its stdout (or both outputs) early and lives on: end of file on a
// pipe is not an exit. It stays RUNNING, what it wrote before and writes to the other
// channel afterwards is logged, and its exit is seen (SIGCHLD, not the pipes) and logged
// as usual, next to the real supervisord doing the same.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { waitState } from '../../helpers/process-info.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);
afterAll(removeTmpDirs);

// The marker files say when each step has happened, so nothing here depends on timing.
const CONF = `
[program:out]
command=/bin/sh -c "echo before; exec 1>&-; touch %(here)s/out.closed; while [ ! -e %(here)s/go ]; do sleep 0.05; done; echo after >&2; exit 3"
stdout_logfile=%(here)s/out.stdout
stderr_logfile=%(here)s/out.stderr
startsecs=0
autorestart=false

[program:both]
command=/bin/sh -c "echo before; exec 1>&- 2>&-; touch %(here)s/both.closed; while [ ! -e %(here)s/go ]; do sleep 0.05; done; exit 0"
stdout_logfile=%(here)s/both.stdout
startsecs=0
autorestart=false
`;

async function run(kind: DaemonKind): Promise<Record<string, unknown>> {
  const d = await startDaemon(kind, CONF);
  const file = (name: string): string => path.join(d.dir, name);
  const exists = (name: string): boolean => existsSync(file(name));
  await pollUntil(() => exists('out.closed') && exists('both.closed'), { timeout: 10_000, what: 'both programs to close their outputs' });
  // Outputs closed, processes alive: still RUNNING, with the same pid, for a good while of polling.
  const running = [await waitState(d, 'out', 'RUNNING'), await waitState(d, 'both', 'RUNNING')];
  for (let i = 0; i < 10; i++) {
    for (const r of running) expect(((await d.rpc('supervisor.getProcessInfo', r.name)) as { pid: number; statename: string }).statename).toBe('RUNNING');
  }
  // Still answering, and a tail of the closed channel works.
  const tail = (await d.rpc('supervisor.readProcessStdoutLog', 'out', 0, 100)) as string;
  writeFileSync(file('go'), '');
  const out = await waitState(d, 'out', 'EXITED');
  const both = await waitState(d, 'both', 'EXITED');
  await pollUntil(() => /exited: both /.test(d.mainLog()) && /exited: out /.test(d.mainLog()), { timeout: 10_000, what: 'the exit lines' });
  const log = d.mainLog();
  return {
    tail,
    out: { exitstatus: out.exitstatus, stdout: readFileSync(file('out.stdout'), 'utf8'), stderr: readFileSync(file('out.stderr'), 'utf8') },
    both: { exitstatus: both.exitstatus, stdout: readFileSync(file('both.stdout'), 'utf8') },
    exitLines: log
      .split('\n')
      .filter((l) => / exited: (out|both) /.test(l))
      .map((l) => l.slice(24).replace(/\d+/g, (n) => (n === '3' || n === '0' ? n : 'N')))
      .sort(),
  };
}

describe('a child that closes stdout early', () => {
  it('stays RUNNING, its other output and its exit are logged, as under supervisord', async () => {
    const ours = await run('fastvisor');
    expect(ours).toEqual({
      tail: 'before\n',
      out: { exitstatus: 3, stdout: 'before\n', stderr: 'after\n' },
      both: { exitstatus: 0, stdout: 'before\n' },
      exitLines: ['INFO exited: both (exit status 0; expected)', 'WARN exited: out (exit status 3; not expected)'],
    });
    await stopAllDaemons();
    expect(ours).toEqual(await run('supervisord'));
  }, 60_000);
});
