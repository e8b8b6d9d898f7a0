// SPDX-License-Identifier: MIT
// depends_on= (fastvisor only) with a real daemon, real children and the real
// Python supervisorctl. The children record their own starts and stops in one
// file (rec.sh: `start NAME` at start, then `up` on stdout; on SIGTERM `stop NAME`,
// 0.2 s of work, `stopped NAME`), so the orders asserted are the ones the processes lived.
// Gates that the test opens itself (a file a health check looks for) keep the
// waits deterministic: no sleep-and-hope. A dependency a child-recorded order
// is asserted on has startsecs=1 (with startsecs=0 it is RUNNING at its spawn,
// and its own `start` line may come after its dependent's). Also: the config errors, a start by
// hand pulling in its dependency, FATAL dependencies, numprocs, stop all / a
// group, restart_dependents, and a config without the new options spawning
// and stopping in the same order as the real supervisord.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { launch, startDaemon, stopAllDaemons, supervisorctl, type Daemon, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { processInfo, waitInfo, waitState, type ProcessInfo } from '../../helpers/process-info.js';
import { isAlive } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);
afterAll(removeTmpDirs);

// `sleep 1000 &` + `wait`: the TERM trap runs at once; the sleep goes with it.
const REC_SH = `#!/bin/sh
name=$1
order=$(dirname "$0")/order
trap 'echo "stop $name" >> "$order"; sleep 0.2; echo "stopped $name" >> "$order"; kill $pid 2>/dev/null; exit 0' TERM
echo "start $name" >> "$order"
echo up
sleep 1000 &
pid=$!
wait $pid
`;

/** `command=` of a recording child */
const rec = (name: string): string => `command=/bin/sh %(here)s/rec.sh ${name}`;

async function start(body: string): Promise<Daemon> {
  const dir = tmpDir('fv-deps-');
  writeFileSync(path.join(dir, 'rec.sh'), REC_SH);
  return startDaemon('fastvisor', body, { dir });
}


/** The lines the children (and the test) wrote, in order. */
function order(d: Daemon): string[] {
  const f = path.join(d.dir, 'order');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

/** The record once it holds at least n lines: a child writes its line after it is RUNNING (startsecs=0) at the earliest. */
function orderOf(d: Daemon, n: number, keep: (l: string) => boolean = () => true): Promise<string[]> {
  return pollUntil(() => {
    const o = order(d).filter(keep);
    return o.length >= n ? o : null;
  }, { what: `${n} lines in the order record` });
}

/** Main-log lines without their time stamp. */
const logLines = (d: Daemon): string[] =>
  d
    .mainLog()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\S+ \S+ /, ''));

function logIndex(d: Daemon, line: string, from = 0): number {
  const i = logLines(d).indexOf(line, from);
  expect(i, `main log has ${JSON.stringify(line)}:\n${d.mainLog()}`).toBeGreaterThanOrEqual(0);
  return i;
}

/** One line of `supervisorctl status`: the name in 33 columns, the state in 10, then the description. */
const statusLine = (name: string, state: string, description: string): string => `${name.padEnd(33)}${state.padEnd(10)}${description}`;

