// SPDX-License-Identifier: MIT
// healthcheck= (fastvisor only) with a real daemon and real children: an
// HTTP server child that starts answering 503 when the test says so
// (health_server.py), restarted and reported to a real event listener
// (events/listener.py, supervisor.childutils); cmd checks run as the
// program's user in its directory and environment, and a timed-out check's
// whole process group killed; a tcp check with a dependent waiting for
// `healthy`; healthcheck_action=none; /healthz and /readyz behind Basic auth;
// fastvisor.getProcessHealth through Python's xmlrpc.client; the real
// supervisorctl's status lines. Intervals are 500 ms; every wait polls.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, supervisorctl, type Daemon } from '../../helpers/daemon-harness.js';
import { freePort, runPython } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { processInfo, waitInfo } from '../../helpers/process-info.js';
import { isAlive, killTracked, procStat } from '../../helpers/procs.js';
import { PYTHON } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  killTracked();
  await stopAllDaemons();
});
afterAll(removeTmpDirs);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LISTENER = path.join(HERE, '..', 'events', 'listener.py');

interface Health {
  name: string;
  group: string;
  health: string;
  failures: number;
  checks: number;
  detail: string;
  last_check: number;
  since: number;
}

const health = async (d: Daemon, name: string): Promise<Health> => (await d.rpc('fastvisor.getProcessHealth', name)) as unknown as Health;

function waitHealth(d: Daemon, name: string, pred: (h: Health) => boolean, what: string, timeout = 10_000): Promise<Health> {
  return pollUntil(
    async () => {
      const h = await health(d, name);
      return pred(h) && h;
    },
    { timeout, interval: 20, what: `${name}: ${what}` },
  );
}

const logLines = (d: Daemon): string[] =>
  d
    .mainLog()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\S+ \S+ /, ''));

