// SPDX-License-Identifier: MIT
// The interactive shell. From a pipe, Python's and ours must print the same bytes.
// On a terminal (a pseudo-terminal driven by test/helpers/pty_session.py) line
// editing redraws differently, so both are held to the same observable behaviour:
// prompt, tab completion of commands and names, history, Ctrl-C, Ctrl-D, login.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CtlPair,
  DAEMONS,
  normalize,
  PY_CTL,
  PYTHON,
  REPO,
  spawnStreaming,
  startDaemon,
  TS_CTL,
  type RunningDaemon,
} from '../../helpers/ctl-harness.js';
import { killTracked, track } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const PROGRAMS = `
[program:alpha]
command=/bin/sleep 1000
startsecs=0

[program:echo]
command=/bin/cat
startsecs=0

[program:web]
command=/bin/sh -c 'echo hello; exec sleep 1000'
startsecs=0

[group:grp]
programs=a,b

[program:a]
command=/bin/sleep 1000
startsecs=0

[program:b]
command=/bin/sleep 1000
startsecs=0
`;

const KINDS = ['py', 'ts'] as const;
type Kind = (typeof KINDS)[number];

type Step = { send: string } | { expect: string; timeout?: number } | { sleep: number } | { wait_exit: number };

interface Session {
  raw: string;
  clean: string;
  failed: { index: number; step: Step } | null;
  code: number | null;
  signal: number | null;
}

const PROMPT = 'supervisor> ';
const UP = '\x1b[A';
const CTRL_C = '\x03';
const CTRL_D = '\x04';
const CTRL_U = '\x15';

