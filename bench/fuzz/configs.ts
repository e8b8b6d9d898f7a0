// SPDX-License-Identifier: MIT
// Generated config files for the config phase of npm run fuzz and its test sample: a
// plausible config with wrong values, unknown sections and options, huge numbers,
// expansions that name nothing or themselves, include cycles, and binary garbage, all
// from a seeded generator so a case number always means the same files.
import { int, type Rand } from './attacks.js';

function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** The fastvisor-only options the generator sets (supervisord ignores them). */
export const FASTVISOR_ONLY_OPTIONS = [
  'cgroup_root', 'metrics', 'backoff', 'backoff_max', 'restart_delay', 'depends_on', 'ready', 'memory_max', 'cpu_max',
  'schedule', 'environment_file', 'healthcheck',
] as const;

/** Options per section (supervisord's, and a few of fastvisor's own). */
const OPTIONS: Record<string, readonly string[]> = {
  supervisord: [
    'logfile', 'logfile_maxbytes', 'logfile_backups', 'loglevel', 'pidfile', 'umask', 'nodaemon', 'silent', 'minfds',
    'minprocs', 'nocleanup', 'childlogdir', 'user', 'directory', 'strip_ansi', 'environment', 'identifier',
    'cgroup_root', 'metrics',
  ],
  program: [
    'command', 'process_name', 'numprocs', 'numprocs_start', 'priority', 'autostart', 'startsecs', 'startretries',
    'autorestart', 'exitcodes', 'stopsignal', 'stopwaitsecs', 'stopasgroup', 'killasgroup', 'user', 'redirect_stderr',
    'stdout_logfile', 'stdout_logfile_maxbytes', 'stdout_logfile_backups', 'stdout_capture_maxbytes',
    'stdout_events_enabled', 'stdout_syslog', 'stderr_logfile', 'stderr_logfile_maxbytes', 'stderr_logfile_backups',
    'stderr_capture_maxbytes', 'stderr_events_enabled', 'stderr_syslog', 'environment', 'directory', 'umask',
    'serverurl', 'backoff', 'backoff_max', 'restart_delay', 'depends_on', 'ready', 'memory_max', 'cpu_max',
    'schedule', 'environment_file', 'healthcheck',
  ],
  eventlistener: ['command', 'events', 'buffer_size', 'result_handler', 'numprocs', 'process_name', 'priority'],
  group: ['programs', 'priority'],
  unix_http_server: ['file', 'chmod', 'chown', 'username', 'password'],
  inet_http_server: ['port', 'username', 'password'],
  supervisorctl: ['serverurl', 'username', 'password', 'prompt', 'history_file'],
  include: ['files'],
  rpcinterface: ['supervisor.rpcinterface_factory', 'retries'],
  'fcgi-program': ['command', 'socket', 'socket_backlog', 'socket_owner', 'socket_mode', 'process_name', 'numprocs'],
};

const HUGE = [
  '99999999999999999999999', '9007199254740993', '-9007199254740993', '1e400', '-1', '0', '-0', '2147483648',
  '4294967296', '18446744073709551616', '0x10', '0o777', '1_000', '١٢٣', ' 7 ', '+5', '07', 'inf', 'nan', '1.5',
  '1000000000000GB', '10XB', '5KB', '-5MB', '9'.repeat(400),
];

const WORDS = [
  '', ' ', 'true', 'false', 'yes', 'no', 'on', 'off', 'maybe', 'unexpected', 'TERM', 'SIGKILL', 'NOPE', '0,300',
  '0,1,2', 'AUTO', 'NONE', 'syslog', '/dev/null', '/nonexistent/dir/x.log', 'nobody', 'root', 'no-such-user-fv',
  'nobody:nogroup', 'x:y', 'debug', 'blather', 'critical', 'PROCESS_STATE', 'TICK_5,PROCESS_LOG', 'NOT_AN_EVENT',
  'A="x', 'A=1,B="2"', 'A=%(ENV_FOO)s', "A='", 'a,b', 'a,,b', 'p0', 'g', 'http://127.0.0.1:9001', 'unix:///tmp/x.sock',
  'tcp://localhost:9002', 'unix://relative.sock', 'supervisor.rpcinterface:make_main_rpcinterface', 'my.module:f',
  'exponential', 'linear', 'cmd:true', 'tcp:127.0.0.1:1', '*/5 * * * *', '61 25 32 13 8', 'line:ready', '%(here)s',
  '\u00e9t\u00e9', 'a\tb', '\\', ';comment', '#x', '[x]', '= =', '127.0.0.1:0', ':9001', '*:9001', '[::1]:9001',
  'localhost:99999', 'host.invalid:9001', '0700', '777', '8', 'x'.repeat(5000),
];

