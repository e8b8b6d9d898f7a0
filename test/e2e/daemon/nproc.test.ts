// SPDX-License-Identifier: MIT
// Out of processes (RLIMIT_NPROC), still in control: the daemon drops to nobody (user= in
// [supervisord]) under a low nproc limit, so the kernel refuses its forks past the limit
// (EAGAIN; root would be exempt). The programs that cannot start end FATAL with
// supervisord's "Too many processes in process table" spawn error, the rest run, and the
// daemon keeps answering, next to the real supervisord doing the same. The daemon reads
// its code as root before it drops privileges; nobody only needs the temp directory,
// which is given to it.
import { spawnSync } from 'node:child_process';
import { chownSync } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';

import { fastvisordCommand, startDaemon, stopAllDaemons, supervisorctl, writeConfig, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { tmpDir } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);

const PROGRAMS = 40;
const conf = `[supervisord]
user=nobody
minprocs=1

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

const isRoot = process.getuid?.() === 0;

describe.runIf(process.platform === 'linux' && isRoot).each(['fastvisor', 'supervisord'] as DaemonKind[])('%s as nobody under nproc=40', (kind) => {
  it('some programs cannot be forked: FATAL with the reason, the rest run, the daemon answers', async () => {
    const dir = tmpDir(`fv-nproc-${kind}-`);
    chownSync(dir, 65534, 65534);
    const d = await startDaemon(kind, conf, { dir, wrap: ['prlimit', `--nproc=${PROGRAMS}:${PROGRAMS}`, '--'] });
    const infos = await pollUntil(
      async () => {
        const all = (await d.rpc('supervisor.getAllProcessInfo')) as unknown as Info[];
        return all.length === PROGRAMS && all.every((p) => p.statename === 'RUNNING' || p.statename === 'FATAL') && all;
      },
      { timeout: 30_000, what: 'every program RUNNING or FATAL' },
    );
    const running = infos.filter((p) => p.statename === 'RUNNING').length;
    const fatal = infos.filter((p) => p.statename === 'FATAL');
    expect(running).toBeGreaterThan(10);
    expect(fatal.length).toBeGreaterThan(0);
    for (const p of fatal) expect(p.spawnerr).toBe(`Too many processes in process table to spawn '${p.name}'`);
    expect(d.mainLog()).toContain("spawnerr: Too many processes in process table to spawn 'p_");
    // supervisord, seen here: supervisorctl status got no answer within 30 s (getAllProcessInfo
    // above did), so the rest is fastvisor's alone.
    if (kind === 'supervisord') return;
    for (let i = 0; i < 3; i++) {
      const r = supervisorctl(d.conf, ['status']);
      expect(r.stdout.trim().split('\n'), r.stderr).toHaveLength(PROGRAMS);
    }
    // Stopping one frees room: a FATAL one then starts.
    await d.rpc('supervisor.stopProcess', `p:${infos.find((p) => p.statename === 'RUNNING')!.name}`);
    await d.rpc('supervisor.startProcess', `p:${fatal[0]!.name}`);
    expect(((await d.rpc('supervisor.getProcessInfo', `p:${fatal[0]!.name}`)) as unknown as Info).statename).toBe('RUNNING');
    expect(await d.stop()).toBe(0);
  }, 90_000);
});

describe.runIf(process.platform === 'linux')('minprocs above the hard nproc limit', () => {
  it("stops start-up with supervisord's words, exit 2", () => {
    const out: Record<string, { status: number | null; stderr: string }> = {};
    for (const kind of ['fastvisor', 'supervisord'] as DaemonKind[]) {
      const dir = tmpDir(`fv-minprocs-${kind}-`);
      const file = writeConfig(dir, '[program:a]\ncommand=/bin/sleep 1000\n');
      const [cmd, pre] = kind === 'fastvisor' ? fastvisordCommand() : ['/usr/bin/supervisord', []];
      const r = spawnSync('prlimit', ['--nproc=40:40', '--', cmd, ...pre, '-n', '-c', file], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      out[kind] = { status: r.status, stderr: r.stderr.replace(/For help, use \S+ -h/, 'For help, use PROG -h') };
    }
    expect(out['fastvisor']!.status).toBe(2);
    expect(out['fastvisor']!.stderr).toMatch(/^Error: The minimum number of available processes required to run this program is 200 /);
    expect(out['fastvisor']).toEqual(out['supervisord']);
  }, 60_000);
});
