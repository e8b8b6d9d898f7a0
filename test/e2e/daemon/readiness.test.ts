// SPDX-License-Identifier: MIT
// ready=notify and ready=log: (fastvisor only) with a real daemon and real
// children: a Python sd_notify client (notify_client.py: one datagram per
// message to $NOTIFY_SOCKET, as sd_notify(3)) steered by files the test
// creates, so every wait is for something the test caused; STATUS= in the
// description and in the real supervisorctl; datagrams from outside the
// child's process group ignored; the startsecs deadline (BACKOFF, then
// FATAL); the watchdog; a ready line on stdout, on stderr, and as a prompt
// without a newline, with the log files still complete; an exit before ready.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, SUPERVISORCTL, supervisorctl, type Daemon } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { processInfo, waitInfo, waitState } from '../../helpers/process-info.js';
import { isAlive, killTracked, track } from '../../helpers/procs.js';
import { PYTHON } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  killTracked();
  await stopAllDaemons();
});
afterAll(removeTmpDirs);

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** `command=` of the sd_notify client in a mode, recording to <dir>/<name>.rec */
const client = (name: string, mode: string): string => `command=${PYTHON} -u ${HERE}/notify_client.py %(here)s ${name} ${mode}`;


/** What a client recorded. */
function recs(d: Daemon, name: string): string[] {
  const f = path.join(d.dir, `${name}.rec`);
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

const logLines = (d: Daemon): string[] =>
  d
    .mainLog()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\S+ \S+ /, ''));

const count = (lines: string[], line: string): number => lines.filter((l) => l === line).length;

const touch = (d: Daemon, file: string): void => writeFileSync(path.join(d.dir, file), '');

/** One sd_notify datagram from a process of its own (outside any child's process group). */
function sendFromOutside(socketPath: string, message: string): void {
  const r = spawnSync(
    PYTHON,
    ['-c', 'import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.sendto(sys.argv[2].encode(), sys.argv[1])', socketPath, message],
    { encoding: 'utf8', timeout: 10_000 },
  );
  expect(r.status, r.stderr).toBe(0);
}

