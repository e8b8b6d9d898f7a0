// SPDX-License-Identifier: MIT
// stdout_syslog / stderr_syslog / *_logfile=syslog and [supervisord]
// logfile=syslog write to the syslog socket, in supervisord's bytes: the real
// supervisord and fastvisor run side by side, each with /dev/log pointing at a
// socket of this test's (a private mount namespace: root only), and the
// datagrams are compared byte for byte but for the time. Then, fastvisor alone
// (FASTVISOR_SYSLOG_SOCKET): a missing or full syslog socket never holds the
// child up nor costs the file copy a byte; the drops are counted and logged
// once per episode.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, type Daemon, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { listenSyslog, stopSyslogListeners, withoutTime, type SyslogListener } from '../../helpers/syslog-listener.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  await stopAllDaemons();
  stopSyslogListeners();
});
afterAll(removeTmpDirs);

const PRIVATE_DEV_LOG = path.join(path.dirname(fileURLToPath(import.meta.url)), 'private-dev-log.sh');
const privateNamespaces =
  process.getuid?.() === 0 && spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'true']).status === 0;

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

function fileText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

// Each program's lines come in chunks whose boundaries the sleeps fix: the
// first chunk ends in a partial line, which is a message of its own.
const CONF = `[supervisord]
logfile=syslog
loglevel=info

[program:hello]
command=/bin/sh -c "printf 'one\\ntwo\\n\\n\\nthree\\n\\npartial'; sleep 0.3; printf 'ab\\n'; sleep 0.3; printf 'x\\ny\\n' >&2; exec sleep 1000"
stdout_syslog=true
stdout_logfile=%(here)s/hello.out
stderr_logfile=syslog
startsecs=0

[program:cap]
command=/bin/sh -c "printf 'before\\n<!--XSUPERVISOR:BEGIN-->secret<!--XSUPERVISOR:END-->after the capture has ended\\n'; exec sleep 1000"
stdout_syslog=true
stdout_logfile=%(here)s/cap.out
stdout_capture_maxbytes=1KB
startsecs=0
`;

const MAIN_LINE = /^<14>TS supervisord: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} /;

function normalizeMain(m: string): string {
  return m.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}/, 'ASCTIME').replace(/pid \d+/g, 'pid N');
}

async function runUnderPrivateDevLog(kind: DaemonKind): Promise<{ d: Daemon; log: SyslogListener }> {
  const dir = tmpDir(`fv-syslog-${kind}-`);
  const log = await listenSyslog(path.join(dir, 'log.sock'));
  const d = await startDaemon(kind, CONF, {
    dir,
    wrap: ['unshare', '--mount', '--propagation', 'private', '--', PRIVATE_DEV_LOG, log.path, dir],
  });
  return { d, log };
}

describe.skipIf(!privateNamespaces)('syslog: the same datagrams as supervisord (private /dev/log)', () => {
  it('child lines, the deprecated *_logfile=syslog, capture mode and logfile=syslog', async () => {
    const runs = await Promise.all((['supervisord', 'fastvisor'] as const).map((k) => runUnderPrivateDevLog(k)));
    const child = (l: SyslogListener, name: string): string[] =>
      l.datagrams().map(withoutTime).filter((m) => m.startsWith(`<14>TS supervisord: ${name} `));
    const expected = {
      hello: ['one', 'two', '', '', 'three', '', 'partial', 'ab', 'x', 'y'].map((l) => `<14>TS supervisord: hello ${l}`),
      cap: ['before', 'after the capture has ended'].map((l) => `<14>TS supervisord: cap ${l}`),
    };
    for (const { d, log } of runs) {
      await pollUntil(() => child(log, 'hello').length >= expected.hello.length && child(log, 'cap').length >= 2, {
        timeout: 15_000,
        what: `${d.kind}: the children's lines in syslog`,
      });
      expect({ kind: d.kind, hello: child(log, 'hello'), cap: child(log, 'cap') }).toEqual({ kind: d.kind, ...expected });
      // The file copies are whole.
      expect(fileText(path.join(d.dir, 'hello.out'))).toBe('one\ntwo\n\n\nthree\n\npartialab\n');
      expect(fileText(path.join(d.dir, 'cap.out'))).toBe('before\nafter the capture has ended\n');
      // No file named "syslog" for the main log nor a channel.
      expect(fileText(path.join(d.dir, 'syslog'))).toBe('');
    }
    // The main log: every line a datagram "asctime LEVEL message\n", in supervisord's words.
    const main = (l: SyslogListener): string[] =>
      l.datagrams().map(withoutTime).filter((m) => MAIN_LINE.test(m)).map(normalizeMain);
    // Up to the second process's RUNNING: what follows is timing (the stop).
    const untilRunning = (l: string[]): string[] => {
      const last = l.map((m) => m.includes(' INFO success: ')).lastIndexOf(true);
      return l.slice(0, last + 1);
    };
    for (const { d, log } of runs) {
      await pollUntil(() => main(log).filter((m) => m.includes('INFO success: ')).length === 2, { what: `${d.kind}: both RUNNING in syslog` });
    }
    // Sorted: when the two spawns and RUNNINGs interleave is timing, in supervisord too.
    const [sd, fv] = runs.map(({ log }) => untilRunning(main(log)).sort());
    expect(fv).toEqual(sd);
    expect(sd).toContain("<14>TS supervisord: ASCTIME INFO spawned: 'hello' with pid N\n");
    for (const { d, log } of runs) {
      await d.stop();
      expect(main(log).at(-1)).toMatch(/ WARN stopped: (hello|cap) \(terminated by SIGTERM\)\n$/);
    }
  });
});