function recs(d: Daemon, name: string): string[] {
  const f = path.join(d.dir, `${name}.rec`);
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

const touch = (d: Daemon, file: string): void => writeFileSync(path.join(d.dir, file), '');

/** `command=` of health_server.py */
const server = (port: number, name: string, mode: 'http' | 'tcp'): string => `command=${PYTHON} -u ${HERE}/health_server.py ${port} %(here)s ${name} ${mode}`;

interface Rec {
  h?: Record<string, string>;
  p?: string;
}

/** The health events listener.py recorded (its start lines and any other event left out). */
function events(d: Daemon): Rec[] {
  const f = path.join(d.dir, 'health.jsonl');
  if (!existsSync(f)) return [];
  const text = readFileSync(f, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec)
    .filter((r) => r.h?.eventname?.startsWith('PROCESS_HEALTH_'));
}

/** Processes (not zombies) in process group pgid. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(name);
    if (st && st.pgid === pgid && st.state !== 'Z') out.push(Number(name));
  }
  return out;
}

function stateOf(pid: number): string {
  return procStat(pid)?.state ?? 'gone';
}

function pgidOf(pid: number): number | null {
  return procStat(pid)?.pgid ?? null;
}

/** One GET over TCP, with Basic auth when given. */
function get(port: number, urlPath: string, auth?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {};
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: 'GET', agent: false, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

type PyResult = { ok: Health } | { fault: number; text: string };

/** fastvisor.getProcessHealth through Python's xmlrpc.client (supervisor's unix-socket transport, as supervisorctl). */
function pyHealth(d: Daemon, names: string[]): Promise<PyResult[]> {
  return runPython<PyResult[]>(
    `import json, sys, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
a = json.load(sys.stdin)
p = xmlrpc.client.ServerProxy('http://127.0.0.1', SupervisorTransport(None, None, 'unix://' + a['sock']))
out = []
for n in a['names']:
    try:
        out.append({'ok': p.fastvisor.getProcessHealth(n)})
    except xmlrpc.client.Fault as e:
        out.append({'fault': e.faultCode, 'text': e.faultString})
print(json.dumps(out))`,
    { sock: d.sock, names },
  );
}

describe('fastvisor: healthcheck = http://', () => {
  it('a server that starts answering 503: unhealthy, restarted (new pid); restart_dependents restarts its dependent once it is healthy again', async () => {
    const port = await freePort();
    const d = await startDaemon(
      'fastvisor',
      `[program:web]
${server(port, 'web', 'http')}
startsecs=0
healthcheck=http://127.0.0.1:${port}/health
healthcheck_interval=500ms
healthcheck_timeout=1s
healthcheck_retries=2
healthcheck_start_period=10s
restart_dependents=true

[program:app]
command=/bin/sleep 1000
startsecs=0
depends_on=web:healthy
`,
    );
    const web1 = await waitInfo(d, 'web', (i) => /; healthy$/.test(i.description), 'healthy');
    expect(web1).toMatchObject({ statename: 'RUNNING', description: expect.stringMatching(/^pid \d+, uptime 0:00:\d\d; healthy$/) });
    const app1 = await waitInfo(d, 'app', (i) => i.statename === 'RUNNING', 'RUNNING');
    // The check's requests, as the child saw them.
    expect(recs(d, 'web')).toContain('GET /health 200 fastvisor-healthcheck');
    expect(logLines(d)).toContain('INFO health: web is healthy (HTTP 200)');
    expect(await health(d, 'web')).toMatchObject({ name: 'web', group: 'web', health: 'healthy', failures: 0, detail: 'HTTP 200' });

    // 503 from now on: two failed checks, unhealthy, restarted.
    touch(d, 'web.fail');
    const web2 = await waitInfo(d, 'web', (i) => i.statename === 'RUNNING' && i.pid !== web1.pid, 'RUNNING with a new pid');
    expect(isAlive(web1.pid)).toBe(false);
    expect(recs(d, 'web')).toContain('GET /health 503 fastvisor-healthcheck');
    expect(recs(d, 'web')).toContain('signal SIGTERM');
    const log = logLines(d);
    const unhealthy = log.indexOf('WARN health: web is unhealthy after 2 failed checks (HTTP 503)');
    const restarting = log.indexOf('WARN restarting web: health check failed 2 times (HTTP 503)');
    expect(unhealthy).toBeGreaterThan(0);
    expect(restarting).toBeGreaterThan(unhealthy);
    expect(log.slice(restarting).some((l) => l.startsWith(`INFO spawned: 'web' with pid ${web2.pid}`))).toBe(true);
    // The new child is inside its start period (its 503s do not count); app waits for it.
    const waiting = await waitInfo(d, 'app', (i) => i.statename === 'STARTING', 'waiting again');
    expect(waiting).toMatchObject({ pid: 0, description: 'waiting for web to be healthy (health starting)' });
    expect(logLines(d)).toContain('WARN restarting app: web restarted (restart_dependents)');
    expect(isAlive(app1.pid)).toBe(false);

    rmSync(path.join(d.dir, 'web.fail'));
    const app2 = await waitInfo(d, 'app', (i) => i.statename === 'RUNNING', 'RUNNING again');
    expect(app2.pid).not.toBe(app1.pid);
    expect(await processInfo(d, 'web')).toMatchObject({ pid: web2.pid, description: expect.stringMatching(/; healthy$/) });
    expect(logLines(d).filter((l) => l.startsWith('WARN restarting web'))).toHaveLength(1);
  });

  it('PROCESS_HEALTH_HEALTHY / PROCESS_HEALTH_UNHEALTHY reach a real event listener subscribed with events=PROCESS_HEALTH', async () => {
    const port = await freePort();
    const d = await startDaemon(
      'fastvisor',
      `[program:web]
${server(port, 'web', 'http')}
startsecs=0
healthcheck=http://127.0.0.1:${port}/health
healthcheck_interval=500ms
healthcheck_retries=2
healthcheck_start_period=10s

[eventlistener:health]
command=${PYTHON} -u ${LISTENER} %(here)s/health.jsonl record
events=PROCESS_HEALTH
startsecs=0
`,
    );
    const web1 = await waitInfo(d, 'web', (i) => /; healthy$/.test(i.description), 'healthy');
    await pollUntil(() => events(d).length >= 1, { what: 'the HEALTHY event' });
    touch(d, 'web.fail');
    const web2 = await waitInfo(d, 'web', (i) => i.statename === 'RUNNING' && i.pid !== web1.pid, 'RUNNING with a new pid');
    rmSync(path.join(d.dir, 'web.fail'));
    await pollUntil(() => events(d).length >= 3, { what: 'three events' });
    const got = events(d);
    expect(got.map((e) => [e.h!.eventname, e.p])).toEqual([
      ['PROCESS_HEALTH_HEALTHY', `processname:web groupname:web pid:${web1.pid} from_health:starting failures:0\nHTTP 200`],
      ['PROCESS_HEALTH_UNHEALTHY', `processname:web groupname:web pid:${web1.pid} from_health:healthy failures:2\nHTTP 503`],
      ['PROCESS_HEALTH_HEALTHY', `processname:web groupname:web pid:${web2.pid} from_health:starting failures:0\nHTTP 200`],
    ]);
    // The headers of supervisord's protocol, len in characters of the payload.
    for (const e of got) expect(e.h).toMatchObject({ ver: '3.0', server: 'supervisor', pool: 'health', len: String(e.p!.length) });
  });
});

describe('fastvisor: healthcheck = cmd:', () => {
  it("exit 0 healthy, exit 1 unhealthy; run as the program's user in its directory and environment; action=none leaves it running; status lines and getProcessHealth via Python", async () => {
    const dir = tmpDir('fv-health-');
    // The program runs as nobody: its directory and the files the check uses are for all.
    chmodSync(dir, 0o755);
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    chmodSync(sub, 0o777);
    writeFileSync(path.join(sub, 'code'), '0\n');
    chmodSync(path.join(sub, 'code'), 0o666);
    const d = await startDaemon(
      'fastvisor',
      `[program:web]
command=/bin/sleep 1000
startsecs=0
user=nobody
directory=%(here)s/sub
environment=MYVAR="hello there"
healthcheck=cmd:echo "$(id -un) $MYVAR $(pwd)" >> checks; c=$(cat code); echo "code $c"; exit $c
healthcheck_interval=500ms
healthcheck_retries=2
healthcheck_action=none

[program:plain]
command=/bin/sleep 1000
startsecs=0
`,
      { dir },
    );
    const web = await waitInfo(d, 'web', (i) => /; healthy$/.test(i.description), 'healthy');
    expect(readFileSync(path.join(sub, 'checks'), 'utf8').split('\n')[0]).toBe(`nobody hello there ${sub}`);
    const [healthy, plain, missing] = await pyHealth(d, ['web', 'plain', 'nosuch']);
    const now = Date.now() / 1000;
    expect(healthy).toEqual({
      ok: { name: 'web', group: 'web', health: 'healthy', failures: 0, checks: expect.any(Number), detail: 'exit status 0: code 0', last_check: expect.any(Number), since: expect.any(Number) },
    });
    const h = (healthy as { ok: Health }).ok;
    expect(h.checks).toBeGreaterThanOrEqual(1);
    expect(Math.abs(h.last_check - now)).toBeLessThan(10);
    expect(Math.abs(h.since - now)).toBeLessThan(10);
    expect(plain).toEqual({ ok: { name: 'plain', group: 'plain', health: 'none', failures: 0, checks: 0, detail: '', last_check: 0, since: 0 } });
    expect(missing).toEqual({ fault: 10, text: 'BAD_NAME: nosuch' });

    // exit 1 from now on: unhealthy after 2, and it stays running (action=none), same pid.
    writeFileSync(path.join(sub, 'code'), '1\n');
    const sick = await waitInfo(d, 'web', (i) => /; unhealthy/.test(i.description), 'unhealthy');
    expect(sick).toMatchObject({ statename: 'RUNNING', pid: web.pid });
    expect(sick.description).toMatch(/^pid \d+, uptime 0:00:\d\d; unhealthy \(\d+ failed checks: exit status 1: code 1\)$/);
    expect(logLines(d)).toContain('WARN health: web is unhealthy after 2 failed checks (exit status 1: code 1)');
    const status = supervisorctl(d.conf, ['status']);
    expect(status.stdout).toMatch(new RegExp(`^web {30}RUNNING {3}pid ${web.pid}, uptime 0:00:\\d\\d; unhealthy \\(\\d+ failed checks: exit status 1: code 1\\)$`, 'm'));
    expect(status.stdout).toMatch(/^plain {28}RUNNING {3}pid \d+, uptime 0:00:\d\d$/m);
    const [unhealthy] = await pyHealth(d, ['web']);
    expect(unhealthy).toMatchObject({ ok: { health: 'unhealthy', detail: 'exit status 1: code 1' } });
    expect((unhealthy as { ok: Health }).ok.failures).toBeGreaterThanOrEqual(2);
    // Checks go on at the interval: more failures, still no restart.
    await waitHealth(d, 'web', (x) => x.failures >= 4, '4 failures');
    expect(await processInfo(d, 'web')).toMatchObject({ statename: 'RUNNING', pid: web.pid });
    expect(logLines(d).some((l) => l.startsWith('WARN restarting web'))).toBe(false);

    // exit 0 again: healthy, failures 0.
    writeFileSync(path.join(sub, 'code'), '0\n');
    await waitHealth(d, 'web', (x) => x.health === 'healthy', 'healthy again');
    expect(await health(d, 'web')).toMatchObject({ failures: 0, detail: 'exit status 0: code 0' });
    expect((await processInfo(d, 'web')).pid).toBe(web.pid);

    // Stopped: health off, the last detail kept.
    expect(supervisorctl(d.conf, ['stop', 'web']).stdout).toBe('web: stopped\n');
    expect(await health(d, 'web')).toMatchObject({ health: 'off', detail: 'exit status 0: code 0' });
  });

  it("a check past healthcheck_timeout is killed with its whole process group (the shell and its sleep 30)", async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:slow]
command=/bin/sleep 1000
startsecs=0
healthcheck=cmd:echo $$ >> %(here)s/check.pids; sleep 30 & echo $! >> %(here)s/sleep.pids; wait
healthcheck_interval=10s
healthcheck_timeout=1s
healthcheck_retries=1
healthcheck_action=none
`,
    );
    const firstLine = (f: string): number | null => {
      const p = path.join(d.dir, f);
      const line = existsSync(p) ? readFileSync(p, 'utf8').split('\n')[0] : '';
      return line ? Number(line) : null;
    };
    const [shell, sleeper] = await pollUntil(() => {
      const a = firstLine('check.pids');
      const b = firstLine('sleep.pids');
      return a !== null && b !== null && ([a, b] as const);
    }, { what: 'the check to start its sleep' });
    // The check runs in a process group of its own, with the sleep in it.
    const began = Date.now();
    expect(pgidOf(shell)).toBe(shell);
    expect(pgidOf(sleeper)).toBe(shell);
    expect(groupMembers(shell).sort()).toEqual([shell, sleeper].sort());

    const h = await waitHealth(d, 'slow', (x) => x.health === 'unhealthy', 'unhealthy');
    expect(h.detail).toBe('timed out after 1 s');
    await pollUntil(() => groupMembers(shell).length === 0, { timeout: 5000, what: `no process left in group ${shell}` });
    // (A zombie is dead: the orphaned sleep is reaped by init, which here may be slow to.)
    expect(['gone', 'Z']).toContain(stateOf(sleeper));
    // Killed at the timeout, not after the 30 s.
    expect(Date.now() - began).toBeLessThan(5000);
    expect(await processInfo(d, 'slow')).toMatchObject({ statename: 'RUNNING', description: expect.stringMatching(/; unhealthy \(1 failed check: timed out after 1 s\)$/) });
  });
});

describe('fastvisor: health check cadence', () => {
  it('the first check at once, then every min(interval, 1 s) until one succeeds, then every interval (2 s), as the checks recorded them', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:web]
command=/bin/sh -c 'date +%%s.%%N > %(here)s/started; exec sleep 1000'
startsecs=0
healthcheck=cmd:date +%%s.%%N >> %(here)s/checks; test -f %(here)s/ok
healthcheck_interval=2s
healthcheck_start_period=30s
`,
    );
    const read = (f: string): number[] => {
      const p = path.join(d.dir, f);
      return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean).map(Number) : [];
    };
    await pollUntil(() => read('checks').length >= 2, { what: 'two failed checks' });
    touch(d, 'ok');
    await waitHealth(d, 'web', (x) => x.health === 'healthy', 'healthy');
    const n = read('checks').length;
    await pollUntil(() => read('checks').length >= n + 1, { timeout: 5000, what: 'a check after the first success' });
    const t = read('checks');
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    // At once: within the start of the child (startsecs=0: RUNNING at the spawn).
    expect(t[0]! - read('started')[0]!).toBeLessThan(0.5);
    // Failing (1 s apart) until the success, then the interval.
    const success = n - 1;
    for (let i = 0; i < success; i++) {
      expect(gaps[i]!, `gap ${i}: ${gaps[i]}`).toBeGreaterThan(0.95);
      expect(gaps[i]!, `gap ${i}: ${gaps[i]}`).toBeLessThan(1.5);
    }
    expect(gaps[success]!, `gap after the success: ${gaps[success]}`).toBeGreaterThan(1.95);
    expect(gaps[success]!).toBeLessThan(2.5);
  });
});

