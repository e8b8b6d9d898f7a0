// SPDX-License-Identifier: MIT
// The daemon itself SIGKILLed, then started again on the same config, next to the real
// supervisord doing the same: the new daemon starts cleanly (the stale socket unlinked
// with supervisord's line, the stale pidfile replaced by its own pid) and starts its
// programs anew.
//
// What is left of the old one's programs is decided as supervisord decides it: each
// program leads its own process group (setpgid at spawn), so nothing of theirs is in the
// old daemon's process group, and a SIGKILLed daemon can do nothing for them:
// stopasgroup/killasgroup act only when the daemon stops a program. They live on, orphans
// of init; with a program that holds a port, its new copy finds it taken. (Only a
// kernel-side tie, PR_SET_PDEATHSIG in the child or a cgroup kill_mode=cgroup the new
// daemon empties, could do better; see the README.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { waitState } from '../../helpers/process-info.js';
import { isAlive, killTracked, procStat, track } from '../../helpers/procs.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

afterEach(async () => {
  await stopAllDaemons();
  killTracked();
});
afterAll(removeTmpDirs);

const PROGRAM = '[program:a]\ncommand=/bin/sleep 300\nstartsecs=0\nstopasgroup=true\nkillasgroup=true\n';

function pgid(pid: number): number {
  const st = procStat(pid);
  if (!st) throw new Error(`no process ${pid}`);
  return st.pgid;
}

async function killedAndRestarted(kind: DaemonKind): Promise<Record<string, unknown>> {
  const first = await startDaemon(kind, PROGRAM);
  const old = (await waitState(first, 'a', 'RUNNING')).pid;
  track(old);
  const daemonGroup = pgid(first.pid);
  const exited = new Promise((r) => first.proc.once('exit', r));
  process.kill(first.pid, 'SIGKILL');
  await exited;
  const oldProgram = { alive: isAlive(old), ownGroup: pgid(old) === old, inDaemonGroup: pgid(old) === daemonGroup };

  const second = await startDaemon(kind, PROGRAM, { dir: first.dir });
  const fresh = (await waitState(second, 'a', 'RUNNING')).pid;
  await pollUntil(() => /Unlinking stale socket/.test(second.stdout()), { timeout: 5000, what: 'the stale socket line' }).catch(() => null);
  return {
    oldProgram,
    staleSocketLine: second.stdout().match(/Unlinking stale socket \S+/)?.[0]?.replace(first.dir, 'DIR') ?? null,
    pidfile: Number(readFileSync(path.join(first.dir, 'supervisord.pid'), 'utf8')) === second.pid,
    startedAnew: fresh !== old && fresh > 0,
    state: await second.rpc('supervisor.getState'),
  };
}

describe('the daemon SIGKILLed, then started again', () => {
  it('starts cleanly over its stale socket and pidfile, as supervisord; the old programs are left as supervisord leaves them', async () => {
    const ours = await killedAndRestarted('fastvisor');
    await stopAllDaemons();
    killTracked();
    const theirs = await killedAndRestarted('supervisord');
    expect(ours).toEqual({
      oldProgram: { alive: true, ownGroup: true, inDaemonGroup: false },
      staleSocketLine: 'Unlinking stale socket DIR/supervisor.sock',
      pidfile: true,
      startedAnew: true,
      state: { statecode: 1, statename: 'RUNNING' },
    });
    expect(ours).toEqual(theirs);
  }, 90_000);
});