describe('fastvisor: a syslog socket that is missing or full (FASTVISOR_SYSLOG_SOCKET)', () => {
  const LINES = 20_000;
  // LINES lines at once, then one a tick, for ever.
  const program = `[program:a]
command=/bin/sh -c 'i=0; while [ $i -lt ${LINES} ]; do echo "line $i"; i=$((i+1)); done; echo done; while :; do echo tick; sleep 0.05; done'
stdout_syslog=true
stdout_logfile=%(here)s/a.log
startsecs=0
`;
  const wholeFile = (file: string): boolean => {
    const t = fileText(file);
    return t.startsWith('line 0\nline 1\n') && t.includes(`\nline ${LINES - 1}\ndone\n`);
  };

  it('missing: the file copy is whole, one line for the episode, the drops counted when syslog is back', async () => {
    const dir = tmpDir('fv-syslog-missing-');
    const sock = path.join(dir, 'log.sock');
    const d = await startDaemon('fastvisor', program, { dir, env: { FASTVISOR_SYSLOG_SOCKET: sock } });
    await pollUntil(() => wholeFile(path.join(dir, 'a.log')), { timeout: 20_000, what: 'every line in a.log' });
    const fault = `syslog socket ${sock}: cannot send to it (ENOENT); messages are dropped until it can be reached`;
    await pollUntil(() => d.mainLog().includes(fault), { what: 'the fault logged' });
    // Ticks keep failing for 2.5 s more (a connect a second): still one line.
    const settle = Date.now() + 2500;
    await pollUntil(() => Date.now() > settle, { timeout: 5000, what: '2.5 s' });
    expect(count(d.mainLog(), `syslog socket ${sock}`)).toBe(1);
    const log = await listenSyslog(sock);
    const back = await pollUntil(() => /takes messages again; (\d+) messages were dropped meanwhile/.exec(d.mainLog()), {
      timeout: 10_000,
      what: 'the recovery logged',
    });
    expect(Number(back[1])).toBeGreaterThan(LINES);
    await pollUntil(() => log.datagrams().some((m) => withoutTime(m) === '<14>TS supervisord: a tick'), { what: 'ticks in syslog' });
    expect(count(d.mainLog(), `syslog socket ${sock}`)).toBe(2);
  });

  it('full (syslog does not read): the child is not held up, the file copy is whole, one line, then recovery', async () => {
    const dir = tmpDir('fv-syslog-full-');
    const sock = path.join(dir, 'log.sock');
    const log = await listenSyslog(sock, { paused: true });
    const d = await startDaemon('fastvisor', program, { dir, env: { FASTVISOR_SYSLOG_SOCKET: sock } });
    // The child got past its flood: nothing waited on the full socket.
    await pollUntil(() => wholeFile(path.join(dir, 'a.log')), { timeout: 20_000, what: 'every line in a.log' });
    const full = `syslog socket ${sock}: full (the syslog daemon is not reading); messages are dropped`;
    await pollUntil(() => d.mainLog().includes(full), { what: 'the fault logged' });
    expect(count(d.mainLog(), `syslog socket ${sock}`)).toBe(1);
    log.resume();
    const back = await pollUntil(() => /takes messages again; (\d+) messages were dropped meanwhile/.exec(d.mainLog()), {
      timeout: 10_000,
      what: 'the recovery logged',
    });
    expect(Number(back[1])).toBeGreaterThan(0);
    // What the socket held before it filled came through in order, from the first line.
    await pollUntil(() => log.datagrams().some((m) => withoutTime(m) === '<14>TS supervisord: a tick'), { what: 'ticks in syslog' });
    expect(withoutTime(log.datagrams()[0]!)).toBe('<14>TS supervisord: a line 0');
    expect(count(d.mainLog(), `syslog socket ${sock}`)).toBe(2);
  });
});
