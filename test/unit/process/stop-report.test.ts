// SPDX-License-Identifier: MIT
// "waiting for x to stop" under supervisord's rule: stopProcess(wait=True) calls
// stop_report() right after the kill and supervisord's reap(), then every poll, and it
// logs while the process is STOPPING, at most every 2 s. A child that died at once on
// the signal was reaped by then in supervisord: no line. Here the exit comes from the
// I/O thread a moment later, so stopReport() asks whether the child has exited
// (waitpid would find it) and then logs nothing either. On a fake core and clock.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import { MainLog } from '../../../src/log/main-log.js';
import type { IoCore, SpawnOutcome } from '../../../src/native/index.js';
import { FakeClock } from '../../../src/process/clock.js';
import { ProcessState } from '../../../src/process/states.js';
import { Supervisor } from '../../../src/process/supervisor.js';
import type { Subprocess } from '../../../src/process/subprocess.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

/** Spawns succeed when answered; kills are recorded; `dead` pids have exited (not yet reported). */
class FakeCore {
  pending: Array<(o: SpawnOutcome) => void> = [];
  dead = new Set<number>();
  asked: number[] = [];
  private nextPid = 1000;
  spawnAsync(_req: unknown, done: (o: SpawnOutcome) => void): void {
    this.pending.push(done);
  }
  answer(): void {
    for (const done of this.pending.splice(0)) {
      const pid = this.nextPid++;
      done({ ok: true, spawned: { pid, child: pid } });
    }
  }
  kill(): boolean {
    return true;
  }
  childExited(pid: number): boolean {
    this.asked.push(pid);
    return this.dead.has(pid);
  }
}

function setup() {
  const dir = tmpDir('fv-stop-report-');
  const conf = path.join(dir, 'supervisord.conf');
  const program = (name: string) => `[program:${name}]\ncommand=/bin/sleep 300\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n`;
  writeFileSync(conf, `[supervisord]\nchildlogdir=${dir}\n\n${program('quick')}\n${program('slow')}\n`);
  const model = loadConfig({ configfile: conf });
  const clock = new FakeClock(5_000, Date.UTC(2026, 0, 1));
  const lines: string[] = [];
  const log = new MainLog(10, [{ write: (l: string) => lines.push(l) }], () => clock.wall());
  const core = new FakeCore();
  const sup = new Supervisor({ model, core: core as unknown as IoCore, clock, log, env: {}, serverurl: null });
  sup.start();
  core.answer();
  const proc = (name: string): Subprocess => sup.groups.get(name)!.processes.get(name)!;
  const exit = (p: Subprocess): void =>
    sup.handleNative([{ kind: 'exit', child: p.child, pid: p.pid, code: null, signal: 15, coreDumped: false, time: clock.wall() }]);
  const waiting = () => lines.filter((l) => l.includes('waiting for')).map((l) => l.replace(/^\S+ \S+ /, '').trim());
  return { sup, clock, core, proc, exit, waiting };
}

describe('stopReport (stopProcess waiting)', () => {
  it('a child that exited at once on the signal: no "waiting for x to stop"; one still running: the line', () => {
    const t = setup();
    const quick = t.proc('quick');
    const slow = t.proc('slow');
    expect([quick.state, slow.state]).toEqual([ProcessState.RUNNING, ProcessState.RUNNING]);
    // stopAllProcesses: every kill first, then every wait callback once.
    quick.feed({ kind: 'stop' });
    slow.feed({ kind: 'stop' });
    t.core.dead.add(quick.pid);
    quick.stopReport();
    slow.stopReport();
    expect(t.core.asked).toContain(quick.pid);
    expect(t.waiting()).toEqual(['INFO waiting for slow to stop']);
    // The exits arrive; nothing more is said about quick.
    t.exit(quick);
    quick.stopReport();
    expect(quick.state).toBe(ProcessState.STOPPED);
    // slow: again only after 2 s.
    t.clock.advance(1500);
    slow.stopReport();
    t.clock.advance(600);
    slow.stopReport();
    expect(t.waiting()).toEqual(['INFO waiting for slow to stop', 'INFO waiting for slow to stop']);
    t.exit(slow);
    expect(slow.state).toBe(ProcessState.STOPPED);
  });
});
