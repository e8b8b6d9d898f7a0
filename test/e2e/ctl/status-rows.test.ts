// SPDX-License-Identifier: MIT
// fastvisorctl's plain `status` asks fastvisor's daemon for fastvisor.getAllProcessStatus
// (one JSON text) instead of getAllProcessInfo (a struct per process): the rows must say
// what getAllProcessInfo says, the ctl must really use them (the daemon's /metrics counts
// the calls by method), and against supervisord, which has no such method, status still
// works through getAllProcessInfo (oneshot.test.ts compares every output with Python's).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { REPO, startDaemon, stopAllDaemons, type Daemon } from '../../helpers/daemon-harness.js';
import { parseResponse, rawRequest } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

afterAll(async () => {
  await stopAllDaemons();
  removeTmpDirs();
});

const PROGRAMS = `
[program:web]
command=/bin/sleep 1000
startsecs=0
stopwaitsecs=1

[program:fail]
command=/bin/sh -c 'exit 3'
startsecs=1
startretries=0

[program:idle]
command=/bin/sleep 1000
autostart=false

[program:np]
command=/bin/sleep 1000
process_name=%(program_name)s_<&é_%(process_num)s
numprocs=2
startsecs=0
stopwaitsecs=1
`;

function fastvisorctl(conf: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'fastvisorctl.cjs'), '-c', conf, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** fastvisor_rpc_requests_total for one method, from /metrics on the daemon's socket. */
async function callsOf(d: Daemon, method: string): Promise<number> {
  const { raw } = await rawRequest({ path: d.sock }, 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  const body = parseResponse(raw).body.toString('utf8');
  const m = new RegExp(`^fastvisor_rpc_requests_total\\{method="${method.replace(/\./g, '\\.')}"\\} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : 0;
}

type Row = [string, string, number, string, string];

describe('fastvisor.getAllProcessStatus and fastvisorctl status', () => {
  it('says what getAllProcessInfo says, in its order, and the ctl uses it', async () => {
    const d = await startDaemon('fastvisor', PROGRAMS);
    await pollUntil(async () => {
      const all = (await d.rpc('supervisor.getAllProcessInfo')) as Array<Record<string, unknown>>;
      return all.find((i) => i['name'] === 'fail')?.['statename'] === 'FATAL' && all.filter((i) => i['statename'] === 'RUNNING').length === 3;
    }, { timeout: 15_000 });
    // The two calls fall within one second of uptime now and then: asked again until they do.
    await pollUntil(async () => {
      const infos = (await d.rpc('supervisor.getAllProcessInfo')) as Array<Record<string, unknown>>;
      const rows = JSON.parse((await d.rpc('fastvisor.getAllProcessStatus')) as string) as Row[];
      const expected = infos.map((i) => [i['group'], i['name'], i['state'], i['statename'], i['description']]);
      return JSON.stringify(rows) === JSON.stringify(expected);
    }, { timeout: 10_000 });

    const before = await callsOf(d, 'fastvisor.getAllProcessStatus');
    const infoBefore = await callsOf(d, 'supervisor.getAllProcessInfo');
    const r = fastvisorctl(d.conf, ['status']);
    expect(r.status).toBe(3); // fail and idle are not running
    expect(r.stdout).toMatch(/^fail {29}FATAL {5}Exited too quickly \(process log may have details\)$/m);
    expect(r.stdout).toMatch(/^np:np_<&é_0 {22}RUNNING {3}pid \d+, uptime /m);
    expect(r.stdout).toMatch(/^idle {29}STOPPED {3}Not started$/m);
    expect(await callsOf(d, 'fastvisor.getAllProcessStatus')).toBe(before + 1);
    expect(await callsOf(d, 'supervisor.getAllProcessInfo')).toBe(infoBefore);

    // status --json keeps the whole structs.
    const j = fastvisorctl(d.conf, ['status', '--json']);
    expect(JSON.parse(j.stdout)).toHaveLength(5);
    expect(await callsOf(d, 'supervisor.getAllProcessInfo')).toBe(infoBefore + 1);
  });

  it('is refused once shutdown has begun, as getAllProcessInfo is', async () => {
    const d = await startDaemon('fastvisor', '[program:slow]\ncommand=/bin/sh -c "trap \'\' TERM; exec sleep 1000"\nstartsecs=0\nstopwaitsecs=5\n');
    await pollUntil(async () => ((await d.rpc('supervisor.getProcessInfo', 'slow')) as Record<string, unknown>)['statename'] === 'RUNNING', { timeout: 10_000 });
    process.kill(d.pid, 'SIGTERM');
    await pollUntil(() => d.mainLog().includes('waiting for slow to die'), { timeout: 10_000 });
    await expect(d.rpc('fastvisor.getAllProcessStatus')).rejects.toMatchObject({ faultCode: 6 });
    await expect(d.rpc('supervisor.getAllProcessInfo')).rejects.toMatchObject({ faultCode: 6 });
  });
});
