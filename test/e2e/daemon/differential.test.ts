// SPDX-License-Identifier: MIT
// The same config run by the real supervisord and by fastvisor: the same
// processes end in the same states with the same exit statuses and errors,
// see the same environment, write the same log files, and the main logs tell
// the same story per program (times and pids masked).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { linesAbout, maskLog } from '../../helpers/differential.js';
import { startDaemon, stopAllDaemons, type Daemon, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { isAlive } from '../../helpers/procs.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

const CONFIG = `
[supervisord]
environment=GLOBAL_VAR="from supervisord",SHARED="global"

[program:envdump]
command=/bin/sh -c 'env | grep -E "^(SUPERVISOR_|GLOBAL_VAR|SHARED|PROG_VAR)" | sort; exec sleep 300'
environment=PROG_VAR="x y",SHARED="program wins"
stdout_logfile=%(here)s/envdump.out
priority=10

[program:crasher]
command=/bin/sh -c 'echo "attempt"; echo oops >&2; exit 3'
startsecs=1
startretries=2
stdout_logfile=%(here)s/crasher.out
stderr_logfile=%(here)s/crasher.err
priority=20

[program:expected]
command=/bin/sh -c 'sleep 1.3; echo done; exit 2'
startsecs=1
autorestart=unexpected
exitcodes=0,2
stdout_logfile=%(here)s/expected.out
priority=30

[program:unexpected]
command=/bin/sh -c 'sleep 1.3; exit 5'
startsecs=1
autorestart=false
priority=40

[program:stubborn]
command=/bin/sh -c 'trap "echo got TERM" TERM; echo ready; while :; do sleep 0.1; done'
stopwaitsecs=1
stdout_logfile=%(here)s/stubborn.out
priority=50

[program:family]
command=/bin/sh -c 'sleep 300 & echo $! > %(here)s/grandchild.pid; wait'
stopasgroup=true
priority=60

[program:missing]
command=/no/such/program
priority=70

[program:nodir]
command=/bin/true
directory=/no/such/dir
startretries=0
priority=80

[program:redirected]
command=/bin/sh -c 'echo out; echo err >&2; exec sleep 300'
redirect_stderr=true
stdout_logfile=%(here)s/redirected.out
priority=90

[program:lazy]
command=/bin/sleep 300
autostart=false
priority=100

[group:pair]
programs=expected,unexpected
`;

type Info = { name: string; group: string; statename: string; exitstatus: number; spawnerr: string; description: string };
const runs = {} as Record<DaemonKind, { d: Daemon; infos: Info[]; files: Record<string, string>; log: string; grandchild: number }>;

async function settle(d: Daemon): Promise<Info[]> {
  // Steady: crasher gave up, nodir gave up, the rest up or exited.
  return pollUntil(
    async () => {
      const infos = (await d.rpc('supervisor.getAllProcessInfo')) as Info[];
      const by = Object.fromEntries(infos.map((i) => [i.name, i.statename]));
      const ok =
        by.crasher === 'FATAL' &&
        by.missing === 'FATAL' &&
        by.nodir === 'FATAL' &&
        by.envdump === 'RUNNING' &&
        by.stubborn === 'RUNNING' &&
        by.family === 'RUNNING' &&
        by.redirected === 'RUNNING' &&
        by.expected === 'EXITED' &&
        by.unexpected === 'EXITED';
      return ok && infos;
    },
    { timeout: 30_000, interval: 100, what: `${d.kind} to settle` },
  );
}

beforeAll(async () => {
  for (const kind of ['supervisord', 'fastvisor'] as const) {
    const d = await startDaemon(kind, CONFIG);
    const infos = await settle(d);
    await pollUntil(() => readFileSync(`${d.dir}/envdump.out`, 'utf8').includes('SUPERVISOR_SERVER_URL'), { what: 'env dump' });
    const grandchild = Number(readFileSync(`${d.dir}/grandchild.pid`, 'utf8'));
    // Stop the stubborn one (SIGKILL after stopwaitsecs) and the family (the whole group).
    await d.rpc('supervisor.stopProcess', 'stubborn');
    await d.rpc('supervisor.stopProcess', 'family');
    await pollUntil(() => !isAlive(grandchild), { what: 'grandchild killed with its group' });
    const files: Record<string, string> = {};
    for (const f of ['envdump.out', 'crasher.out', 'crasher.err', 'expected.out', 'stubborn.out', 'redirected.out']) {
      files[f] = readFileSync(`${d.dir}/${f}`, 'utf8').replaceAll(d.dir, '@DIR@');
    }
    await d.stop();
    runs[kind] = { d, infos, files, log: d.mainLog(), grandchild };
  }
}, 120_000);

afterAll(async () => {
  await stopAllDaemons();
  removeTmpDirs();
});

describe('fastvisor and supervisord on the same config', () => {
  it('end in the same states, exit statuses and spawn errors', () => {
    const norm = (infos: Info[]) =>
      infos.map((i) => ({
        name: i.name,
        group: i.group,
        statename: i.statename,
        exitstatus: i.exitstatus,
        spawnerr: i.spawnerr,
        description: i.statename === 'RUNNING' ? 'pid N, uptime' : i.statename === 'EXITED' ? 'stop time' : i.description,
      }));
    expect(norm(runs.fastvisor.infos)).toEqual(norm(runs.supervisord.infos));
  });

  it('give children the same environment', () => {
    const env = (kind: DaemonKind) => runs[kind].files['envdump.out']!;
    expect(env('fastvisor')).toEqual(env('supervisord'));
    expect(env('fastvisor')).toContain('SUPERVISOR_ENABLED=1');
    expect(env('fastvisor')).toContain('SUPERVISOR_PROCESS_NAME=envdump');
    expect(env('fastvisor')).toContain('SHARED=program wins');
  });

  it('write the same log files', () => {
    for (const f of Object.keys(runs.supervisord.files)) {
      expect(runs.fastvisor.files[f], f).toEqual(runs.supervisord.files[f]);
    }
    expect(runs.fastvisor.files['crasher.out']).toBe('attempt\nattempt\nattempt\n');
    expect(runs.fastvisor.files['redirected.out']).toBe('out\nerr\n');
    expect(runs.fastvisor.files['stubborn.out']).toBe('ready\ngot TERM\n');
  });

  it('tell the same story in the main log, program by program', () => {
    const sd = maskLog(runs.supervisord.log, runs.supervisord.d.dir);
    const fv = maskLog(runs.fastvisor.log, runs.fastvisor.d.dir);
    for (const name of ['envdump', 'crasher', 'expected', 'unexpected', 'stubborn', 'family', 'missing', 'nodir', 'redirected', 'lazy']) {
      expect(linesAbout(fv, name), name).toEqual(linesAbout(sd, name));
    }
    // Start in priority order, as supervisord: the first spawn lines.
    const spawned = (lines: string[]) => lines.filter((l) => l.startsWith('INFO spawned:')).map((l) => l.split("'")[1]);
    expect([...new Set(spawned(fv))]).toEqual([...new Set(spawned(sd))]);
  });

  it('stop everything at shutdown: nothing outlives either daemon', () => {
    for (const kind of ['supervisord', 'fastvisor'] as const) {
      for (const i of runs[kind].infos) expect(i.statename === 'RUNNING' ? isAlive(Number(/pid (\d+)/.exec(i.description)![1])) : false).toBe(false);
      expect(isAlive(runs[kind].grandchild)).toBe(false);
    }
  });
});
