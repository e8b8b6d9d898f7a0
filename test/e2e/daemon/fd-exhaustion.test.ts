// SPDX-License-Identifier: MIT
// Out of descriptors, still in control: under a low RLIMIT_NOFILE a spawn
// storm must leave descriptors for the control sockets (supervisorctl keeps
// working), and the main log must say why programs did not start.
import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, supervisorctl, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';

afterEach(stopAllDaemons);

const PROGRAMS = 80;
const conf = `[supervisord]
minfds=32

[program:p]
command=/bin/sleep 1000
process_name=%(program_name)s_%(process_num)02d
numprocs=${PROGRAMS}
startsecs=0
startretries=1
`;

interface Info {
  name: string;
  statename: string;
  spawnerr: string;
}

describe.runIf(process.platform === 'linux').each(['fastvisor', 'supervisord'] as DaemonKind[])('%s under nofile=256', (kind) => {
  it('a spawn storm leaves the daemon reachable, and says why programs could not start', async () => {
    // 256: room for a few dozen programs (a daemon run through tsx holds ~50
    // descriptors of its own), not for all 80.
    const d = await startDaemon(kind, conf, { wrap: ['prlimit', '--nofile=256:256', '--'] });
    // Settled: nothing STARTING or BACKOFF any more.
    const infos = await pollUntil(
      async () => {
        const all = (await d.rpc('supervisor.getAllProcessInfo')) as unknown as Info[];
        return all.length === PROGRAMS && all.every((p) => p.statename === 'RUNNING' || p.statename === 'FATAL') && all;
      },
      { timeout: 30_000, what: 'every program RUNNING or FATAL' },
    );
    const running = infos.filter((p) => p.statename === 'RUNNING').length;
    const fatal = infos.filter((p) => p.statename === 'FATAL');
    expect(running).toBeGreaterThan(5);
    expect(fatal.length).toBeGreaterThan(0);
    // The real supervisorctl, over and over: every call answers.
    for (let i = 0; i < 5; i++) {
      const r = supervisorctl(d.conf, ['status']);
      expect(r.stdout.trim().split('\n')).toHaveLength(PROGRAMS);
    }
    if (kind === 'fastvisor') {
      for (const p of fatal) expect(p.spawnerr).toBe(`too many open files to spawn '${p.name}'`);
      expect(d.mainLog()).toContain("spawnerr: too many open files to spawn 'p_");
      // Control connections at once, many of them, still answer.
      await Promise.all(Array.from({ length: 8 }, () => d.rpc('supervisor.getState')));
    }
    expect(await d.stop()).toBe(0);
  });
});

describe.runIf(process.platform === 'linux')('fastvisor: connections that take every descriptor', () => {
  it('logs the exhaustion once, and its end, and answers again afterwards', async () => {
    const d = await startDaemon('fastvisor', '[supervisord]\nminfds=32\n[program:a]\ncommand=/bin/sleep 1000\n', { wrap: ['prlimit', '--nofile=128:128', '--'] });
    // Idle connections stay open (as supervisord's medusa keeps them): hold
    // more than the daemon has descriptors.
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 160; i++) {
        const s = net.connect(d.sock);
        s.on('error', () => {});
        held.push(s);
      }
      await pollUntil(() => d.mainLog().includes('CRIT out of file descriptors'), { timeout: 15_000, what: 'the exhaustion logged' });
    } finally {
      for (const s of held) s.destroy();
    }
    await pollUntil(() => d.mainLog().includes('INFO file descriptors are available again'), { timeout: 15_000, what: 'the recovery logged' });
    expect(d.mainLog().match(/out of file descriptors/g)).toHaveLength(1);
    expect(((await d.rpc('supervisor.getState')) as { statename: string }).statename).toBe('RUNNING');
    expect(await d.stop()).toBe(0);
  });
});