describe('fastvisor: depends_on start and stop order', () => {
  it('a 3-level chain with an :exited migration and :healthy: starts in dependency order against priority, waits with a description, stops dependents first', async () => {
    // Priorities say web first, db last: depends_on must win over them.
    const d = await start(`
[program:db]
${rec('db')}
priority=4
startsecs=0
healthcheck=cmd:test -f %(here)s/db.go
healthcheck_interval=200ms
healthcheck_start_period=60s

[program:migrate]
command=/bin/sh -c 'echo "start migrate" >> %(here)s/order; while [ ! -f %(here)s/migrate.go ]; do sleep 0.05; done; echo "done migrate" >> %(here)s/order'
priority=3
startsecs=0
autorestart=false
depends_on=db:healthy

[program:api]
${rec('api')}
priority=2
startsecs=1
depends_on=db:healthy, migrate:exited

[program:web]
${rec('web')}
priority=1
startsecs=0
depends_on=api
`);
    // db runs, its health check fails (no db.go yet): everything else waits, without a child.
    await waitInfo(d, 'db', (i) => i.statename === 'RUNNING' && /; health starting$/.test(i.description), 'RUNNING, health starting');
    const api = await waitInfo(d, 'api', (i) => i.description !== '', 'a description');
    expect(api).toMatchObject({ statename: 'STARTING', pid: 0, description: 'waiting for db to be healthy (health starting), migrate to exit (STARTING)' });
    expect(await processInfo(d, 'migrate')).toMatchObject({ statename: 'STARTING', pid: 0, description: 'waiting for db to be healthy (health starting)' });
    expect(await processInfo(d, 'web')).toMatchObject({ statename: 'STARTING', pid: 0, description: 'waiting for api to be running (STARTING)' });
    expect((await processInfo(d, 'db')).description).toMatch(/^pid \d+, uptime 0:00:\d\d; health starting$/);

    // The real supervisorctl shows the waits as status lines (it sorts them by name).
    const status = supervisorctl(d.conf, ['status']);
    expect(status.stdout.trimEnd().split('\n')).toEqual([
      statusLine('api', 'STARTING', 'waiting for db to be healthy (health starting), migrate to exit (STARTING)'),
      expect.stringMatching(/^db {31}RUNNING {3}pid \d+, uptime 0:00:\d\d; health starting$/),
      statusLine('migrate', 'STARTING', 'waiting for db to be healthy (health starting)'),
      statusLine('web', 'STARTING', 'waiting for api to be running (STARTING)'),
    ]);
    expect(await orderOf(d, 1)).toEqual(['start db']);

    // db healthy: migrate starts (startsecs=0: RUNNING), api now waits for it alone.
    appendFileSync(path.join(d.dir, 'order'), 'go db\n');
    writeFileSync(path.join(d.dir, 'db.go'), '');
    await waitInfo(d, 'api', (i) => i.description === 'waiting for migrate to exit (RUNNING)', 'waiting for migrate only');
    expect((await processInfo(d, 'db')).description).toMatch(/; healthy$/);
    expect((await processInfo(d, 'web')).pid).toBe(0);

    // migrate exits 0 (expected): api, then web.
    appendFileSync(path.join(d.dir, 'order'), 'go migrate\n');
    writeFileSync(path.join(d.dir, 'migrate.go'), '');
    await waitState(d, 'web', 'RUNNING');
    expect(await processInfo(d, 'migrate')).toMatchObject({ statename: 'EXITED', exitstatus: 0 });
    expect(await orderOf(d, 7)).toEqual(['start db', 'go db', 'start migrate', 'go migrate', 'done migrate', 'start api', 'start web']);
    const log = logLines(d);
    expect(log.indexOf("INFO spawned: 'api' with pid " + (await processInfo(d, 'api')).pid)).toBeGreaterThan(log.indexOf('INFO exited: migrate (exit status 0; expected)'));

    // Shutdown: web, then api, then db, each once the one before is STOPPED.
    expect(await d.stop()).toBe(0);
    expect(order(d).slice(7)).toEqual(['stop web', 'stopped web', 'stop api', 'stopped api', 'stop db', 'stopped db']);
  });

  it('start x pulls in a dependency that is down: "starting db: web depends on it", db RUNNING before web is spawned, "web: started"', async () => {
    const d = await start(`
[program:db]
${rec('db')}
autostart=false
startsecs=1

[program:web]
${rec('web')}
autostart=false
startsecs=0
depends_on=db
`);
    expect((await processInfo(d, 'db')).statename).toBe('STOPPED');
    const r = supervisorctl(d.conf, ['start', 'web']);
    expect(r.stdout).toBe('web: started\n');
    expect((await processInfo(d, 'web')).statename).toBe('RUNNING');
    expect((await processInfo(d, 'db')).statename).toBe('RUNNING');
    expect(await orderOf(d, 2)).toEqual(['start db', 'start web']);
    const pulled = logIndex(d, 'INFO starting db: web depends on it');
    const dbUp = logIndex(d, 'INFO success: db entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)', pulled);
    const webSpawned = logLines(d).findIndex((l) => l.startsWith("INFO spawned: 'web' with pid "));
    expect(webSpawned).toBeGreaterThan(dbUp);
  });

  it('a waiting process in the real supervisorctl: STARTING with what it waits for, no pid; stop ends the wait and it never ran', async () => {
    // db takes 3 s to count as started: web waits all along.
    const d = await start(`
[program:db]
${rec('db')}
startsecs=3

[program:web]
${rec('web')}
startsecs=0
depends_on=db
`);
    await waitInfo(d, 'db', (i) => i.statename === 'STARTING' && i.pid > 0, 'STARTING with a child');
    await waitInfo(d, 'web', (i) => i.description !== '', 'a description');
    const status = supervisorctl(d.conf, ['status', 'web']);
    expect(status.stdout).toBe(`${statusLine('web', 'STARTING', 'waiting for db to be running (STARTING)')}\n`);
    expect(status.status).toBe(0);
    expect((await processInfo(d, 'web')).pid).toBe(0);
    expect((await d.rpc('supervisor.getAllProcessInfo')) as unknown as ProcessInfo[]).toContainEqual(
      expect.objectContaining({ name: 'web', statename: 'STARTING', pid: 0, description: 'waiting for db to be running (STARTING)' }),
    );

    expect(supervisorctl(d.conf, ['stop', 'web']).stdout).toBe('web: stopped\n');
    expect(await processInfo(d, 'web')).toMatchObject({ statename: 'STOPPED', pid: 0 });
    expect(logLines(d)).toContain('INFO stopped: web (was waiting for its dependencies)');
    // db goes on starting; web stays down (a stop is a stop).
    await waitState(d, 'db', 'RUNNING');
    expect((await processInfo(d, 'web')).statename).toBe('STOPPED');
    expect(await orderOf(d, 1)).toEqual(['start db']);
  });

  it('a FATAL dependency, and an :exited one-shot with an unexpected status, fail their dependents with the reason', async () => {
    const d = await start(`
[program:db]
command=/bin/sh -c 'exit 1'
startsecs=1
startretries=0

[program:web]
${rec('web')}
startsecs=0
depends_on=db

[program:migrate]
command=/bin/sh -c 'sleep 0.2; exit 3'
startsecs=0
autorestart=false
exitcodes=0

[program:api]
${rec('api')}
startsecs=0
depends_on=migrate:exited
`);
    const web = await waitState(d, 'web', 'FATAL');
    expect(web).toMatchObject({ pid: 0, spawnerr: 'dependency db is FATAL (depends_on db)', description: 'dependency db is FATAL (depends_on db)' });
    expect((await processInfo(d, 'db')).statename).toBe('FATAL');
    expect(logLines(d)).toContain('INFO gave up: web entered FATAL state, dependency db is FATAL (depends_on db)');

    const api = await waitState(d, 'api', 'FATAL');
    const why = 'dependency migrate exited with an unexpected status (depends_on migrate:exited)';
    expect(api).toMatchObject({ pid: 0, spawnerr: why, description: why });
    expect(await processInfo(d, 'migrate')).toMatchObject({ statename: 'EXITED', exitstatus: 3 });
    expect(logLines(d)).toContain(`INFO gave up: api entered FATAL state, ${why}`);

    const status = supervisorctl(d.conf, ['status', 'web', 'api']);
    expect(status.stdout).toBe(`${statusLine('web', 'FATAL', 'dependency db is FATAL (depends_on db)')}\n${statusLine('api', 'FATAL', why)}\n`);
    // Neither ever ran.
    expect(order(d)).toEqual([]);
  });

  it('numprocs: depends_on=db means every db process; a start by hand pulls in only the one that is down', async () => {
    const d = await start(`
[program:db]
${rec('db_%(process_num)s')}
process_name=db_%(process_num)s
numprocs=2
autostart=false
startsecs=1

[program:web]
${rec('web')}
autostart=false
startsecs=0
depends_on=db
`);
    expect(supervisorctl(d.conf, ['start', 'db:db_0']).stdout).toBe('db:db_0: started\n');
    // startProcess without waiting: web's answer comes at once, and web waits for db_1 alone.
    expect(await d.rpc('supervisor.startProcess', 'web', false)).toBe(true);
    const w = await waitInfo(d, 'web', (i) => i.description !== '', 'a description');
    expect(w).toMatchObject({ statename: 'STARTING', pid: 0, description: 'waiting for db_1 to be running (STARTING)' });
    await waitState(d, 'web', 'RUNNING');
    const log = logLines(d);
    expect(log).toContain('INFO starting db_1: web depends on it');
    expect(log).not.toContain('INFO starting db_0: web depends on it');
    const db1Up = logIndex(d, 'INFO success: db_1 entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)');
    expect(log.findIndex((l) => l.startsWith("INFO spawned: 'web' with pid "))).toBeGreaterThan(db1Up);
    expect(await orderOf(d, 3)).toEqual(['start db_0', 'start db_1', 'start web']);
  });

  it('stop all, reload and stop <group>: dependents first, one at a time; start all and the reload: dependencies first; g:* means every process of group g', async () => {
    // Priorities are the reverse of the dependencies; and without depends_on stop all
    // signals every process at once. The dependencies are RUNNING once they print `up`
    // (ready=log:, after rec.sh wrote their `start` line): three start cycles without
    // waiting a startsecs each.
    const d = await start(`
[program:a]
${rec('a')}
ready=log:^up$
startsecs=10
priority=30

[program:b]
${rec('b')}
ready=log:^up$
startsecs=10
priority=20
depends_on=a

[program:c]
${rec('c')}
ready=log:^up$
startsecs=10
priority=10
depends_on=b

[program:x]
${rec('x')}
startsecs=0
depends_on=g:*

[program:y]
${rec('y')}
startsecs=0

[group:g]
programs=a,b,c
`);
    for (const n of ['g:a', 'g:b', 'g:c', 'x', 'y']) await waitState(d, n, 'RUNNING');
    // y depends on nothing and nothing on it: it comes and goes with the first.
    const ys = (): string[] => order(d).filter((l) => l.endsWith(' y'));
    const abc = (): string[] => order(d).filter((l) => !l.endsWith(' x') && !l.endsWith(' y'));
    // x waits for every process of group g (g:*).
    expect(await orderOf(d, 4, (l) => !l.endsWith(' y'))).toEqual(['start a', 'start b', 'start c', 'start x']);

    const stopAll = supervisorctl(d.conf, ['stop', 'all']);
    expect(stopAll.stdout.trimEnd().split('\n').sort()).toEqual(['g:a: stopped', 'g:b: stopped', 'g:c: stopped', 'x: stopped', 'y: stopped']);
    const stops = ['stop c', 'stopped c', 'stop b', 'stopped b', 'stop a', 'stopped a'];
    expect(order(d).filter((l) => !l.endsWith(' y')).slice(4)).toEqual(['stop x', 'stopped x', ...stops]);
    expect(order(d).indexOf('stop y')).toBeLessThan(order(d).indexOf('stopped x'));
    for (const n of ['g:a', 'g:b', 'g:c', 'x', 'y']) expect((await processInfo(d, n)).statename).toBe('STOPPED');
    expect(supervisorctl(d.conf, ['start', 'y']).stdout).toBe('y: started\n');

    // start all goes in priority order: c first, which pulls in b and a (so they may be
    // started already when their turn comes and not be listed, as supervisord's make_allfunc
    // skips a process that no longer qualifies). Every line is a success, and once it
    // returns all four run.
    const startAll = supervisorctl(d.conf, ['start', 'all']).stdout.trimEnd().split('\n');
    expect(startAll).toEqual(expect.arrayContaining(['g:c: started', 'x: started']));
    for (const l of startAll) expect(['g:a: started', 'g:b: started', 'g:c: started', 'x: started']).toContain(l);
    for (const n of ['g:a', 'g:b', 'g:c', 'x']) expect((await processInfo(d, n)).statename).toBe('RUNNING');
    expect(abc().slice(9)).toEqual(['start a', 'start b', 'start c']);
    expect(logLines(d)).toContain('INFO starting b: c depends on it');

    // reload: everything stops in dependency order, then starts again in it.
    const before = order(d).length;
    expect(ys()).toEqual(['start y', 'stop y', 'stopped y', 'start y']);
    expect(supervisorctl(d.conf, ['reload']).stdout).toBe('Restarted supervisord\n');
    await pollUntil(() => order(d).slice(before).filter((l) => l.startsWith('start ')).length >= 5, { what: 'five starts after the reload' });
    for (const n of ['g:a', 'g:b', 'g:c', 'x', 'y']) await waitState(d, n, 'RUNNING');
    expect(order(d).slice(before).filter((l) => !l.endsWith(' y'))).toEqual(['stop x', 'stopped x', ...stops, 'start a', 'start b', 'start c', 'start x']);

    // stop of a group orders the group's processes (x, outside it, is not stopped).
    const beforeGroup = order(d).length;
    expect(supervisorctl(d.conf, ['stop', 'g:*']).stdout.trimEnd().split('\n').sort()).toEqual(['g:a: stopped', 'g:b: stopped', 'g:c: stopped']);
    expect(order(d).slice(beforeGroup)).toEqual(stops);
    expect((await processInfo(d, 'x')).statename).toBe('RUNNING');
  });

  it('an automatic restart only waits: it does not start a dependency stopped by hand; a start by hand of it lets the dependent go on', async () => {
    // startsecs=1: db's start is written well before web may start.
    const d = await start(`
[program:db]
${rec('db')}
startsecs=1

[program:web]
${rec('web')}
startsecs=0
autorestart=true
depends_on=db
`);
    await waitState(d, 'db', 'RUNNING');
    const web1 = await waitState(d, 'web', 'RUNNING');
    // Without restart_dependents, stopping db leaves web alone.
    expect(supervisorctl(d.conf, ['stop', 'db']).stdout).toBe('db: stopped\n');
    expect((await processInfo(d, 'web')).pid).toBe(web1.pid);
    // web dies; its autorestart waits for db and does not start it.
    process.kill(-web1.pid, 'SIGKILL'); // its group: sh and its sleep
    const w = await waitInfo(d, 'web', (i) => i.statename === 'STARTING' && i.description !== '', 'waiting');
    expect(w).toMatchObject({ pid: 0, description: 'waiting for db to be running (STOPPED)' });
    expect((await processInfo(d, 'db')).statename).toBe('STOPPED');
    expect(logLines(d)).not.toContain('INFO starting db: web depends on it');
    expect(supervisorctl(d.conf, ['status', 'web']).stdout).toBe(`${statusLine('web', 'STARTING', 'waiting for db to be running (STOPPED)')}\n`);
    // Once someone starts db, web goes on by itself.
    expect(supervisorctl(d.conf, ['start', 'db']).stdout).toBe('db: started\n');
    const web2 = await waitState(d, 'web', 'RUNNING');
    expect(web2.pid).not.toBe(web1.pid);
    expect(await orderOf(d, 4, (l) => l.startsWith('start '))).toEqual(['start db', 'start web', 'start db', 'start web']);
  });

  it('a start by hand pulls in a FATAL dependency too (it is down), and the dependent starts once it runs', async () => {
    // A start by hand starts dependencies that are down: STOPPED, EXITED or FATAL (only
    // automatic restarts just wait). db fails until the file db.ok exists.
    const d = await start(`
[program:db]
command=/bin/sh -c 'test -f %(here)s/db.ok || exit 1; exec /bin/sh %(here)s/rec.sh db'
startsecs=1
startretries=0

[program:web]
${rec('web')}
startsecs=0
depends_on=db
`);
    await waitState(d, 'db', 'FATAL');
    await waitState(d, 'web', 'FATAL');
    writeFileSync(path.join(d.dir, 'db.ok'), '');
    const r = supervisorctl(d.conf, ['start', 'web']);
    expect({ stdout: r.stdout, db: (await processInfo(d, 'db')).statename }).toEqual({ stdout: 'web: started\n', db: 'RUNNING' });
    expect(logLines(d)).toContain('INFO starting db: web depends on it');
    expect(await orderOf(d, 2)).toEqual(['start db', 'start web']);
  });

  it('restart_dependents: the dependency SIGKILLed by pid comes back and its dependent is restarted after it (new pid); a stop by hand stops the dependent', async () => {
    const d = await start(`
[program:db]
${rec('db')}
startsecs=1
autorestart=true
restart_dependents=true

[program:web]
${rec('web')}
startsecs=0
depends_on=db

[program:other]
${rec('other')}
startsecs=0
`);
    const db1 = await waitState(d, 'db', 'RUNNING');
    const web1 = await waitState(d, 'web', 'RUNNING');
    const other = await waitState(d, 'other', 'RUNNING');
    const dbweb = (): string[] => order(d).filter((l) => !l.endsWith(' other'));
    // web (startsecs=0) is RUNNING at its spawn: its line (and its TERM trap, set before it) may come later.
    expect(await orderOf(d, 2, (l) => !l.endsWith(' other'))).toEqual(['start db', 'start web']);

    process.kill(-db1.pid, 'SIGKILL'); // its group: sh and its sleep
    const web2 = await waitInfo(d, 'web', (i) => i.statename === 'RUNNING' && i.pid !== web1.pid, 'RUNNING with a new pid');
    const db2 = await processInfo(d, 'db');
    expect(db2.statename).toBe('RUNNING');
    expect(db2.pid).not.toBe(db1.pid);
    expect(isAlive(web1.pid)).toBe(false);
    // web was stopped (its trap ran), and started again only once db was back.
    await orderOf(d, 2, (l) => l === 'start web');
    const o = dbweb();
    expect(o.slice(0, 2)).toEqual(['start db', 'start web']);
    expect(o.filter((l) => l === 'start web')).toHaveLength(2);
    expect(o.lastIndexOf('start web')).toBeGreaterThan(o.lastIndexOf('start db'));
    expect(o.indexOf('stopped web')).toBeGreaterThan(1);
    expect(o.indexOf('stopped web')).toBeLessThan(o.lastIndexOf('start web'));
    const log = logLines(d);
    expect(log).toContain('WARN restarting web: db restarted (restart_dependents)');
    const db2Up = log.lastIndexOf('INFO success: db entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)');
    expect(log.indexOf(`INFO spawned: 'web' with pid ${web2.pid}`)).toBeGreaterThan(db2Up);
    // A process that does not depend on db was left alone.
    expect((await processInfo(d, 'other')).pid).toBe(other.pid);

    // A stop by hand stops its dependents too.
    expect(supervisorctl(d.conf, ['stop', 'db']).stdout).toBe('db: stopped\n');
    await waitState(d, 'web', 'STOPPED');
    expect(logLines(d)).toContain('INFO stopping web: db is stopping (restart_dependents)');
    expect((await processInfo(d, 'other')).statename).toBe('RUNNING');
  });
  it('restart_dependents: a dependency that exits and is not restarted leaves its restarted dependent FATAL, with the reason', async () => {
    const d = await start(`
[program:db]
${rec('db')}
startsecs=1
autorestart=false
restart_dependents=true

[program:web]
${rec('web')}
startsecs=0
depends_on=db
`);
    const db = await waitState(d, 'db', 'RUNNING');
    const web = await waitState(d, 'web', 'RUNNING');
    // web's TERM trap is set before its `start` line: once the line is there, its stop gets recorded.
    expect(await orderOf(d, 2)).toEqual(['start db', 'start web']);
    process.kill(-db.pid, 'SIGKILL'); // its group: sh and its sleep
    const failed = await waitState(d, 'web', 'FATAL');
    expect(failed).toMatchObject({ pid: 0, spawnerr: 'dependency db exited (depends_on db)' });
    expect(isAlive(web.pid)).toBe(false);
    expect((await processInfo(d, 'db')).statename).toBe('EXITED');
    const log = logLines(d);
    expect(log).toContain('WARN restarting web: db restarted (restart_dependents)');
    expect(log).toContain('INFO gave up: web entered FATAL state, dependency db exited (depends_on db)');
    expect(await orderOf(d, 4)).toEqual(['start db', 'start web', 'stop web', 'stopped web']);
  });
});

