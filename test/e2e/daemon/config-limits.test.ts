// SPDX-License-Identifier: MIT
// Huge numbers and impossible AUTO log names through the real command line:
// a numprocs_start past 2**53 runs as under supervisord; the rest stop
// start-up with "Error: ...", exit 2, and never a stack trace (supervisord
// itself hangs or dies with a traceback on most of these).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { launch, startDaemon, stopAllDaemons, type DaemonKind } from '../../helpers/daemon-harness.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(async () => {
  await stopAllDaemons();
  removeTmpDirs();
});

const BASE = '[supervisord]\nlogfile=@DIR@/sd.log\npidfile=@DIR@/sd.pid\nchildlogdir=@DIR@\n';

/** `-n -c` on the config: exit status and stderr, the directory and program name masked. */
function run(kind: DaemonKind, text: string): { status: number | null; stderr: string } {
  const dir = tmpDir(`fv-limits-${kind}-`);
  const conf = path.join(dir, 'c.conf');
  writeFileSync(conf, text.replaceAll('@DIR@', dir));
  const r = launch(kind, ['-n', '-c', conf], dir);
  const stderr = (r.stderr + r.stdout)
    .replaceAll(dir, '@DIR@')
    .replace(/For help, use \S+ -h/g, 'For help, use PROG -h');
  return { status: r.status, stderr };
}

describe('numprocs_start past 2**53', () => {
  it('names the processes a_9007199254740993 and a_9007199254740994, as supervisord does', async () => {
    const body = '[program:a]\ncommand=/bin/sleep 300\nautostart=false\nnumprocs=2\nnumprocs_start=9007199254740993\nprocess_name=a_%(process_num)s\n';
    const names: Record<string, string[]> = {};
    for (const kind of ['supervisord', 'fastvisor'] as const) {
      const d = await startDaemon(kind, body);
      const info = (await d.rpc('supervisor.getAllProcessInfo')) as Array<{ name: string }>;
      names[kind] = info.map((p) => p.name);
      await d.stop();
    }
    expect(names['fastvisor']).toEqual(['a_9007199254740993', 'a_9007199254740994']);
    expect(names['fastvisor']).toEqual(names['supervisord']);
  }, 60_000);
});

describe('start-up stops with "Error: ...", exit 2, no stack trace', () => {
  const cases: Record<string, { text: string; error: string | RegExp }> = {
    'minfds past 2**53 (was: EMFILE on the log file, setrlimit got a wrapped limit)': {
      text: `${BASE}minfds=99999999999999999999999\n[program:a]\ncommand=/bin/sleep 300\n`,
      error: 'Error: 99999999999999999999999 is above upper bound (9007199254740991)\nFor help, use PROG -h\n',
    },
    'a chmod past a C int (was: Node\'s "The value of "mode" is out of range")': {
      text: `${BASE}[unix_http_server]\nfile=@DIR@/s.sock\nchmod=77777777777\n`,
      error: 'Error: Invalid chmod value 77777777777\nFor help, use PROG -h\n',
    },
    'a NUL byte in identifier (was: a TypeError stack right after "supervisord started")': {
      text: `${BASE}identifier=ab\0cd\n[program:a]\ncommand=/bin/sleep 300\n`,
      error:
        "Error: cannot create an AUTO stdout_logfile for process 'a': embedded null byte in section 'program:a' (file: '@DIR@/c.conf')\nFor help, use PROG -h\n",
    },
    'a 5000-character identifier': {
      text: `${BASE}identifier=${'i'.repeat(5000)}\n[program:a]\ncommand=/bin/sleep 300\n`,
      error: new RegExp(
        `^Error: cannot create an AUTO stdout_logfile for process 'a': \\[Errno 36\\] File name too long: '@DIR@/a-stdout---i{5000}-XXXXXXXX\\.log' in section 'program:a' \\(file: '@DIR@/c\\.conf'\\)\\nFor help, use PROG -h\\n$`,
      ),
    },
    'identifier=%(here)s (a / in the AUTO log name)': {
      text: `${BASE}identifier=%(here)s\n[program:a]\ncommand=/bin/sleep 300\n`,
      error:
        "Error: cannot create an AUTO stdout_logfile for process 'a': [Errno 2] No such file or directory: '@DIR@/a-stdout---@DIR@-XXXXXXXX.log' in section 'program:a' (file: '@DIR@/c.conf')\nFor help, use PROG -h\n",
    },
    'a width V8 cannot build (was: a RangeError stack)': {
      text: `${BASE}[program:a]\ncommand=/bin/echo %(here)999999999s\n`,
      error:
        "Error: Format string '/bin/echo %(here)999999999s' for 'program:a.command' is badly formatted: width too big in section 'program:a' (file: '@DIR@/c.conf')\nFor help, use PROG -h\n",
    },
  };
  for (const [what, c] of Object.entries(cases)) {
    it(what, () => {
      const r = run('fastvisor', c.text);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.status).toBe(2);
      if (typeof c.error === 'string') expect(r.stderr).toBe(c.error);
      else expect(r.stderr).toMatch(c.error);
    });
  }

  it('a ten-million-wide %(here)s: the same error as supervisord', () => {
    const text = `${BASE}[program:a]\ncommand=/bin/sleep 300\nstartsecs=%(here)9999999s\n`;
    const ours = run('fastvisor', text);
    const theirs = run('supervisord', text);
    expect(ours).toEqual(theirs);
    expect(ours.status).toBe(2);
    expect(ours.stderr).toMatch(/^Error: invalid literal for int\(\) with base 10: ' {199} in section 'program:a'/);
  });
});
