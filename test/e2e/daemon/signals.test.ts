// SPDX-License-Identifier: MIT
// The daemon's signals and housekeeping with real processes: USR2 reopens log
// files (logrotate's copy-less rotation), HUP reloads the config (and keeps
// running on a broken one), AUTO child logs of an earlier run are cleaned at
// start unless nocleanup, and as PID 1 orphaned grandchildren are reaped.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { fastvisordCommand, startDaemon, stopAllDaemons, writeConfig } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { childrenOf, isAlive } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  await stopAllDaemons();
});
afterAll(() => removeTmpDirs());

type Info = { name: string; statename: string; pid: number };

describe('signals', () => {
  it('USR2 reopens the log files after they were moved away', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:ticker]\ncommand=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.02; done'\nstdout_logfile=%(here)s/ticker.log\n`,
    );
    const log = path.join(d.dir, 'ticker.log');
    await pollUntil(() => existsSync(log) && readFileSync(log, 'utf8').includes('tick 3'), { what: 'ticks' });
    renameSync(log, `${log}.1`);
    renameSync(path.join(d.dir, 'supervisord.log'), path.join(d.dir, 'supervisord.log.1'));
    process.kill(d.pid, 'SIGUSR2');
    await pollUntil(() => existsSync(log) && /tick \d+/.test(readFileSync(log, 'utf8')), { what: 'a new ticker.log' });
    // The line goes to the old file (logged before the reopen, as supervisord does); the new one appears.
    await pollUntil(() => existsSync(path.join(d.dir, 'supervisord.log')), { what: 'main log reopened' });
    expect(readFileSync(path.join(d.dir, 'supervisord.log.1'), 'utf8')).toContain('INFO received SIGUSR2 indicating log reopen request');
    // Nothing lost or doubled across the move: the numbers run on.
    const numbers = (readFileSync(`${log}.1`, 'utf8') + readFileSync(log, 'utf8')).trim().split('\n').map((l) => Number(l.split(' ')[1]));
    numbers.forEach((n, i) => expect(n).toBe(i + 1));
  });

  it('HUP reloads: everything restarts on the new config; a broken config leaves it running', async () => {
    const d = await startDaemon('fastvisor', `[program:one]\ncommand=/bin/sleep 300\nstartsecs=0\n`);
    const before = (await pollUntil(async () => {
      const i = (await d.rpc('supervisor.getProcessInfo', 'one')) as Info;
      return i.statename === 'RUNNING' && i;
    })) as Info;
    const conf = readFileSync(d.conf, 'utf8');
    writeFileSync(d.conf, `${conf}\n[program:two]\ncommand=/bin/sleep 300\nstartsecs=0\n`);
    process.kill(d.pid, 'SIGHUP');
    const after = (await pollUntil(
      async () => {
        try {
          const all = (await d.rpc('supervisor.getAllProcessInfo')) as Info[];
          return all.length === 2 && all.every((i) => i.statename === 'RUNNING') && all;
        } catch {
          return false; // the socket is reopened during the reload
        }
      },
      { timeout: 20_000, what: 'both running after reload' },
    )) as Info[];
    expect(after.find((i) => i.name === 'one')!.pid).not.toBe(before.pid);
    expect(isAlive(before.pid)).toBe(false);
    expect(d.mainLog()).toContain('WARN received SIGHUP indicating restart request');

    writeFileSync(d.conf, `${conf}\n[program:three]\nstartsecs=soon\ncommand=/bin/true\n`);
    process.kill(d.pid, 'SIGHUP');
    await pollUntil(() => d.mainLog().includes('restart aborted, the configuration has an error'), { what: 'reload refused' });
    const still = (await d.rpc('supervisor.getAllProcessInfo')) as Info[];
    expect(still.map((i) => [i.name, i.pid])).toEqual(after.map((i) => [i.name, i.pid]));
  });

  it('TERM during a reload ends it: nothing of the reload starts, nothing outlives the daemon', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:stubborn]\ncommand=/bin/sh -c "trap '' TERM; exec /bin/sleep 300"\nstopwaitsecs=2\nstartsecs=0\n`,
    );
    const info = (await pollUntil(async () => {
      const i = (await d.rpc('supervisor.getProcessInfo', 'stubborn')) as Info;
      return i.statename === 'RUNNING' && i;
    })) as Info;
    process.kill(d.pid, 'SIGHUP');
    await pollUntil(() => d.mainLog().includes('received SIGHUP indicating restart request'), { what: 'reload begun' });
    process.kill(d.pid, 'SIGTERM');
    const code = await new Promise<number | null>((r) => (d.proc.exitCode !== null ? r(d.proc.exitCode) : d.proc.once('exit', (c) => r(c))));
    expect(code).toBe(0);
    expect(isAlive(info.pid)).toBe(false);
    const log = d.mainLog();
    const afterTerm = log.slice(log.indexOf('received SIGTERM'));
    expect(afterTerm).not.toContain('spawned:');
    expect(afterTerm).toContain('stopped: stubborn (terminated by SIGKILL)');
  });

  it('TERM: children never outlive a graceful shutdown, exit 0', async () => {
    const d = await startDaemon('fastvisor', `[program:a]\ncommand=/bin/sleep 300\nstartsecs=0\nnumprocs=3\nprocess_name=%(program_name)s_%(process_num)d\n`);
    const infos = (await pollUntil(async () => {
      const all = (await d.rpc('supervisor.getAllProcessInfo')) as Info[];
      return all.every((i) => i.statename === 'RUNNING') && all;
    })) as Info[];
    const code = await d.stop();
    expect(code).toBe(0);
    for (const i of infos) expect(isAlive(i.pid)).toBe(false);
  });
});

describe('AUTO child logs', () => {
  it('are cleaned at start-up unless nocleanup', async () => {
    const dir = tmpDir('fv-auto-');
    const stale = ['old-stdout---supervisor-abc123.log', 'old-stdout---supervisor-abc123.log.1', 'keep-stdout---other-xyz.log', 'notes.txt'];
    for (const f of stale) writeFileSync(path.join(dir, f), 'x');
    const d = await startDaemon('fastvisor', `[program:p]\ncommand=/bin/sh -c 'echo hello; exec sleep 300'\n`, { dir });
    const info = (await pollUntil(async () => {
      const i = (await d.rpc('supervisor.getProcessInfo', 'p')) as Info & { stdout_logfile: string };
      return i.statename === 'RUNNING' && i;
    })) as Info & { stdout_logfile: string };
    expect(path.basename(info.stdout_logfile)).toMatch(/^p-stdout---supervisor-[a-z0-9_]{8}\.log$/);
    await pollUntil(() => readFileSync(info.stdout_logfile, 'utf8') === 'hello\n', { what: 'hello in the AUTO log' });
    const left = readdirSync(dir);
    expect(left).not.toContain('old-stdout---supervisor-abc123.log');
    expect(left).not.toContain('old-stdout---supervisor-abc123.log.1');
    expect(left).toContain('keep-stdout---other-xyz.log');
    expect(left).toContain('notes.txt');
    await d.stop();

    writeFileSync(path.join(dir, 'old-stdout---supervisor-abc123.log'), 'x');
    const k = await startDaemon('fastvisor', `[supervisord]\nnocleanup=true\n[program:p]\ncommand=/bin/sleep 300\n`, { dir });
    expect(readdirSync(dir)).toContain('old-stdout---supervisor-abc123.log');
    await k.stop();
  });
});

const hasUnshare = spawnSync('unshare', ['--version']).status === 0 && process.getuid?.() === 0;

describe.runIf(hasUnshare)('as PID 1 (a container)', () => {
  it('reaps orphaned grandchildren: no zombies pile up', async () => {
    const dir = tmpDir('fv-pid1-');
    // Each run leaves an orphan behind that exits 0.2 s later.
    const conf = writeConfig(
      dir,
      `[program:orphaner]\ncommand=/bin/sh -c '(sleep 0.2 &); exec sleep 300'\nstartsecs=0\nnumprocs=3\nprocess_name=%(program_name)s_%(process_num)d\n`,
      { withServer: false },
    );
    const [node, args] = fastvisordCommand();
    const proc = spawn('unshare', ['--pid', '--fork', '--kill-child', node, ...args, '-n', '-c', conf], { cwd: dir, detached: true, stdio: 'ignore' });
    try {
      // unshare's child is the daemon: PID 1 inside, a child of unshare outside.
      const daemon = await pollUntil(() => childrenOf(proc.pid!)[0], { what: 'the daemon under unshare' });
      const log = path.join(dir, 'supervisord.log');
      await pollUntil(() => existsSync(log) && (readFileSync(log, 'utf8').match(/reaped unknown pid/g) ?? []).length >= 3, {
        timeout: 15_000,
        what: 'three orphans reaped',
      });
      const zombies = childrenOf(daemon).filter((p) => {
        try {
          return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
        } catch {
          return false;
        }
      });
      expect(zombies).toEqual([]);
    } finally {
      // --kill-child: SIGKILL to unshare takes the namespace (and everything in it) down.
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
});