/** Runs one session of `kind`'s supervisorctl on a pseudo-terminal. */
function pty(kind: Kind, argv: string[], steps: Step[], env: Record<string, string> = {}): Promise<Session> {
  const [cmd, pre] = kind === 'py' ? [PY_CTL, []] : TS_CTL;
  const spec = { argv: [cmd, ...pre, ...argv], cwd: REPO, env, steps };
  return new Promise((resolve, reject) => {
    const proc = spawn(PYTHON, [path.join(REPO, 'test/helpers/pty_session.py')], {
      detached: true,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    track(proc.pid!);
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    proc.on('close', () => {
      try {
        resolve(JSON.parse(out) as Session);
      } catch (e) {
        reject(e as Error);
      }
    });
    proc.stdin!.end(JSON.stringify(spec));
  });
}

/**
 * A session that must run every step. Python's gets a second try: 4.2.5's tail -f and fg
 * run asyncore (in a thread, for fg) that now and then swallows a Ctrl-C or a line under load.
 */
async function session(kind: Kind, argv: string[], steps: Step[], env?: Record<string, string>): Promise<Session> {
  let s = await pty(kind, argv, steps, env);
  if (s.failed && kind === 'py') s = await pty(kind, argv, steps, env);
  expect(s.failed, `${kind}: step ${JSON.stringify(s.failed?.step)} failed; saw:\n${s.clean}`).toBeNull();
  return s;
}

/**
 * Typing `text` then Tab. Node's readline completes only on a Tab that ends its read
 * (so a paste holding tabs is not completed); a person types it separately, and so do we.
 */
const typeTab = (text: string, tabs = 1): Step[] => [
  { send: text },
  { sleep: 0.15 },
  ...Array.from({ length: tabs }, (): Step[] => [{ send: '\t' }, { sleep: 0.3 }]).flat(),
];

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const expectText = (s: string, timeout?: number): Step => ({ expect: esc(s), timeout });
/** The prompt, last thing on the screen: the command before it has finished. */
const atPrompt: Step = { expect: `${esc(PROMPT)}$` };

describe.each(DAEMONS)('the shell against $name', (spec) => {
  let d: RunningDaemon;
  let auth: RunningDaemon;
  let pair: CtlPair;
  let dir: string;

  beforeAll(async () => {
    [d, auth] = await Promise.all([
      startDaemon(spec, { programs: PROGRAMS }),
      startDaemon(spec, { programs: PROGRAMS, auth: 'user:s3cret' }),
    ]);
    pair = new CtlPair();
    dir = tmpDir('fv-ctl-shell-');
  });
  afterAll(async () => {
    pair?.close();
    await Promise.all([d?.stop(), auth?.stop()]);
    killTracked();
    removeTmpDirs();
  });

  describe('from a pipe: byte for byte', () => {
    it.each([
      'status\nversion\n\nnope\npid\n',
      'help\nhelp status\n?start\nquit\nversion\n',
      'version',
      'tail web\nexit\nversion\n',
      'shutdown\nn\nreload\nno\nversion\n',
      'status web\n  status   alpha  \nEOF\nversion\n',
      'start\nfg\nmaintail a b\n',
    ])('%j', async (stdin) => {
      const { py, ts } = await pair.both({ argv: ['-c', d.conf], stdin });
      expect(normalize(ts)).toEqual(normalize(py));
      expect(py.code).toBe(0);
    });

    it('Ctrl-C at the prompt: an empty line, exit 0', async () => {
      const outs: string[] = [];
      for (const kind of KINDS) {
        const sh = spawnStreaming(kind, ['-c', d.conf]);
        await sh.waitFor(/\nsupervisor> $/);
        sh.interrupt();
        expect(await sh.exited()).toEqual({ code: 0, signal: null });
        outs.push(normalize({ stdout: sh.stdout(), stderr: sh.stderr(), code: 0 }).stdout);
      }
      expect(outs[0]).toMatch(/\nsupervisor> \n$/);
      expect(outs[1]).toBe(outs[0]);
    });

    it('the prompt from the [supervisorctl] section, and a login asked for', async () => {
      const conf = path.join(dir, 'prompt.conf');
      writeFileSync(conf, `[supervisorctl]\nserverurl=${auth.unixUrl}\nprompt=my %(ENV_FV_SITE)s\n`);
      for (const stdin of ['user\ns3cret\nversion\n', 'user\nwrong\n', 'user\n']) {
        const { py, ts } = await pair.both({ argv: ['-c', conf], stdin, env: { FV_SITE: 'site' } });
        expect(normalize(ts)).toEqual(normalize(py));
      }
    });
  });

  describe.each(KINDS)('on a terminal: %s', { timeout: 60_000 }, (kind) => {
    it('starts with status, then the prompt; Ctrl-D leaves with exit 0', async () => {
      const s = await session(kind, ['-c', d.conf], [
        { expect: `alpha +RUNNING +pid \\d+, uptime [^\\n]*\\n(.*\\n)*${esc(PROMPT)}$` },
        { send: CTRL_D },
        { wait_exit: 10 },
      ]);
      expect(s.code).toBe(0);
    });

    it('completes commands: one match at once, several listed on a second Tab', async () => {
      await session(kind, ['-c', d.conf], [
        atPrompt,
        ...typeTab('vers'),
        { send: '\r' },
        { expect: '\\n4\\.2\\.5\\n' },
        atPrompt,
        ...typeTab('sta', 2),
        { expect: 'start +status' },
        ...typeTab(CTRL_U + 'he'),
        { send: '\r' },
        { expect: 'default commands \\(type help <topic>\\):' },
        atPrompt,
        { send: 'quit\r' },
        { wait_exit: 10 },
      ]);
    });

    it('completes process and group names', async () => {
      await session(kind, ['-c', d.conf], [
        atPrompt,
        ...typeTab('status alp'),
        { send: '\r' },
        { expect: `status alpha \\n(alpha {28}RUNNING[^\\n]*\\n)${esc(PROMPT)}$` },
        ...typeTab('status grp:', 2),
        { expect: 'grp:\\* +grp:a +grp:b' },
        ...typeTab(CTRL_U + 'pid grp:b'),
        { send: '\r' },
        { expect: `pid grp:b \\n\\d+\\n${esc(PROMPT)}$` },
        ...typeTab('add g'),
        { send: '\r' },
        { expect: 'ERROR: process group already active\\n' },
        atPrompt,
        { send: 'exit\r' },
        { wait_exit: 10 },
      ]);
    });

    it('keeps a history: Up recalls the last line', async () => {
      await session(kind, ['-c', d.conf], [
        atPrompt,
        { send: 'version\r' },
        { expect: `4\\.2\\.5\\n${esc(PROMPT)}$` },
        { send: UP },
        { sleep: 0.2 },
        { send: '\r' },
        { expect: `4\\.2\\.5\\n${esc(PROMPT)}$` },
        { send: CTRL_D },
        { wait_exit: 10 },
      ]);
    });

    it('writes history_file on exit and reads it back next time', async () => {
      const hist = path.join(dir, `history-${kind}`);
      const conf = path.join(dir, `hist-${kind}.conf`);
      writeFileSync(conf, `[supervisorctl]\nserverurl=${d.unixUrl}\nhistory_file=%(here)s/history-${kind}\n`);
      writeFileSync(hist, 'pid\n');
      await session(kind, ['-c', conf], [
        atPrompt,
        { send: 'version\r' },
        expectText('4.2.5'),
        atPrompt,
        { send: 'avail\r' },
        { expect: 'alpha +in use' },
        atPrompt,
        { send: CTRL_D },
        { wait_exit: 10 },
      ]);
      expect(readFileSync(hist, 'utf8')).toBe('pid\nversion\navail\n');
      await session(kind, ['-c', conf], [
        atPrompt,
        { send: UP + UP },
        { sleep: 0.2 },
        { send: '\r' },
        expectText('4.2.5'),
        atPrompt,
        { send: CTRL_D },
        { wait_exit: 10 },
      ]);
    });

    it('Ctrl-C ends tail -f and returns to the prompt', async () => {
      await session(kind, ['-c', d.conf], [
        atPrompt,
        { send: 'tail -f web\r' },
        { expect: '==> Press Ctrl-C to exit <==\\n(.*\\n)?hello\\n' },
        { send: CTRL_C },
        atPrompt,
        { send: 'version\r' },
        expectText('4.2.5'),
        atPrompt,
        { send: 'quit\r' },
        { wait_exit: 10 },
      ]);
    });

    it('Ctrl-C at the prompt leaves with exit 0', async () => {
      const s = await session(kind, ['-c', d.conf], [atPrompt, { send: 'vers' }, { sleep: 0.2 }, { send: CTRL_C }, { wait_exit: 10 }]);
      expect(s.code).toBe(0);
      expect(s.clean).toMatch(/supervisor> vers?\n?$/);
    });

    it('fg: typed lines reach the process; Ctrl-C returns to the prompt', async () => {
      await session(kind, ['-c', d.conf], [
        atPrompt,
        { send: 'fg echo\r' },
        expectText('==> Press Ctrl-C to exit <=='),
        { sleep: 0.3 },
        { send: 'ping pong\r' },
        // Once echoed by the terminal, once by cat through the log.
        { expect: 'ping pong\\n(.*\\n)*ping pong\\n' },
        { send: CTRL_C },
        expectText('Exiting foreground'),
        atPrompt,
        { send: 'quit\r' },
        // 4.2.5's fg threads outlive fg and keep its process from exiting; ours exits.
        ...(kind === 'ts' ? [{ wait_exit: 10 }] : []),
      ]);
    });

    it('asks before reload; anything but y is no', async () => {
      await session(kind, ['-c', d.conf], [
        atPrompt,
        { send: 'reload\r' },
        expectText('Really restart the remote supervisord process y/N? '),
        { send: 'n\r' },
        atPrompt,
        { send: 'quit\r' },
        { wait_exit: 10 },
      ]);
    });

    it('logs in when the server asks, without echoing the password', async () => {
      const s = await session(kind, ['-s', auth.unixUrl], [
        expectText('Server requires authentication\nUsername:'),
        { send: 'user\r' },
        expectText('Password:'),
        { send: 's3cret\r' },
        { expect: 'alpha +RUNNING' },
        atPrompt,
        { send: 'version\r' },
        expectText('4.2.5'),
        atPrompt,
        { send: CTRL_D },
        { wait_exit: 10 },
      ]);
      expect(s.clean).not.toContain('s3cret');
    });
  });

  describe('ours only', () => {
    it('-r keeps a history (4.2.5 accepts -r and ignores it)', async () => {
      const hist = path.join(dir, 'dash-r');
      await session('ts', ['-c', d.conf, '-r', hist], [
        atPrompt,
        { send: 'pid\r' },
        { expect: `\\d+\\n${esc(PROMPT)}$` },
        { send: CTRL_D },
        { wait_exit: 10 },
      ]);
      expect(readFileSync(hist, 'utf8')).toBe('pid\n');
    });

    it('colours states on a terminal, unless NO_COLOR is set', async () => {
      const colour = await session('ts', ['-c', d.conf, 'status', 'alpha'], [{ wait_exit: 10 }]);
      expect(colour.raw).toMatch(/^alpha {28}\x1b\[32mRUNNING\x1b\[0m {3}pid \d+/);
      const plain = await session('ts', ['-c', d.conf, 'status', 'alpha'], [{ wait_exit: 10 }], { NO_COLOR: '1' });
      expect(plain.raw).toMatch(/^alpha {28}RUNNING {3}pid \d+/);
    });
  });
});