describe('fastvisor: depends_on config errors stop start-up (exit 2, "Error: ...")', () => {
  const BASE = '[supervisord]\nlogfile=@DIR@/sd.log\npidfile=@DIR@/sd.pid\n';
  const cases: Record<string, { text: string; error: string }> = {
    'a cycle': {
      text: `${BASE}[program:a]\ncommand=/bin/sleep 300\ndepends_on=b\n[program:b]\ncommand=/bin/sleep 300\ndepends_on=c\n[program:c]\ncommand=/bin/sleep 300\ndepends_on=a\n`,
      error: "Error: [program:a] depends_on: dependency cycle: a -> b -> c -> a (file: '@DIR@/c.conf')",
    },
    'an unknown name': {
      text: `${BASE}[program:a]\ncommand=/bin/sleep 300\n[program:web]\ncommand=/bin/sleep 300\ndepends_on=a, nosuch\n`,
      error: "Error: [program:web] depends_on: unknown program 'nosuch' (file: '@DIR@/c.conf')",
    },
    'an unknown condition': {
      text: `${BASE}[program:db]\ncommand=/bin/sleep 300\n[program:web]\ncommand=/bin/sleep 300\ndepends_on=db:started\n`,
      error: "Error: [program:web] depends_on: 'db:started': unknown condition 'started' (use running, healthy or exited) (file: '@DIR@/c.conf')",
    },
    ':healthy without a health check': {
      text: `${BASE}[program:db]\ncommand=/bin/sleep 300\n[program:web]\ncommand=/bin/sleep 300\ndepends_on=db:healthy\n`,
      error: "Error: [program:web] depends_on: 'db:healthy' needs a healthcheck in [program:db] (file: '@DIR@/c.conf')",
    },
  };
  for (const [what, c] of Object.entries(cases)) {
    it(what, () => {
      const dir = tmpDir('fv-deps-conf-');
      const conf = path.join(dir, 'c.conf');
      writeFileSync(conf, c.text.replaceAll('@DIR@', dir));
      const r = launch('fastvisor', ['-n', '-c', conf], dir);
      expect(r.status).toBe(2);
      const out = (r.stderr + r.stdout).replaceAll(dir, '@DIR@').replace(/For help, use \S+ -h/g, 'For help, use PROG -h');
      expect(out).toBe(`${c.error}\nFor help, use PROG -h\n`);
      // Refused before anything ran: no log file, no child.
      expect(existsSync(path.join(dir, 'sd.log'))).toBe(false);
    });
  }
});