describe('fastvisor: healthcheck = tcp:', () => {
  it('refused while nothing listens (inside the start period: health starting), healthy once it listens; a dependent on :healthy waits for it', async () => {
    const port = await freePort();
    const d = await startDaemon(
      'fastvisor',
      `[program:db]
${server(port, 'db', 'tcp')}
startsecs=0
healthcheck=tcp:127.0.0.1:${port}
healthcheck_interval=500ms
healthcheck_start_period=30s

[program:web]
command=/bin/sleep 1000
startsecs=0
depends_on=db:healthy
`,
    );
    const h = await waitHealth(d, 'db', (x) => x.checks >= 2, 'two checks');
    expect(h).toMatchObject({ health: 'starting', failures: 0, detail: `connection refused (127.0.0.1:${port})` });
    expect(await processInfo(d, 'web')).toMatchObject({ statename: 'STARTING', pid: 0, description: 'waiting for db to be healthy (health starting)' });
    expect((await processInfo(d, 'db')).description).toMatch(/^pid \d+, uptime 0:00:\d\d; health starting$/);

    touch(d, 'db.listen');
    const ok = await waitHealth(d, 'db', (x) => x.health === 'healthy', 'healthy');
    expect(ok).toMatchObject({ failures: 0, detail: `connected to 127.0.0.1:${port}` });
    await waitInfo(d, 'web', (i) => i.statename === 'RUNNING', 'RUNNING');
    expect(logLines(d)).toContain(`INFO health: db is healthy (connected to 127.0.0.1:${port})`);
  });
});