/** Expansions, good and bad: unknown names, formats, widths, self-reference through the environment. */
const EXPANSIONS = [
  '%(here)s', '%(program_name)s', '%(process_num)02d', '%(group_name)s', '%(host_node_name)s', '%(ENV_FOO)s',
  '%(ENV_LOOP)s', '%(ENV_NOPE)s', '%(nope)s', '%(here)', '%(', '%', '%%', '%(here)d', '%(process_num)s',
  '%(here)999s', '%(here)9999999s', '%(here)-5.2s', '%(numprocs)d', '%(here)r', '%(here)x', '%()s', '%(ENV_)s',
  '%(here)s%(here)s%(here)s', '%(ENV_FOO)s%(ENV_LOOP)s',
];

function value(r: Rand): string {
  switch (int(r, 0, 5)) {
    case 0:
      return pick(r, HUGE);
    case 1:
    case 2:
      return pick(r, WORDS);
    case 3:
      return pick(r, EXPANSIONS);
    case 4:
      return `${pick(r, WORDS)}${pick(r, EXPANSIONS)}${pick(r, WORDS)}`;
    default:
      return `/bin/sleep ${pick(r, HUGE)}`;
  }
}

function sectionName(r: Rand, kind: string): string {
  const name = pick(r, ['a', 'b', 'x y', '', 'a:b', 'é', '%(here)s', ' a ', 'a'.repeat(300), 'g']);
  switch (kind) {
    case 'program':
    case 'eventlistener':
    case 'group':
    case 'fcgi-program':
    case 'rpcinterface':
      return `${kind}:${name}`;
    case 'inet_http_server':
    case 'unix_http_server':
      return r() < 0.8 ? kind : `${kind}:${name}`;
    default:
      return kind;
  }
}

/** One section: mostly known options with a sensible start, then hostile values. */
function section(r: Rand, kind: string, dir: string): string {
  const lines = [`[${sectionName(r, kind)}]`];
  if (kind === 'program' || kind === 'eventlistener' || kind === 'fcgi-program') {
    if (r() < 0.85) lines.push('command=/bin/sleep 300');
    if (kind === 'eventlistener' && r() < 0.7) lines.push('events=PROCESS_STATE');
    if (kind === 'fcgi-program' && r() < 0.7) lines.push(`socket=unix://${dir}/fcgi.sock`);
    // Huge numprocs with a name that allows them: a loop over every process to be.
    if (r() < 0.05) lines.push('process_name=%(program_name)s_%(process_num)d', `numprocs=${pick(r, HUGE)}`);
  }
  if (kind === 'unix_http_server' && r() < 0.7) lines.push(`file=${dir}/s.sock`);
  if (kind === 'inet_http_server' && r() < 0.7) lines.push('port=127.0.0.1:0');
  if (kind === 'rpcinterface' && r() < 0.7) lines.push('supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface');
  const keys = OPTIONS[kind] ?? ['x'];
  const n = int(r, 0, 4);
  for (let i = 0; i < n; i++) {
    const key = r() < 0.9 ? pick(r, keys) : pick(r, ['unknown_option', 'Command', ' command', 'command ', '', '[', 'a=b']);
    const sep = pick(r, ['=', '=', '=', ' = ', ':', ' : ']);
    lines.push(`${key}${sep}${value(r)}`);
  }
  return lines.join('\n');
}

function base(dir: string): string {
  return `[supervisord]\nlogfile=${dir}/sd.log\npidfile=${dir}/sd.pid\nchildlogdir=${dir}\n`;
}