describe('without the new options, nothing changes', () => {
  it('spawns in the same priority order as the real supervisord, and stops in the same order at shutdown', async () => {
    const body = `
[program:p500]
command=/bin/sleep 300
priority=500
startsecs=0

[program:p10]
command=/bin/sleep 300
priority=10
startsecs=0

[program:p999a]
command=/bin/sleep 300
startsecs=0

[program:p200]
command=/bin/sleep 300
priority=200
startsecs=0

[program:p999b]
command=/bin/sleep 300
startsecs=0

[program:g1]
command=/bin/sleep 300
priority=50
startsecs=0

[program:g2]
command=/bin/sleep 300
priority=60
startsecs=0

[group:grp]
programs=g2,g1
priority=300

[program:off]
command=/bin/sleep 300
priority=1
autostart=false
`;
    const names = ['p500', 'p10', 'p999a', 'p200', 'p999b', 'grp:g1', 'grp:g2'];
    const run = async (kind: DaemonKind): Promise<{ spawned: string[]; stopped: string[] }> => {
      const d = await startDaemon(kind, body);
      for (const n of names) await waitState(d, n, 'RUNNING');
      const pick = (re: RegExp): string[] => d.mainLog().split('\n').flatMap((l) => re.exec(l)?.[1] ?? []);
      const spawned = pick(/INFO spawned: '(\S+)' with pid/);
      expect(await d.stop()).toBe(0);
      // Within group grp both are signalled at once: which is reaped first is a race.
      const stopped = pick(/(?:INFO|WARN) stopped: (\S+) \(terminated by SIGTERM\)/).map((n) => (n === 'g1' || n === 'g2' ? 'grp' : n));
      return { spawned, stopped };
    };
    const [ours, theirs] = await Promise.all([run('fastvisor'), run('supervisord')]);
    expect(theirs.spawned).toHaveLength(7);
    expect(theirs.stopped).toHaveLength(7);
    // Group priority first (grp is 300), as supervisord does it.
    expect(theirs.spawned.slice(0, 2)).toEqual(['p10', 'p200']);
    expect(theirs.stopped.slice(0, 3)).toEqual(['p999b', 'p999a', 'p500']);
    expect(ours).toEqual(theirs);
  });
});