describe('fastvisor: /healthz and /readyz', () => {
  it('/readyz: 503 with a line per process not up (a waiting one says why), 200 once all are up and healthy, 503 again when one turns unhealthy; /healthz 200; both behind Basic auth', async () => {
    const port = await freePort();
    const d = await startDaemon(
      'fastvisor',
      `[inet_http_server]
port=127.0.0.1:${port}
username=user
password=secret

[program:web]
command=/bin/sleep 1000
startsecs=0
healthcheck=cmd:test -f %(here)s/healthy
healthcheck_interval=500ms
healthcheck_retries=2
healthcheck_action=none

[program:db]
command=/bin/sleep 1000
startsecs=2

[program:late]
command=/bin/sleep 1000
startsecs=0
depends_on=db

[program:migrate]
command=/bin/sh -c 'sleep 0.3'
startsecs=0
autorestart=false

[program:manual]
command=/bin/sleep 1000
autostart=false
`,
    );
    const AUTH = 'user:secret';
    // Auth first: 401 without credentials or with wrong ones.
    for (const p of ['/healthz', '/readyz']) {
      expect((await get(port, p)).status).toBe(401);
      expect((await get(port, p, 'user:wrong')).status).toBe(401);
    }
    expect(await get(port, '/healthz', AUTH)).toEqual({ status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' });

    // db takes 2 s to count as started; late waits for it.
    const early = await get(port, '/readyz', AUTH);
    expect(early.status).toBe(503);
    expect(early.type).toBe('text/plain; charset=utf-8');
    const lines = early.body.trimEnd().split('\n');
    expect(lines).toContain('db: STARTING');
    expect(lines).toContain('late: STARTING, waiting for db to be running (STARTING)');
    expect(lines.some((l) => l.startsWith('manual'))).toBe(false);

    // Everything up but web's health: one line.
    for (const n of ['db', 'late']) await waitInfo(d, n, (i) => i.statename === 'RUNNING', 'RUNNING');
    await waitInfo(d, 'migrate', (i) => i.statename === 'EXITED', 'EXITED');
    const one = await get(port, '/readyz', AUTH);
    expect(one.status).toBe(503);
    expect(one.body).toMatch(/^web: RUNNING, pid \d+, uptime 0:00:\d\d; (health starting|unhealthy \(\d+ failed checks: exit status 1\))\n$/);

    touch(d, 'healthy');
    const ready = await pollUntil(
      async () => {
        const r = await get(port, '/readyz', AUTH);
        return r.status === 200 && r;
      },
      { what: '/readyz 200' },
    );
    expect(ready.body).toBe('ready\n');
    // The one-shot that exited as expected counts as ready, a program not autostarted does not count.
    expect((await processInfo(d, 'migrate')).statename).toBe('EXITED');
    expect((await processInfo(d, 'manual')).statename).toBe('STOPPED');

    rmSync(path.join(d.dir, 'healthy'));
    const again = await pollUntil(
      async () => {
        const r = await get(port, '/readyz', AUTH);
        return r.status === 503 && r;
      },
      { what: '/readyz 503 again' },
    );
    expect(again.body).toMatch(/^web: RUNNING, pid \d+, uptime 0:00:\d\d; unhealthy \(\d+ failed checks: exit status 1\)\n$/);
    expect((await get(port, '/healthz', AUTH)).status).toBe(200);
    expect((await get(port, '/readyz')).status).toBe(401);
  });
});