describe('fastvisor: ready = notify', () => {
  it('RUNNING on READY=1 from a real sd_notify client; STATUS= in the description and in supervisorctl; a datagram from outside its group is ignored', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[supervisord]\nloglevel=debug\n\n[program:web]\n${client('web', 'ready')}\nready=notify\nstartsecs=20\n\n[program:plain]\ncommand=/bin/sleep 1000\nstartsecs=0\n`,
    );
    const starting = await waitInfo(d, 'web', (i) => i.description === 'warming up', 'STATUS=warming up');
    expect(starting.statename).toBe('STARTING');
    expect(starting.pid).toBeGreaterThan(0);
    expect(supervisorctl(d.conf, ['status', 'web']).stdout).toBe(`${'web'.padEnd(33)}STARTING  warming up\n`);

    // The child got a socket path (and no WATCHDOG_USEC: no watchdog_sec); a program without ready= gets neither.
    const started = recs(d, 'web')[0]!;
    const m = /^start pid=(\d+) pgid=(\d+) NOTIFY_SOCKET=(\S+) WATCHDOG_USEC=(\S+)$/.exec(started);
    expect(m, started).not.toBeNull();
    const [, pid, pgid, socketPath, usec] = m!;
    expect(Number(pid)).toBe(starting.pid);
    expect(Number(pgid)).toBe(starting.pid);
    expect(socketPath).toMatch(/^\//);
    expect(usec).toBe('-');
    const plain = await waitState(d, 'plain', 'RUNNING');
    const plainEnv = readFileSync(`/proc/${plain.pid}/environ`, 'utf8').split('\0');
    expect(plainEnv.filter((e) => e.startsWith('NOTIFY_SOCKET=') || e.startsWith('WATCHDOG_USEC='))).toEqual([]);

    // READY=1 from a process outside web's group: ignored. The child's next message comes
    // through the same socket after it, so once it shows, the outsider's has been handled.
    sendFromOutside(socketPath!, 'READY=1\nSTATUS=outsider');
    touch(d, 'step2');
    const second = await waitInfo(d, 'web', (i) => i.description !== 'warming up', 'the next STATUS');
    expect(second).toMatchObject({ statename: 'STARTING', description: 'second', pid: starting.pid });
    expect(logLines(d).some((l) => /^DEBG ignored a notify message for web from pid \d+, outside its process group$/.test(l))).toBe(true);

    // The child says READY=1: RUNNING, with its status.
    touch(d, 'go');
    const running = await waitState(d, 'web', 'RUNNING');
    expect(running.pid).toBe(starting.pid);
    expect(running.description).toMatch(/^pid \d+, uptime 0:00:\d\d; serving$/);
    const log = logLines(d);
    expect(log).toContain('INFO success: web entered RUNNING state, it sent READY=1');
    // Long before startsecs=20: the child's word, not the clock.
    expect(log.filter((l) => l.startsWith('INFO success: web'))).toEqual(['INFO success: web entered RUNNING state, it sent READY=1']);
    expect(supervisorctl(d.conf, ['status', 'web']).stdout).toMatch(new RegExp(`^web {30}RUNNING {3}pid ${starting.pid}, uptime 0:00:\\d\\d; serving\\n$`));

    // The socket lives in a directory of the daemon's, gone after shutdown.
    expect(existsSync(socketPath!)).toBe(true);
    expect(await d.stop()).toBe(0);
    expect(existsSync(path.dirname(socketPath!))).toBe(false);
  });

  it('a child running as another user (user=nobody) reaches its socket: READY=1 works', async () => {
    const dir = tmpDir('fv-ready-user-');
    chmodSync(dir, 0o777); // nobody writes its records here
    const d = await startDaemon('fastvisor', `[program:web]\n${client('web', 'ready')}\nready=notify\nstartsecs=20\nuser=nobody\n`, { dir });
    await waitInfo(d, 'web', (i) => i.description === 'warming up', 'STATUS=warming up');
    const pid = (await processInfo(d, 'web')).pid;
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\t65534\t/m);
    touch(d, 'step2');
    touch(d, 'go');
    expect(await waitState(d, 'web', 'RUNNING')).toMatchObject({ pid, description: expect.stringMatching(/; serving$/) });
  });

  it("READY=1 from another process of the child's group (behind a wrapper shell) counts", async () => {
    // `; exit $?` keeps sh from exec'ing: python runs as its child, in its group.
    const d = await startDaemon(
      'fastvisor',
      `[program:web]\ncommand=/bin/sh -c '${PYTHON} -u ${HERE}/notify_client.py %(here)s web ready; exit $?'\nready=notify\nstartsecs=20\n`,
    );
    const starting = await waitInfo(d, 'web', (i) => i.description === 'warming up', 'STATUS=warming up');
    const m = /^start pid=(\d+) pgid=(\d+) /.exec(recs(d, 'web')[0] ?? '');
    expect(Number(m?.[1])).not.toBe(starting.pid);
    expect(Number(m?.[2])).toBe(starting.pid);
    touch(d, 'step2');
    touch(d, 'go');
    expect(await waitState(d, 'web', 'RUNNING')).toMatchObject({ pid: starting.pid });
  });

  it('supervisorctl start returns "started" only once the child has sent READY=1', async () => {
    const d = await startDaemon('fastvisor', `[program:web]\n${client('web', 'ready')}\nready=notify\nstartsecs=20\nautostart=false\n`);
    const ctl = spawn(SUPERVISORCTL, ['-c', d.conf, 'start', 'web'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    track(ctl.pid!);
    let out = '';
    ctl.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const done = new Promise<number | null>((r) => ctl.on('close', (code) => r(code)));
    await waitInfo(d, 'web', (i) => i.description === 'warming up', 'STATUS=warming up');
    touch(d, 'step2');
    await waitInfo(d, 'web', (i) => i.description === 'second', 'STATUS=second');
    // Still STARTING: the start has not returned.
    expect((await processInfo(d, 'web')).statename).toBe('STARTING');
    expect(ctl.exitCode).toBeNull();
    expect(out).toBe('');
    touch(d, 'go');
    expect(await done).toBe(0);
    expect(out).toBe('web: started\n');
    expect((await processInfo(d, 'web')).statename).toBe('RUNNING');
  });

  it('never READY=1: stopped with its stopsignal after startsecs, BACKOFF, and FATAL after startretries; startsecs=0 means no deadline', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:web]\n${client('web', 'never')}\nready=notify\nstartsecs=1\nstartretries=1\nstopsignal=INT\n\n` +
        `[program:patient]\n${client('patient', 'never')}\nready=notify\nstartsecs=0\n`,
    );
    const patient = await waitInfo(d, 'patient', (i) => i.description === 'never ready', 'STATUS=never ready');
    expect(patient.statename).toBe('STARTING');
    // Two tries, each stopped after 1 s, with a BACKOFF wait between: a few seconds in all.
    await waitState(d, 'web', 'BACKOFF');
    const failed = await waitState(d, 'web', 'FATAL', 15_000);
    expect(failed.spawnerr).toBe('not ready within 1 seconds (startsecs)');
    const log = logLines(d);
    expect(count(log, 'WARN web was not ready within 1 seconds (startsecs)')).toBe(2);
    expect(log.filter((l) => /^WARN exited: web \(.*; not ready in time\)$/.test(l))).toHaveLength(2);
    expect(log).toContain('INFO gave up: web entered FATAL state, too many start retries too quickly');
    expect(log.some((l) => l.startsWith('INFO success: web'))).toBe(false);
    // Each try was stopped with stopsignal (INT), which the child saw.
    expect(recs(d, 'web').filter((l) => l.startsWith('start ') || l.startsWith('signal '))).toEqual([
      expect.stringMatching(/^start /),
      'signal SIGINT',
      expect.stringMatching(/^start /),
      'signal SIGINT',
    ]);
    // Through BACKOFF between the tries.
    const states = log.filter((l) => /^INFO (spawned: 'web'|gave up: web)/.test(l) || /^WARN exited: web/.test(l));
    expect(states.map((l) => l.replace(/\d+/g, 'N').replace(/\(.*;/, '(…;'))).toEqual([
      "INFO spawned: 'web' with pid N",
      'WARN exited: web (…; not ready in time)',
      "INFO spawned: 'web' with pid N",
      'WARN exited: web (…; not ready in time)',
      'INFO gave up: web entered FATAL state, too many start retries too quickly',
    ]);

    // All that time patient, with startsecs=0, waited for its READY=1 without a deadline.
    expect(await processInfo(d, 'patient')).toMatchObject({ statename: 'STARTING', pid: patient.pid, description: 'never ready' });
    expect(logLines(d).some((l) => l.includes('patient was not ready'))).toBe(false);
    expect(recs(d, 'patient').filter((l) => l.startsWith('start '))).toHaveLength(1);
  });

  it('watchdog_sec: WATCHDOG_USEC in the env; WATCHDOG=1 keeps it running; when they stop it is restarted (new pid)', async () => {
    const d = await startDaemon('fastvisor', `[program:web]\n${client('web', 'watchdog')}\nready=notify\nwatchdog_sec=1\nstartsecs=10\n`);
    const first = await waitState(d, 'web', 'RUNNING');
    expect(recs(d, 'web')[0]).toMatch(new RegExp(`^start pid=${first.pid} pgid=${first.pid} NOTIFY_SOCKET=/\\S+ WATCHDOG_USEC=1000000$`));
    // 10 pets is 2 s, twice the watchdog: still the same child.
    await pollUntil(() => recs(d, 'web').filter((l) => l === 'pet').length >= 10, { what: '10 WATCHDOG=1' });
    expect(await processInfo(d, 'web')).toMatchObject({ statename: 'RUNNING', pid: first.pid });
    expect(logLines(d).some((l) => l.startsWith('WARN restarting web'))).toBe(false);

    touch(d, 'web.stop-pet');
    const second = await waitInfo(d, 'web', (i) => i.statename === 'RUNNING' && i.pid !== first.pid, 'RUNNING with a new pid');
    expect(isAlive(first.pid)).toBe(false);
    const log = logLines(d);
    expect(log).toContain('WARN restarting web: no WATCHDOG=1 for 1 seconds (watchdog_sec)');
    // Stopped with its stopsignal, then started again: a restart, not a failure.
    const r = recs(d, 'web');
    expect(r.slice(r.indexOf('stopped petting'))).toEqual(['stopped petting', 'signal SIGTERM', expect.stringMatching(new RegExp(`^start pid=${second.pid} `)), ...r.slice(r.indexOf('stopped petting') + 3)]);
    expect(count(log, 'INFO success: web entered RUNNING state, it sent READY=1')).toBe(2);
    expect(log.some((l) => l.includes('gave up'))).toBe(false);
  });

  it('an exit before READY=1 is a failed start even with startsecs=0 (BACKOFF, then FATAL), where without ready= it is an EXITED', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:web]\n${client('web', 'exit')}\nready=notify\nstartsecs=0\nstartretries=1\nautorestart=false\n\n` +
        `[program:plain]\n${client('plain', 'exit')}\nstartsecs=0\nautorestart=false\n`,
    );
    await waitState(d, 'web', 'BACKOFF');
    const web = await waitState(d, 'web', 'FATAL');
    expect(web.spawnerr).toBe('Exited too quickly (process log may have details)');
    expect(recs(d, 'web').filter((l) => l === 'exit')).toHaveLength(2);
    const log = logLines(d);
    expect(log).toContain('INFO gave up: web entered FATAL state, too many start retries too quickly');
    expect(log.some((l) => l.startsWith('INFO success: web'))).toBe(false);
    // The same child without ready=notify: RUNNING at once, then EXITED (expected).
    expect(await waitState(d, 'plain', 'EXITED')).toMatchObject({ exitstatus: 0 });
    expect(log.some((l) => l.startsWith('INFO success: plain entered RUNNING state'))).toBe(true);
  });
});

describe('fastvisor: ready = log:REGEX', () => {
  // Lines before the match, the match, then 2000 lines and one on stderr, then it runs on.
  const CHATTY = `#!/bin/sh
echo "booting 1"
echo "booting 2" >&2
while [ ! -f "$(dirname "$0")/go" ]; do sleep 0.02; done
echo "listening on port 8080"
i=1
while [ $i -le 2000 ]; do echo "after $i"; i=$((i + 1)); done
echo "err after" >&2
exec sleep 1000
`;
  // The ready line on stderr.
  const ERRREADY = `#!/bin/sh
echo "out 1"
echo "database system is ready to accept connections" >&2
echo "out 2"
exec sleep 1000
`;
  // A prompt without a newline.
  const PROMPT = `#!/bin/sh
printf 'loading\\nready> '
exec sleep 1000
`;

  it('RUNNING on the first matching line of stdout or stderr (or an unfinished prompt); the log files keep every line, before and after', async () => {
    const dir = tmpDir('fv-ready-');
    writeFileSync(path.join(dir, 'chatty.sh'), CHATTY);
    writeFileSync(path.join(dir, 'errready.sh'), ERRREADY);
    writeFileSync(path.join(dir, 'prompt.sh'), PROMPT);
    const d = await startDaemon(
      'fastvisor',
      `[program:web]\ncommand=/bin/sh %(here)s/chatty.sh\nready=log:^listening on port \\d+$\nstartsecs=20\n` +
        `stdout_logfile=%(here)s/web.out\nstderr_logfile=%(here)s/web.err\n\n` +
        `[program:db]\ncommand=/bin/sh %(here)s/errready.sh\nready=log:ready to accept connections\nstartsecs=20\n` +
        `stdout_logfile=%(here)s/db.out\nstderr_logfile=%(here)s/db.err\n\n` +
        `[program:repl]\ncommand=/bin/sh %(here)s/prompt.sh\nready=log:^ready> $\nstartsecs=20\nstdout_logfile=%(here)s/repl.out\n\n` +
        `[program:merged]\ncommand=/bin/sh %(here)s/errready.sh\nready=log:ready to accept connections\nstartsecs=20\nredirect_stderr=true\nstdout_logfile=%(here)s/merged.out\n`,
      { dir },
    );
    const file = (name: string): string => {
      const f = path.join(d.dir, name);
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    };

    // web printed two lines, neither matches: STARTING, waiting for its line.
    // (The files are written by the I/O thread; the spawn's outcome may reach the daemon's
    // state a batch later: wait for the pid too.)
    await pollUntil(() => file('web.out') === 'booting 1\n' && file('web.err') === 'booting 2\n', { what: "web's first lines" });
    const starting = await waitInfo(d, 'web', (i) => i.pid > 0, 'a pid');
    expect(starting).toMatchObject({ statename: 'STARTING', description: 'waiting for its ready line' });

    touch(d, 'go');
    const web = await waitState(d, 'web', 'RUNNING');
    expect(web.description).toMatch(/^pid \d+, uptime 0:00:\d\d$/);
    const log = logLines(d);
    expect(log).toContain('INFO success: web entered RUNNING state, its output matched the ready pattern: "listening on port 8080"');

    // Every line in the files, in order, the 2000 after the match too.
    const after = Array.from({ length: 2000 }, (_, i) => `after ${i + 1}\n`).join('');
    await pollUntil(() => file('web.err') === 'booting 2\nerr after\n', { what: "web's last stderr line" });
    await pollUntil(() => file('web.out').length >= `booting 1\nlistening on port 8080\n${after}`.length, { what: "web's stdout" });
    expect(file('web.out')).toBe(`booting 1\nlistening on port 8080\n${after}`);

    // On stderr.
    await waitState(d, 'db', 'RUNNING');
    expect(logLines(d)).toContain(
      'INFO success: db entered RUNNING state, its output matched the ready pattern: "database system is ready to accept connections"',
    );
    await pollUntil(() => file('db.out') === 'out 1\nout 2\n', { what: "db's stdout" });
    expect(file('db.err')).toBe('database system is ready to accept connections\n');

    // A prompt without a newline.
    await waitState(d, 'repl', 'RUNNING');
    expect(logLines(d)).toContain('INFO success: repl entered RUNNING state, its output matched the ready pattern: "ready> "');
    expect(file('repl.out')).toBe('loading\nready> ');

    // stderr redirected into stdout: the line is found there.
    await waitState(d, 'merged', 'RUNNING');
    await pollUntil(() => file('merged.out') === 'out 1\ndatabase system is ready to accept connections\nout 2\n', { what: "merged's log" });
  });

  it('an exit before the ready line is a failed start; a child that never prints it is stopped after startsecs', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:quitter]\ncommand=/bin/sh -c 'echo almost; sleep 0.2; exit 0'\nready=log:^ready$\nstartsecs=0\nstartretries=0\n\n` +
        `[program:mute]\ncommand=/bin/sh -c 'echo nothing to see; exec sleep 1000'\nready=log:^ready$\nstartsecs=1\nstartretries=0\n`,
    );
    const quitter = await waitState(d, 'quitter', 'FATAL');
    expect(quitter.spawnerr).toBe('Exited too quickly (process log may have details)');
    const mute = await waitState(d, 'mute', 'FATAL');
    expect(mute.spawnerr).toBe('not ready within 1 seconds (startsecs)');
    const log = logLines(d);
    expect(log).toContain('WARN mute was not ready within 1 seconds (startsecs)');
    expect(log.some((l) => /^INFO success: (quitter|mute)/.test(l))).toBe(false);
  });
});