/** Text-level damage to a whole file: continuation lines, duplicates, CRLF, BOM, cuts, bytes. */
function damage(r: Rand, text: Buffer): Buffer {
  let b = text;
  const edits = int(r, 0, 3);
  for (let i = 0; i < edits; i++) {
    const at = int(r, 0, b.length);
    switch (int(r, 0, 7)) {
      case 0:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, ['\n  continued', '\n\tx=y', '\r\n', '\r', '\x00', '\ufeff', '\n[', ']\n', '\n=', '\n;', '\n%(']), 'utf8'), b.subarray(at)]);
        break;
      case 1: {
        const c = Buffer.from(b);
        if (c.length) c[Math.min(at, c.length - 1)] = int(r, 0, 255);
        b = c;
        break;
      }
      case 2:
        b = b.subarray(0, at);
        break;
      case 3: {
        // a line repeated: duplicate options and sections
        const start = b.lastIndexOf(10, at - 1) + 1;
        const end = b.indexOf(10, at);
        const line = b.subarray(start, end < 0 ? b.length : end + 1);
        b = Buffer.concat([b, Buffer.from('\n'), line]);
        break;
      }
      case 4:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), b.subarray(at)]);
        break;
      default:
        break;
    }
  }
  return b;
}

function garbage(r: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 0, 255);
  return b;
}

export interface GeneratedConfig {
  /** what kind of damage, for the tally */
  kind: string;
  /** files relative to the case directory; supervisord.conf is the one given to -c */
  files: Record<string, string | Buffer>;
  /** environment added for the case (ENV_LOOP refers to itself) */
  env: Record<string, string>;
}

const KINDS = ['program', 'program', 'program', 'eventlistener', 'group', 'unix_http_server', 'inet_http_server', 'supervisorctl', 'rpcinterface', 'fcgi-program', 'unknown', 'include'];

/** Case `i` of the seeded sequence; `dir` is where it will be written (absolute paths point there). */
export function generatedConfig(r: Rand, dir: string): GeneratedConfig {
  const env = { LOOP: '%(ENV_LOOP)s', FOO: 'bar' };
  const roll = r();
  if (roll < 0.05) return { kind: 'binary garbage', files: { 'supervisord.conf': garbage(r, int(r, 0, 4096)) }, env };
  if (roll < 0.1) {
    const text = Buffer.concat([Buffer.from(base(dir)), garbage(r, int(r, 1, 512))]);
    return { kind: 'garbage after [supervisord]', files: { 'supervisord.conf': text }, env };
  }
  if (roll < 0.115) {
    // A clean config whose only fault is more processes than any system can run.
    const n = pick(r, ['2147483648', '4294967296', '4194305', '100000000', '9007199254740991']);
    const text = `${base(dir)}[program:a]\ncommand=/bin/sleep 300\nprocess_name=%(program_name)s_%(process_num)d\nnumprocs=${n}\n`;
    return { kind: 'huge numprocs', files: { 'supervisord.conf': text }, env };
  }
  if (roll < 0.2) {
    // Include cycles: the main file includes a.conf, which includes b.conf, which includes a.conf and the main file.
    const files: Record<string, string> = {
      'supervisord.conf': `${base(dir)}[include]\nfiles=${pick(r, ['a.conf', 'conf.d/*.conf', '*.conf', 'supervisord.conf', `${dir}/a.conf b.conf`, 'nope/*.conf', '%(here)s/a.conf'])}\n`,
      'a.conf': `[include]\nfiles=b.conf supervisord.conf\n[program:a]\ncommand=/bin/sleep 300\n`,
      'b.conf': `[include]\nfiles=a.conf\n${section(r, pick(r, KINDS), dir)}\n`,
      'conf.d/c.conf': `${section(r, pick(r, KINDS), dir)}\n[include]\nfiles=../supervisord.conf\n`,
    };
    return { kind: 'include cycle', files, env };
  }
  const parts = [r() < 0.93 ? base(dir) : ''];
  const n = int(r, 1, 4);
  for (let i = 0; i < n; i++) {
    const kind = pick(r, KINDS);
    if (kind === 'unknown') parts.push(`[${pick(r, ['unknown', 'program', 'program:', 'Program:a', 'supervisord ', ' supervisord', 'x:y:z', ''])}]\nfoo=bar`);
    else if (kind === 'include') parts.push(`[include]\nfiles=${value(r)}`);
    else parts.push(section(r, kind, dir));
  }
  const text = damage(r, Buffer.from(parts.join('\n') + '\n'));
  return { kind: 'generated sections', files: { 'supervisord.conf': text }, env };
}
