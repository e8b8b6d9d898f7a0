// SPDX-License-Identifier: MIT
// The daemon's spawns run on the native spawn thread. While one is in flight
// a process holds back what is asked of it (a stop here) and runs it once the
// outcome is in: the machine sees the spawn as one step, as in supervisord.
// The fault-injection hook holds each spawn 300 ms between fork and outcome.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config/load.js';
import { MainLog } from '../../src/log/main-log.js';
import { fdReserve, IoCore, rlimit, testHooks } from '../../src/native/index.js';
import { RealClock } from '../../src/process/clock.js';
import { ProcessState } from '../../src/process/states.js';
import { Supervisor } from '../../src/process/supervisor.js';
import { pollUntil } from '../helpers/poll.js';
import { isAlive, killTracked, track } from '../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

describe('Subprocess with an asynchronous spawn', () => {
  let core: IoCore | null = null;
  let sup: Supervisor | null = null;
  afterEach(() => {
    testHooks({ registerDelayMs: 0 });
    sup?.dispose();
    core?.stop();
    killTracked();
  });
  afterAll(removeTmpDirs);

  function start(program: string): { sup: Supervisor; lines: string[] } {
    const dir = tmpDir('fv-subprocess-');
    const conf = path.join(dir, 'supervisord.conf');
    writeFileSync(conf, `[supervisord]\nchildlogdir=${dir}\n\n[program:a]\n${program}\n`);
    const model = loadConfig({ configfile: conf });
    const lines: string[] = [];
    const log = new MainLog(20, [{ write: (l: string) => lines.push(l) }], () => Date.now());
    core = IoCore.start({ onEvents: (e) => sup?.handleNative(e) });
    sup = new Supervisor({ model, core, clock: new RealClock(), log, env: process.env, serverurl: null });
    return { sup, lines };
  }

  it('a stop asked while the spawn is in flight runs after it: the child is stopped, not left behind', async () => {
    const { sup, lines } = start('command=/bin/sleep 1000\nstartsecs=0');
    const states: string[] = [];
    const names = new Map(Object.entries(ProcessState).map(([k, v]) => [v, k]));
    sup.onStateChange((c) => states.push(names.get(c.process.state)!));
    testHooks({ registerDelayMs: 300 });
    sup.start();
    const a = sup.groups.get('a')!.processes.get('a')!;
    expect(a.state).toBe(ProcessState.STARTING);
    expect(a.pid).toBe(0); // the outcome is not in yet
    expect(a.feed({ kind: 'stop' })).toBeNull();
    await pollUntil(() => a.state === ProcessState.STOPPED, { timeout: 5000, what: 'a STOPPED' });
    const pid = Number(/spawned: 'a' with pid (\d+)/.exec(lines.join(''))?.[1]);
    expect(pid).toBeGreaterThan(0);
    track(pid);
    expect(isAlive(pid)).toBe(false);
    // startsecs=0: RUNNING at once after the spawn, then the held-back stop.
    expect(states).toEqual(['STARTING', 'RUNNING', 'STOPPING', 'STOPPED']);
  });

  it('a spawn failure that arrives later still ends in BACKOFF, then FATAL, with the spawn error', async () => {
    // The descriptor reserve refuses the spawn on the spawn thread (EMFILE).
    const { sup } = start('command=/bin/true\nstartretries=0\nstdout_logfile=NONE\nstderr_logfile=NONE');
    const limit = rlimit('nofile');
    rlimit('nofile', { soft: 512, hard: limit.hard });
    fdReserve(1024);
    try {
      sup.start();
      const a = sup.groups.get('a')!.processes.get('a')!;
      expect(a.state).toBe(ProcessState.STARTING);
      await pollUntil(() => a.state === ProcessState.FATAL, { timeout: 5000, what: 'a FATAL' });
      expect(a.status.spawnerr).toBe("too many open files to spawn 'a'");
    } finally {
      fdReserve(0);
      rlimit('nofile', limit);
    }
  });
});
