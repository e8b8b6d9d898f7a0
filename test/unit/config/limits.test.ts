// SPDX-License-Identifier: MIT
// Numbers past what a JS number or a C int holds, names no file can have,
// widths no string can have: where supervisord 4.2.5 reads such a config and
// answers at once, loadConfig answers the same (exactly, and about as fast);
// where supervisord reads it and then hangs or dies with a traceback once
// running, loadConfig refuses it with a message in supervisord's words.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseCommandLine, UsageError } from '../../../src/cli/supervisord-options.js';
import * as dt from '../../../src/config/datatypes.js';
import { expand } from '../../../src/config/expand.js';
import { createAutoLogName } from '../../../src/log/channel-spec.js';
import { python } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';
import { prepare, runOurs, runPython, type Case, type Outcome, type Prepared } from './real-supervisord.js';

const conf = (...lines: string[]): string => `${lines.join('\n')}\n`;
const SD = '[supervisord]';
const HUGE = '99999999999999999999999';

/** Read alike by supervisord, at once: same model or same "Error:" text. */
const SAME: Case[] = [
  {
    name: 'numprocs_start past 2**53 counts exactly (supervisord starts a_9007199254740993 and a_9007199254740994)',
    files: {
      'supervisord.conf': conf(SD, '[program:a]', 'command=/bin/a %(process_num)d', 'numprocs=2',
        'numprocs_start=9007199254740993', 'process_name=a_%(process_num)s',
        'environment=N=%(process_num)x,E=%(process_num).3e,F=%(process_num)f'),
    },
  },
  {
    name: 'a huge negative numprocs_start',
    files: {
      'supervisord.conf': conf(SD, '[program:a]', 'command=/bin/a', 'numprocs=2', `numprocs_start=-${HUGE}`,
        'process_name=a_%(process_num)d'),
    },
  },
  { name: 'an inet port far out of range, with every digit', files: { 'supervisord.conf': conf(SD, '[inet_http_server]', `port=h:${HUGE}`) } },
  { name: 'a huge inet port without a host', files: { 'supervisord.conf': conf(SD, '[inet_http_server]', `port=${HUGE}`) } },
  {
    name: 'a huge socket_backlog, with every digit',
    files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=tcp://h:1', `socket_backlog=${HUGE}`) },
  },
  {
    name: 'a huge negative buffer_size, with every digit',
    files: { 'supervisord.conf': conf(SD, '[eventlistener:e]', 'command=e', 'events=EVENT', `buffer_size=-${HUGE}`) },
  },
  { name: 'a uid past uid_t (getent wraps 4294967296 to root)', files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a', 'user=4294967296') } },
  { name: 'uid 4294967295 is (uid_t)-1', files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a', 'user=4294967295') } },
  { name: 'a chown gid past gid_t', files: { 'supervisord.conf': conf(SD, '[unix_http_server]', 'file=/tmp/s', 'chown=0:4294967296') } },
  { name: 'a [supervisord] user past uid_t', files: { 'supervisord.conf': conf(SD, 'user=4294967296') } },
  {
    name: 'a width of ten million: the int() error, its repr cut at 200 characters',
    files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a', 'startsecs=%(here)9999999s') },
  },
  {
    name: 'a precision past INT_MAX - 3',
    files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a %(process_num).2147483645d') },
  },
  {
    name: 'values right at the bounds are read as supervisord reads them',
    files: {
      'supervisord.conf': conf(SD, 'minfds=9007199254740991', 'minprocs=-9007199254740991', 'logfile_backups=2147483647',
        'logfile_maxbytes=8388607GB', 'umask=17777777777', '[unix_http_server]', 'file=/tmp/s', 'chmod=0o17777777777',
        '[program:a]', 'command=a', 'priority=-9007199254740991', 'startsecs=9007199254740991', 'stopwaitsecs=0',
        'startretries=9007199254740991', 'stdout_logfile_backups=-2147483648', 'stdout_capture_maxbytes=-8388607GB',
        'umask=0', 'user=0'),
    },
  },
];

/**
 * Read by supervisord and run until it hangs or dies: refused here, as a
 * config error. `hangs`: supervisord's own reading never ends (not asked).
 */
const REFUSED: Array<Case & { error: string | RegExp; hangs?: true }> = [
  {
    name: 'minfds past 2**53 (setrlimit got a wrapped, tiny limit: EMFILE on the log file)',
    files: { 'supervisord.conf': conf(SD, `minfds=${HUGE}`) },
    error: `${HUGE} is above upper bound (9007199254740991)`,
  },
  {
    name: 'minprocs past 2**53',
    files: { 'supervisord.conf': conf(SD, 'minprocs=9007199254740992') },
    error: '9007199254740992 is above upper bound (9007199254740991)',
  },
  {
    name: 'chmod past a C int (Node said "The value of "mode" is out of range")',
    files: { 'supervisord.conf': conf(SD, '[unix_http_server]', 'file=/tmp/s', 'chmod=77777777777') },
    error: 'Invalid chmod value 77777777777',
  },
  {
    name: 'a negative chmod',
    files: { 'supervisord.conf': conf(SD, '[unix_http_server]', 'file=/tmp/s', 'chmod=-7') },
    error: 'Invalid chmod value -7',
  },
  {
    name: 'a [supervisord] umask past a C int',
    files: { 'supervisord.conf': conf(SD, 'umask=77777777777') },
    error: '77777777777 can not be converted to an octal type',
  },
  {
    name: 'a program umask past a C int (the spawn would skip it)',
    files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a', 'umask=37777777777') },
    error: "37777777777 can not be converted to an octal type in section 'program:a' (file: 'supervisord.conf')",
  },
  {
    name: 'an fcgi socket_mode past a C int',
    files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=unix:///tmp/f.sock', 'socket_mode=77777777777') },
    error: 'Invalid socket_mode value 77777777777',
  },
  {
    name: 'numprocs past 2**53',
    files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a', `numprocs=${HUGE}`, 'process_name=%(process_num)d') },
    error: `${HUGE} is above upper bound (9007199254740991) in section 'program:a' (file: 'supervisord.conf')`,
    hangs: true,
  },
  {
    name: 'numprocs past what Linux can run (2**31: fastvisor held 3.5 GB a minute later, found by npm run fuzz)',
    files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a', 'numprocs=2147483648', 'process_name=%(process_num)d') },
    error: "numprocs=2147483648 is more processes than any Linux system can run at once (at most 4194304) in section 'program:a' (file: 'supervisord.conf')",
    hangs: true,
  },
  ...['priority', 'startsecs', 'startretries', 'stopwaitsecs'].map((opt) => ({
    name: `${opt} past 2**53`,
    files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a', `${opt}=-${HUGE}`) },
    error: new RegExp(`^-${HUGE} is below lower bound \\(-9007199254740991\\)`),
  })),
  {
    name: 'a logfile_backups the rotation would wrap (4294967297 kept 1 backup)',
    files: { 'supervisord.conf': conf(SD, 'logfile_backups=4294967297') },
    error: '4294967297 is above upper bound (2147483647)',
  },
  {
    name: 'stdout_logfile_backups past a C int',
    files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a', 'stdout_logfile_backups=-2147483649') },
    error: "-2147483649 is below lower bound (-2147483648) in section 'program:a' (file: 'supervisord.conf')",
  },
  {
    name: 'a logfile_maxbytes past 2**53',
    files: { 'supervisord.conf': conf(SD, 'logfile_maxbytes=8388608GB') },
    error: '9007199254740992 is above upper bound (9007199254740991)',
  },
  {
    name: 'a capture_maxbytes past 2**53',
    files: { 'supervisord.conf': conf(SD, '[program:a]', 'command=a', `stderr_capture_maxbytes=${HUGE}`) },
    error: new RegExp(`^${HUGE} is above upper bound`),
  },
  {
    name: 'an eventlistener buffer_size past 2**53',
    files: { 'supervisord.conf': conf(SD, '[eventlistener:e]', 'command=e', 'events=EVENT', `buffer_size=${HUGE}`) },
    error: `${HUGE} is above upper bound (9007199254740991)`,
  },
  {
    name: 'an AUTO log name with a NUL byte (identifier)',
    files: { 'supervisord.conf': conf(SD, 'identifier=ab\0cd', '[program:a]', 'command=a') },
    error: "cannot create an AUTO stdout_logfile for process 'a': embedded null byte in section 'program:a' (file: 'supervisord.conf')",
  },
  {
    name: 'an AUTO log name too long for the file system (a 5000-character identifier)',
    files: { 'supervisord.conf': conf(SD, `identifier=${'x'.repeat(5000)}`, '[program:a]', 'command=a') },
    error: /^cannot create an AUTO stdout_logfile for process 'a': \[Errno 36\] File name too long: '\/.*\/a-stdout---x{5000}-XXXXXXXX\.log' in section 'program:a' \(file: 'supervisord\.conf'\)$/,
  },
  {
    name: 'an AUTO log name one byte too long (a 256-byte file name)',
    files: { 'supervisord.conf': conf(SD, `identifier=${'é'.repeat(117)}`, '[program:a]', 'command=a', 'redirect_stderr=true') },
    error: /^cannot create an AUTO stdout_logfile .*\[Errno 36\] File name too long/,
  },
  {
    name: 'identifier=%(here)s puts a / in the AUTO log name: a directory that does not exist',
    files: { 'supervisord.conf': conf(SD, 'identifier=%(here)s', '[program:a]', 'command=a', 'stdout_logfile=NONE') },
    error: /^cannot create an AUTO stderr_logfile for process 'a': \[Errno 2\] No such file or directory: '\/[^']+\/tmp\/a-stderr---\/[^']+-XXXXXXXX\.log' in section 'program:a'/,
  },
];

const root = tmpDir('fv-limits-');
let prepared: Prepared[];
let py: Outcome[];

beforeAll(() => {
  prepared = prepare(root, [...SAME, ...REFUSED]);
  const asked = prepared.filter((p) => !('hangs' in p.case));
  const answers = runPython(asked);
  py = prepared.map((p) => {
    const i = asked.indexOf(p);
    return i < 0 ? { ok: 'not asked: supervisord never finishes reading it' } : answers[i]!;
  });
});
afterAll(removeTmpDirs);

describe('loadConfig = supervisord 4.2.5 on huge values', () => {
  SAME.forEach((c, i) =>
    it(c.name, () => {
      expect(py[i]).not.toHaveProperty('crash');
      const t0 = performance.now();
      const ours = runOurs(prepared[i]!);
      // supervisord takes 0.4 s for the ten-million-wide one; this took 3 to 6 s.
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(ours).toEqual(py[i]);
    }),
  );

  it('the numprocs_start model keeps both processes, with exact names, environment and command', () => {
    const ours = runOurs(prepared[0]!) as { ok: { groups: Array<{ processes: Array<{ name: string; command: string; environment: Record<string, string> }> }> } };
    expect(ours.ok.groups[0]!.processes.map((p) => [p.name, p.command, p.environment])).toEqual([
      ['a_9007199254740993', '/bin/a 9007199254740993', { N: '20000000000001', E: '9.007e+15', F: '9007199254740992.000000' }],
      ['a_9007199254740994', '/bin/a 9007199254740994', { N: '20000000000002', E: '9.007e+15', F: '9007199254740994.000000' }],
    ]);
  });
});

describe('values supervisord reads and then dies or hangs on are refused with the config', () => {
  REFUSED.forEach((c, i) =>
    it(c.name, () => {
      // supervisord's own reading accepts it (the failure comes once it runs).
      expect(Object.keys(py[SAME.length + i]!)).toEqual(['ok']);
      const ours = runOurs(prepared[SAME.length + i]!);
      expect(Object.keys(ours)).toEqual(['error']);
      const message = (ours as { error: string }).error;
      if (typeof c.error === 'string') expect(message).toBe(c.error);
      else expect(message).toMatch(c.error);
    }),
  );
});

describe('the command line, as the file', () => {
  const usage = (argv: string[]): string => {
    try {
      parseCommandLine(argv);
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as Error).message;
    }
    throw new Error('expected a UsageError');
  };

  it('-a, --minprocs, -z, -y and -m refuse what the file refuses', () => {
    expect(usage(['-a', HUGE])).toBe(`invalid value for -a '${HUGE}': ${HUGE} is above upper bound (9007199254740991)`);
    expect(usage(['--minprocs', HUGE])).toBe(
      `invalid value for --minprocs '${HUGE}': ${HUGE} is above upper bound (9007199254740991)`,
    );
    expect(usage(['-z', '4294967297'])).toBe("invalid value for -z '4294967297': 4294967297 is above upper bound (2147483647)");
    expect(usage(['-y', '8388608GB'])).toMatch(/is above upper bound \(9007199254740991\)$/);
    expect(usage(['-m', '77777777777'])).toBe("invalid value for -m '77777777777': 77777777777 can not be converted to an octal type");
  });

  it('ordinary values pass as before', () => {
    expect(parseCommandLine(['-a', '4096', '--minprocs', '400', '-z', '4', '-y', '1MB', '-m', '077'])).toEqual({
      kind: 'run',
      configfile: null,
      overrides: { minfds: 4096, minprocs: 400, logfile_backups: 4, logfile_maxbytes: 1048576, umask: 0o77 },
    });
  });
});

describe('expand() on widths, precisions and ints no double holds', () => {
  type R = { ok: string } | { err: string };
  const N = { here: '/etc', big: 9007199254740993n, neg: -(2n ** 70n), wide: 2n ** 63n, int: 2n ** 31n, far: 10n ** 400n };
  const formats = [
    '%(big)d %(big)i %(big)x %(big)#o %(big)+d %(big)030d %(big)-22d|',
    '%(neg)d %(neg)X %(neg).30d',
    '%(big)e %(big)f %(big).3g %(big)G',
    '%(far)e',
    '%(far)d',
    '%(big)c',
    '%(big)s %(big)r %(big)a',
    '%(wide)*d',
    '%(big)*d',
    '%(int).*d',
    '%(neg)*d',
    '%(big)s %s',
    '%(here).2147483645d',
    '%(big).2147483645d',
  ];
  const want = python<R[]>(
    `import json, sys
from supervisor.options import expand
d = json.load(sys.stdin)
names = {k: (int(v[4:]) if v.startswith('int:') else v) for k, v in d['names'].items()}
out = []
for s in d['formats']:
    try: out.append({"ok": expand(s, names, "program:a.command")})
    except ValueError as e: out.append({"err": str(e)})
print(json.dumps(out))`,
    { names: Object.fromEntries(Object.entries(N).map(([k, v]) => [k, typeof v === 'bigint' ? `int:${v}` : v])), formats },
  );
  const ours = (s: string): R => {
    try {
      return { ok: expand(s, N, 'program:a.command') };
    } catch (e) {
      return { err: (e as Error).message };
    }
  };

  it.each(formats.map((f, i) => [f, i] as const))('%s as supervisord', (f, i) => {
    expect(ours(f)).toEqual(want[i]);
  });

  it('a width past the longest string V8 builds is refused at once, before anything is allocated', () => {
    const cases: Array<[string, string]> = [
      ['%(here)999999999s', 'width too big'],
      ['%(here)-9999999999s', 'width too big'],
      ['%(big)0999999999d', 'width too big'],
      ['%(big).999999999e', 'precision too large'],
      // Python tries, and needs 2 GB for it.
      ['%(big).2147483644d', 'precision too large'],
      // Several wide pieces that only together pass the limit.
      ['%(here)400000000s%(here)400000000s', 'width too big'],
    ];
    for (const [f, why] of cases) {
      const t0 = performance.now();
      const r = ours(f);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(r).toEqual({ err: `Format string '${f}' for 'program:a.command' is badly formatted: ${why}` });
    }
  });

  it('a ten-million-wide value still expands, as in supervisord', () => {
    expect(ours('%(here)9999999s')).toEqual({ ok: `${' '.repeat(9999999 - 4)}/etc` });
  });
});

describe('int() on megabytes of padding', () => {
  it('fails as fast as on a short string, with the same message as Python', () => {
    const values = [
      `${' '.repeat(9_999_990)}/tmp/x`,
      `${'é'.repeat(3_000_000)}x`,
      `${'1'.repeat(5_000_000)}`,
      `${'\u00a0'.repeat(3_000_000)}12\u00a0`,
      `'"${'\\'.repeat(300)}`,
      `\u{1f600}${'\u0085'.repeat(300)}`,
      `  12  ${'\t'.repeat(1_000_000)}`,
    ];
    const want = python<string[]>(
      `import json, sys
out = []
for v in json.load(sys.stdin):
    try: out.append(str(int(v)))
    except ValueError as e: out.append('error: ' + str(e))
print(json.dumps(out))`,
      values,
    );
    const t0 = performance.now();
    const got = values.map((v) => {
      try {
        return String(dt.pyInt(v));
      } catch (e) {
        return `error: ${(e as Error).message}`;
      }
    });
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(got).toEqual(want);
  });

  it('repr() of a long string is unchanged', () => {
    const values = ['x'.repeat(1000), `it's ${'y'.repeat(500)}`, `"'\\${'z'.repeat(300)}`, `é\u0000\u{1f600}${'w'.repeat(300)}`];
    expect(values.map(dt.pyRepr)).toEqual(
      python<string[]>('import json, sys; print(json.dumps([repr(v) for v in json.load(sys.stdin)]))', values),
    );
  });
});

describe('an AUTO log that cannot be created when the process is made', () => {
  it('is named anyway, uncreated, so the spawn reports the errno (supervisord: a traceback)', () => {
    const dir = tmpDir('fv-autolog-');
    const gone = path.join(dir, 'gone');
    const name = createAutoLogName(gone, 'a', 'stdout', 'supervisor');
    expect(name).toMatch(new RegExp(`^${gone}/a-stdout---supervisor-[a-z0-9_]{8}\\.log$`));
    expect(existsSync(name)).toBe(false);
  });

  it('is created in an absolute childlogdir, as mkstemp does with abspath(dir)', () => {
    const dir = tmpDir('fv-autolog-');
    mkdirSync(path.join(dir, 'logs'));
    const before = process.cwd();
    process.chdir(dir);
    try {
      const name = createAutoLogName('logs', 'a', 'stderr', 'sv');
      expect(name).toMatch(new RegExp(`^${dir}/logs/a-stderr---sv-[a-z0-9_]{8}\\.log$`));
      expect(existsSync(name)).toBe(true);
    } finally {
      process.chdir(before);
    }
  });
});
