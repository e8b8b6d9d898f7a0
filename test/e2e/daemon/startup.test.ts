// SPDX-License-Identifier: MIT
// Start-up through the command line, compared with the real supervisord:
// bad configs and bad options stop everything before anything runs, with the
// same message and exit code; -h, -v; daemonizing returns once the daemon is
// up (pid file, socket) or fails with the start-up error.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { launch, pidAlive, rpcCall, stopAllDaemons, supervisorctl, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { childrenOf } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const KINDS: DaemonKind[] = ['supervisord', 'fastvisor'];

afterAll(async () => {
  await stopAllDaemons();
  removeTmpDirs();
});

/** Both daemons on the same files, the program name masked (python names /usr/bin/supervisord). */
function both(files: Record<string, string>, args: (dir: string) => string[]): Record<DaemonKind, { status: number | null; stderr: string; stdout: string }> {
  const out = {} as Record<DaemonKind, { status: number | null; stderr: string; stdout: string }>;
  for (const kind of KINDS) {
    const dir = tmpDir(`fv-start-${kind}-`);
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text.replaceAll('@DIR@', dir));
    }
    const r = launch(kind, args(dir), dir);
    const mask = (s: string): string => s.replaceAll(dir, '@DIR@').replace(/For help, use \S+ -h/g, 'For help, use PROG -h').replace(/^Usage: \S+/m, 'Usage: PROG');
    out[kind] = { status: r.status, stderr: mask(r.stderr), stdout: mask(r.stdout) };
  }
  return out;
}

const BASE = '[supervisord]\nlogfile=@DIR@/sd.log\npidfile=@DIR@/sd.pid\nchildlogdir=@DIR@\n';

const badConfigs: Record<string, string> = {
  'no supervisord section': '[program:a]\ncommand=/bin/true\n',
  'program without command': `${BASE}[program:a]\nautostart=true\n`,
  'bad boolean': `${BASE}[program:a]\ncommand=/bin/true\nautostart=maybe\n`,
  'bad integer': `${BASE}[program:a]\ncommand=/bin/true\nstartsecs=soon\n`,
  'bad byte size': `${BASE}[program:a]\ncommand=/bin/true\nstdout_logfile_maxbytes=10XB\n`,
  'bad signal': `${BASE}[program:a]\ncommand=/bin/true\nstopsignal=NOPE\n`,
  'bad exitcodes': `${BASE}[program:a]\ncommand=/bin/true\nexitcodes=0,300\n`,
  'bad autorestart': `${BASE}[program:a]\ncommand=/bin/true\nautorestart=sometimes\n`,
  'numprocs without process_num': `${BASE}[program:a]\ncommand=/bin/true\nnumprocs=2\n`,
  'unknown user': `${BASE}[program:a]\ncommand=/bin/true\nuser=no-such-user-fv\n`,
  'missing directory for the log': `${BASE.replace('@DIR@/sd.log', '@DIR@/nope/sd.log')}[program:a]\ncommand=/bin/true\n`,
  'group naming an unknown program': `${BASE}[program:a]\ncommand=/bin/true\n[group:g]\nprograms=a,b\n`,
  'bad environment': `${BASE}[program:a]\ncommand=/bin/true\nenvironment=A="x\n`,
  'bad expansion': `${BASE}[program:a]\ncommand=/bin/echo %(nope)s\n`,
  'include without files': `${BASE}[include]\nfoo=bar\n`,
  'bad rpcinterface': `${BASE}[rpcinterface:x]\nsupervisor.rpcinterface_factory = my.module:factory\n`,
  'unix server without file': `${BASE}[unix_http_server]\nchmod=0700\n`,
  'inet server without port': `${BASE}[inet_http_server]\nusername=x\n`,
};

describe('a bad config stops start-up as supervisord does', () => {
  for (const [what, text] of Object.entries(badConfigs)) {
    it(what, () => {
      const r = both({ 'bad.conf': text }, (dir) => ['-n', '-c', path.join(dir, 'bad.conf')]);
      // Python's rpcinterface import error has no equivalent: fastvisor names the plugin instead.
      if (what === 'bad rpcinterface') {
        expect(r.fastvisor.status).toBe(2);
        expect(r.fastvisor.stderr).toMatch(/^Error: .*my\.module:factory.*\nFor help, use PROG -h\n$/s);
        return;
      }
      expect(r.fastvisor).toEqual(r.supervisord);
      expect(r.fastvisor.status).toBe(2);
    });
  }
  it('a missing config file', () => {
    const r = both({}, (dir) => ['-n', '-c', path.join(dir, 'missing.conf')]);
    expect(r.fastvisor).toEqual(r.supervisord);
  });
});

