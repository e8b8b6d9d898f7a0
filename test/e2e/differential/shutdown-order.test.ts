// SPDX-License-Identifier: MIT
// "waiting for a, b, c to die" names the processes in supervisord's order: its
// process_groups dict, which is (priority, name) order at start, then every group
// added by update at the end, a changed group too (update removes and re-adds it);
// within a group, the group's own order (a [group:] in its programs= order, numprocs
// by name as strings: w10 before w2). Both daemons, the same config and update.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, supervisorctl, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

const CONFIG = `
[program:zeta]
command=/bin/sleep 300
priority=5

[program:alpha]
command=/bin/sleep 300
priority=900

[program:worker]
command=/bin/sleep 300
process_name=w%(process_num)d
numprocs=11

[program:mid]
command=/bin/sleep 300

[program:beta]
command=/bin/sleep 300

[group:grp]
programs=mid,beta
priority=100
`;

async function dieLine(kind: DaemonKind): Promise<string> {
  const d = await startDaemon(kind, CONFIG);
  const allRunning = async (n: number) => {
    const infos = (await d.rpc('supervisor.getAllProcessInfo')) as Array<{ statename: string }>;
    return infos.length === n && infos.every((i) => i.statename === 'RUNNING');
  };
  await pollUntil(() => allRunning(15), { timeout: 20_000, what: `${kind}: all RUNNING` });
  // zeta changes (removed and added again), aardvark is new: both go to the end.
  const text = readFileSync(d.conf, 'utf8').replace('priority=5', 'priority=6') + '\n[program:aardvark]\ncommand=/bin/sleep 300\npriority=1\n';
  writeFileSync(d.conf, text);
  const up = supervisorctl(d.conf, ['update']);
  expect(up.status, up.stdout + up.stderr).toBe(0);
  await pollUntil(() => allRunning(16), { timeout: 20_000, what: `${kind}: all RUNNING after update` });
  await d.stop();
  const line = d
    .mainLog()
    .split('\n')
    .find((l) => l.includes(' to die'));
  return line?.replace(/^\S+ \S+ /, '') ?? '(none)';
}

afterAll(async () => {
  await stopAllDaemons();
  removeTmpDirs();
});

describe('the shutdown report', () => {
  it("lists the processes in supervisord's order, after an update too", async () => {
    const [sd, fv] = await Promise.all([dieLine('supervisord'), dieLine('fastvisor')]);
    expect(fv).toBe(sd);
    const workers = ['w0', 'w1', 'w10', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9'];
    expect(fv).toBe(`INFO waiting for mid, beta, alpha, ${workers.join(', ')}, zeta, aardvark to die`);
  }, 60_000);
});
