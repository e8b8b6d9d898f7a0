// SPDX-License-Identifier: MIT
// Command-line options, the [supervisorctl] section, the config search order, and
// the commands that restart or stop the daemon: Python's supervisorctl and ours,
// compared. Also the few places where ours deliberately differs.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CtlPair,
  DAEMONS,
  normalize,
  prognameOf,
  REPO,
  runProcess,
  startDaemon,
  type RunningDaemon,
} from '../../helpers/ctl-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { isAlive, killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const PROGRAMS = "[program:web]\ncommand=/bin/sh -c 'echo hello; exec sleep 1000'\nstartsecs=0\n";

let pair: CtlPair;
beforeAll(() => {
  pair = new CtlPair();
});
afterAll(() => {
  pair?.close();
  killTracked();
  removeTmpDirs();
});

async function same(
  argv: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const { py, ts } = await pair.both({ argv, ...opts });
  expect(normalize(ts)).toEqual(normalize(py));
  return py;
}

describe('command-line options', () => {
  it.each([
    '-h',
    '--help',
    '-?',
    '-hx',
    '-x',
    '--bogus',
    '--history-file=x status',
    '-c',
    '-u',
    '-s foo status',
    '-s http://a:1 -s http://b:2 status',
    '-s a -s b',
    '-i -i status',
    '-c /nonexistent/x.conf status',
    '-c "" status',
    '--serv=x status',
    '--serverurl=http://127.0.0.1:1 --user=u --pass=p version',
    '--conf=/nonexistent status',
    '-s unix:///nonexistent.sock -- status',
    '-s unix:///nonexistent.sock status -c x',
  ])('%s', async (line) => {
    const argv = line.split(' ').map((w) => (w === '""' ? '' : w));
    const r = await same(argv);
    if (line === '-x') expect(r).toEqual({ stdout: '', stderr: 'Error: option -x not recognized\nFor help, use /usr/bin/supervisorctl -h\n', code: 2 });
  });

  it('-h and usage errors name the program as it was started', async () => {
    for (const kind of ['py', 'ts'] as const) {
      const help = await runProcess(kind, ['-h']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: ${prognameOf(kind)} [options] [action [arguments]]`);
      const bad = await runProcess(kind, ['-q']);
      expect(bad).toMatchObject({ code: 2, stderr: `Error: option -q not recognized\nFor help, use ${prognameOf(kind)} -h\n` });
    }
  });
});

describe.each(DAEMONS)('the [supervisorctl] section, with $name', (spec) => {
  let d: RunningDaemon;
  let dir: string;
  beforeAll(async () => {
    d = await startDaemon(spec, { programs: PROGRAMS });
    dir = tmpDir('fv-ctl-conf-');
  });
  afterAll(async () => {
    await d?.stop();
  });

  function conf(name: string, text: string): string {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  it('serverurl, username, password from the file; the command line wins', async () => {
    const c = conf('a.conf', `[supervisorctl]\nserverurl=${d.unixUrl}\nusername=nobody\npassword=x\n`);
    expect((await same(['-c', c, 'status'])).code).toBe(0); // no auth on this daemon: ignored
    await same(['-c', c, '-s', 'unix:///nonexistent.sock', 'status']);
    await same(['-c', c, '-s', d.httpUrl, 'version']);
  });

  it('%(here)s, %(ENV_X)s, ~ and relative socket paths', async () => {
    const sockDir = path.dirname(d.sock);
    await same(['-c', conf('b.conf', `[supervisorctl]\nserverurl=unix://%(ENV_FV_SOCKDIR)s/s.sock\n`), 'version'], {
      env: { FV_SOCKDIR: sockDir },
    });
    await same(['-c', conf('sub/c.conf', '[supervisorctl]\nserverurl=unix://%(here)s/../missing.sock\n'), 'status']);
    await same(['-c', conf('d.conf', '[supervisorctl]\nserverurl=unix://rel/./x/../s.sock\n'), 'status'], { cwd: dir });
    await same(['-c', conf('e.conf', '[supervisorctl]\nserverurl=unix://~/fv-no-such.sock\n'), 'status']);
    await same(['-c', conf('f.conf', `[supervisorctl]\nserverurl = ${d.httpUrl}   ; a comment\n`), 'version']);
  });

  it('errors in the file', async () => {
    await same(['-c', conf('g.conf', '[supervisord]\nlogfile=x\n'), 'status']);
    await same(['-c', conf('h.conf', '[supervisorctl]\nserverurl=%(nope)s\n'), 'status']);
    await same(['-c', conf('i.conf', '[supervisorctl]\nprompt=%(here)s\n'), 'status']);
    await same(['-c', conf('j.conf', '[supervisorctl]\nserverurl=%(here)\n'), 'status']);
    await same(['-c', conf('k.conf', '[supervisorctl]\n[ctlplugin:x]\nfoo=bar\n'), 'status']);
    await same(['-c', conf('l.conf', '[supervisorctl]\nserverurl=foo\n'), 'status']);
    await same(['-c', conf('l.conf', '[supervisorctl]\nserverurl=foo\n'), 'help']);
    await same(['-c', dir, 'status']);
  });

  it('a file ConfigParser cannot read: Python dies with a traceback, ours gives a usage error', async () => {
    const c = conf('bad.conf', 'junk\n[supervisorctl]\n');
    const { py, ts } = await pair.both({ argv: ['-c', c, 'status'] });
    expect(py.stderr).toContain('Traceback (most recent call last)');
    expect(py.stderr).toContain('MissingSectionHeaderError: File contains no section headers.');
    expect(ts).toEqual({
      stdout: '',
      stderr: `Error: File contains no section headers.\nfile: '${c}', line: 1\n'junk\\n'\nFor help, use /usr/bin/supervisorctl -h\n`,
      code: 2,
    });
  });

  it('bin/supervisorctl.cjs and bin/fastvisorctl.cjs run it', async () => {
    for (const bin of ['supervisorctl.cjs', 'fastvisorctl.cjs']) {
      const file = path.join(REPO, 'bin', bin);
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
        execFile(file, ['-c', d.conf, 'version'], (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      expect(r).toEqual({ code: 0, stdout: '4.2.5\n', stderr: '' });
      const usage = await new Promise<string>((resolve) => execFile(file, ['-q'], (_e, _o, stderr) => resolve(stderr)));
      expect(usage).toBe(`Error: option -q not recognized\nFor help, use ${file} -h\n`);
    }
  });

  it('the search order: ./supervisord.conf, then ./etc/supervisord.conf', async () => {
    const here = tmpDir('fv-ctl-search-');
    writeFileSync(path.join(here, 'supervisord.conf'), `[supervisorctl]\nserverurl=${d.unixUrl}\n`);
    mkdirSync(path.join(here, 'etc'));
    writeFileSync(path.join(here, 'etc', 'supervisord.conf'), '[supervisorctl]\nserverurl=unix:///nonexistent/etc.sock\n');
    expect((await same(['version'], { cwd: here })).stdout).toBe('4.2.5\n');
    const etcOnly = tmpDir('fv-ctl-search-');
    mkdirSync(path.join(etcOnly, 'etc'));
    writeFileSync(path.join(etcOnly, 'etc', 'supervisord.conf'), '[supervisorctl]\nserverurl=unix:///nonexistent/etc.sock\n');
    expect((await same(['version'], { cwd: etcOnly })).stdout).toBe('unix:///nonexistent/etc.sock no such file\n');
  });
});

describe.each(DAEMONS)('reload and shutdown of $name', (spec) => {
  let d: RunningDaemon;
  beforeAll(async () => {
    d = await startDaemon(spec, { programs: PROGRAMS });
  });
  afterAll(async () => {
    await d?.stop();
  });

  const up = (): Promise<unknown> =>
    pollUntil(() => d.rpc('supervisor.getState').then((s) => (s as { statename: string }).statename === 'RUNNING', () => false), {
      timeout: 15_000,
      what: 'the daemon to run again',
    });

  it('reload restarts it', async () => {
    const { py, ts } = await pair.both({ argv: ['-c', d.conf, 'reload'] }, async () => {
      await up();
    });
    expect(py).toEqual({ stdout: 'Restarted supervisord\n', stderr: '', code: 0 });
    expect(ts).toEqual(py);
    const asked = await pair.both({ argv: ['-c', d.conf, '-i', 'reload'], stdin: 'yes\n' }, async () => {
      await up();
    });
    expect(asked.py.stdout).toBe('Really restart the remote supervisord process y/N? Restarted supervisord\n');
    expect(asked.ts).toEqual(asked.py);
    await up();
  });

  it('shutdown stops it; afterwards both say it is already shut down', async () => {
    const { py, ts } = await pair.both({ argv: ['-c', d.conf, 'shutdown'] }, () => d.relaunch());
    expect(py).toEqual({ stdout: 'Shut down\n', stderr: '', code: 0 });
    expect(ts).toEqual(py);
    await pollUntil(() => d.rpc('supervisor.getState').then(() => false, () => true), { what: 'the daemon to go' });
    // Gone, not just busy shutting down: a daemon still closing its socket
    // resets the connection (Python prints BrokenPipeError) or refuses it,
    // depending on which client comes first.
    await pollUntil(() => !isAlive(d.pid), { timeout: 20_000, what: 'the daemon process to exit' });
    const after = await same(['-c', d.conf, 'shutdown']);
    expect(after.stdout).toMatch(/^ERROR: unix:\/\/.* (no such file|refused connection) \(already shut down\?\)\n$/);
    await same(['-s', d.httpUrl, 'shutdown']);
    await same(['-c', d.conf, 'status']);
  });
});