describe('command-line options are read as supervisord reads them', () => {
  const cases: Record<string, string[]> = {
    'unknown option': ['--bogus'],
    'positional argument': ['extra'],
    'bad umask': ['-m', '99'],
    'bad loglevel': ['-e', 'loud'],
    'bad minfds': ['-a', 'many'],
    'missing value': ['-c'],
    'twice the same option': ['-n', '-n'],
    'help': ['-h'],
    'version': ['-v'],
  };
  for (const [what, args] of Object.entries(cases)) {
    it(what, () => {
      const r = both({}, () => args);
      if (what === 'help') {
        // Same text, less the --profile_options lines (no Python profiler here).
        expect(r.fastvisor.status).toBe(0);
        expect(r.fastvisor.stdout).toBe(r.supervisord.stdout.replace(/--profile_options[^)]*\)\n/, ''));
        return;
      }
      expect(r.fastvisor).toEqual(r.supervisord);
    });
  }
});

describe('daemonizing', () => {
  it('returns once the daemon is up: pid file written, socket answering; TERM ends it and its children', async () => {
    const dir = tmpDir('fv-daemonize-');
    const conf = path.join(dir, 'd.conf');
    writeFileSync(
      conf,
      `[supervisord]\nlogfile=${dir}/d.log\npidfile=${dir}/d.pid\nchildlogdir=${dir}\n[unix_http_server]\nfile=${dir}/d.sock\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n[program:sleeper]\ncommand=/bin/sleep 300\nstartsecs=0\n`,
    );
    const r = launch('fastvisor', ['-c', conf], dir);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    // The launcher has returned: the pid file and socket exist already.
    const pid = Number(readFileSync(path.join(dir, 'd.pid'), 'utf8'));
    try {
      expect(pidAlive(pid)).toBe(true);
      const state = await rpcCall(path.join(dir, 'd.sock'), 'supervisor.getState');
      expect(state).toEqual({ statecode: 1, statename: 'RUNNING' });
      const info = (await pollUntil(async () => {
        const i = (await rpcCall(path.join(dir, 'd.sock'), 'supervisor.getProcessInfo', ['sleeper'])) as { statename: string; pid: number };
        return i.statename === 'RUNNING' && i;
      })) as { pid: number };
      // Its own session: a new session id, no controlling terminal.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      expect(Number(fields[3])).toBe(pid); // session id
      expect(childrenOf(pid)).toContain(info.pid);
      process.kill(pid, 'SIGTERM');
      await pollUntil(() => !pidAlive(pid) && !pidAlive(info.pid), { what: 'daemon and child gone', timeout: 15_000 });
      expect(existsSync(path.join(dir, 'd.pid'))).toBe(false);
      expect(existsSync(path.join(dir, 'd.sock'))).toBe(false);
      expect(readFileSync(path.join(dir, 'd.log'), 'utf8')).toMatch(/WARN received SIGTERM indicating exit request\n.*stopped: sleeper \(terminated by SIGTERM\)/s);
    } finally {
      for (const p of [pid]) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });

  it('fails with the start-up error when the port is taken, exit 2, nothing left running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = both(
        { 'p.conf': `${BASE}[inet_http_server]\nport=127.0.0.1:${port}\n[program:a]\ncommand=/bin/sleep 300\n` },
        (dir) => ['-c', path.join(dir, 'p.conf')],
      );
      expect(r.fastvisor).toEqual(r.supervisord);
      expect(r.fastvisor.status).toBe(2);
      expect(r.fastvisor.stderr).toContain('Another program is already listening on a port');
    } finally {
      blocker.close();
    }
  });
});

describe('without [rpcinterface:supervisor]', () => {
  it('there is no supervisor namespace, and supervisorctl says so as it does with supervisord', async () => {
    const out: Record<string, { status: number | null; stdout: string; stderr: string }> = {};
    for (const kind of KINDS) {
      const dir = tmpDir(`fv-norpc-${kind}-`);
      const conf = path.join(dir, 'n.conf');
      writeFileSync(
        conf,
        `[supervisord]\nlogfile=${dir}/d.log\npidfile=${dir}/d.pid\nchildlogdir=${dir}\n[unix_http_server]\nfile=${dir}/d.sock\n[supervisorctl]\nserverurl=unix://${dir}/d.sock\n`,
      );
      expect(launch(kind, ['-c', conf], dir).status).toBe(0);
      // supervisord's launcher returns before its daemon has written the pid file.
      const pidfile = path.join(dir, 'd.pid');
      const pid = await pollUntil(() => existsSync(pidfile) && Number(readFileSync(pidfile, 'utf8')), { what: 'pid file' });
      try {
        const r = supervisorctl(conf, ['status']);
        out[kind] = { ...r, stdout: r.stdout.replaceAll(dir, '@DIR@') };
      } finally {
        process.kill(pid, 'SIGTERM');
        await pollUntil(() => !pidAlive(pid), { what: `${kind} gone` });
      }
    }
    expect(out.fastvisor).toEqual(out.supervisord);
    expect(out.fastvisor!.stdout).toContain('did not recognize the supervisor namespace');
  });
});
