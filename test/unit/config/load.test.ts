// SPDX-License-Identifier: MIT
// loadConfig against supervisord 4.2.5's own parser: each config below, good
// or bad, goes through both; the models (or the "Error: ..." texts) must match.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';
import { prepare, runOurs, runPython, type Case, type Outcome, type Prepared } from './real-supervisord.js';

const conf = (...lines: string[]): string => `${lines.join('\n')}\n`;
const SD = '[supervisord]';

// Every option of [program:x] set, none to its default.
const FULL_PROGRAM = conf(
  SD,
  '[program:full]',
  'command = /bin/sh -c "echo %(program_name)s %%done"',
  'process_name = full_%(process_num)s',
  'numprocs = 1',
  'numprocs_start = 3',
  'priority = 7',
  'autostart = false',
  'autorestart = true',
  'startsecs = 0',
  'startretries = 9',
  'exitcodes = 0,2,255',
  'stopsignal = usr1',
  'stopwaitsecs = 3',
  'stopasgroup = true',
  'killasgroup = true',
  'user = nobody',
  'redirect_stderr = false',
  'stdout_logfile = %(here)s/out-%(process_num)d.log',
  'stdout_logfile_maxbytes = 1KB',
  'stdout_logfile_backups = 2',
  'stdout_capture_maxbytes = 2mb',
  'stdout_events_enabled = yes',
  'stdout_syslog = on',
  'stderr_logfile = NONE',
  'stderr_logfile_maxbytes = 1GB',
  'stderr_logfile_backups = 0',
  'stderr_capture_maxbytes = 5',
  'stderr_events_enabled = 1',
  'stderr_syslog = off',
  'environment = A="x,y",B=%(ENV_FOO)s,C=%(process_num)d',
  'directory = /tmp/%(program_name)s',
  'umask = 002',
  'serverurl = http://example.com:1234',
);

const GOOD: Case[] = [
  { name: 'an empty [supervisord] section: all defaults', files: { 'supervisord.conf': conf(SD) } },
  { name: 'a program with every default', files: { 'supervisord.conf': conf(SD, '[program:cat]', 'command=/bin/cat') } },
  { name: 'a program with every option set', files: { 'supervisord.conf': FULL_PROGRAM } },
  {
    name: 'numprocs: names, logs, environment and directory per process_num',
    files: {
      'supervisord.conf': conf(
        SD,
        '[program:w]',
        'command=/bin/worker --n=%(process_num)d of %(numprocs)d',
        'process_name=%(program_name)s_%(process_num)02d',
        'numprocs=3',
        'numprocs_start=8',
        'stdout_logfile=%(here)s/w-%(process_num)d.log',
        'stdout_logfile_maxbytes=%(process_num)dKB',
        'environment=N="%(process_num)d",GROUP=%(group_name)s',
        'directory=/srv/%(process_num)d',
      ),
    },
  },
  {
    name: 'groups and programs sorted by priority, then name',
    files: {
      'supervisord.conf': conf(
        SD,
        '[program:zeta]',
        'command=/bin/z',
        'priority=5',
        '[program:alpha]',
        'command=/bin/a',
        'priority=5',
        '[program:first]',
        'command=/bin/f',
        'priority=-3',
        '[program:b]',
        'command=/bin/b %(group_name)s',
        'priority=20',
        '[program:a]',
        'command=/bin/a %(group_name)s',
        'priority=10',
        '[group:g]',
        'programs=b, a',
        'priority=5',
        '[group:empty]',
      ),
    },
  },
  {
    name: 'a program named twice in a group, and a process_name shared by two programs',
    files: {
      'supervisord.conf': conf(
        SD,
        '[group:g]',
        'programs=x,x,y',
        '[program:x]',
        'command=/bin/x',
        'process_name=same',
        '[program:y]',
        'command=/bin/y',
        'process_name=same',
      ),
    },
  },
  {
    name: 'event listeners: events, buffer_size, default priority -1',
    files: {
      'supervisord.conf': conf(
        SD,
        '[eventlistener:mon]',
        'command=/bin/listener',
        'events=process_state, TICK_5,PROCESS_STATE',
        'buffer_size=50',
        '[eventlistener:all]',
        'command=/bin/listener',
        'events=EVENT',
        'result_handler = supervisor.dispatchers : default_handler',
        'priority=3',
        'numprocs=2',
        'process_name=%(program_name)s-%(process_num)d',
      ),
    },
  },
  {
    name: 'fcgi programs: unix and tcp sockets',
    files: {
      'supervisord.conf': conf(
        SD,
        '[fcgi-program:php]',
        'command=/usr/bin/php-cgi',
        'socket=unix:///run/../tmp/%(program_name)s.sock',
        'socket_mode=0660',
        'socket_owner=nobody:nogroup',
        'socket_backlog=128',
        '[fcgi-program:app]',
        'command=/bin/app',
        'socket=tcp://LocalHost:9000',
        'user=nobody',
        '[fcgi-program:own]',
        'command=/bin/own',
        'socket=unix:///tmp/own.sock',
        'user=daemon',
      ),
    },
  },
  {
    name: 'an fcgi-program in a [group:x] is read as a plain program',
    files: {
      'supervisord.conf': conf(SD, '[group:g]', 'programs=f', '[fcgi-program:f]', 'command=/bin/f', 'socket=tcp://h:1'),
    },
  },
  {
    name: 'http servers: unix wins the serverurl; names after the colon',
    files: {
      'supervisord.conf': conf(
        SD,
        '[inet_http_server]',
        'port=127.0.0.1:9001',
        'username=u',
        'password={SHA}0123',
        '[unix_http_server]',
        'file=%(here)s/run/../sup.sock',
        'chmod=0770',
        'chown=nobody:nogroup',
        '[inet_http_server:two]',
        'port=*:9002',
        '[unix_http_serverx]',
        'file= relative.sock ',
        'chown=daemon',
      ),
    },
  },
  {
    name: 'only inet servers: the serverurl is the last one (no break in realize)',
    files: {
      'supervisord.conf': conf(SD, '[inet_http_server]', 'port=9001', '[inet_http_server:b]', 'port=Example.COM:9002'),
    },
  },
  {
    name: 'every [supervisord] option',
    files: {
      'supervisord.conf': conf(
        '[supervisord]',
        'logfile=logs/../main.log',
        'logfile_maxbytes=5MB',
        'logfile_backups=3',
        'loglevel=BLATHER',
        'pidfile=%(here)s/sd.pid',
        'umask=002',
        'nodaemon=true',
        'silent=true',
        'minfds=2048',
        'minprocs=300',
        'nocleanup=yes',
        'childlogdir=%(here)s/logs',
        'user=nobody',
        'directory=%(here)s',
        'strip_ansi=on',
        'environment=KEY1="value1",KEY2=%(ENV_FOO)s,HOST=%%(host_node_name)s',
        'identifier=%(ENV_FOO)s-id',
      ),
      'logs/.keep': '',
    },
  },
  { name: '[supervisord] logfile=syslog stays syslog', files: { 'supervisord.conf': conf(SD, 'logfile=syslog') } },
  {
    name: 'environment: [supervisord] keys as ENV_, program keys as ENV_ for later options, program wins',
    files: {
      'supervisord.conf': conf(
        SD,
        'environment=X=sd,Y=sd,PATH="/opt/bin"',
        '[program:p]',
        'command=/bin/p %(ENV_X)s %(ENV_Y)s %(ENV_Z)s',
        'environment=Y=prog,Z=%(ENV_X)s',
        'stdout_logfile=/tmp/%(ENV_Z)s.log',
        'directory=/d/%(ENV_Y)s',
      ),
    },
  },
  {
    name: 'includes: globs, sorted, hidden files, directories, absolute patterns, %(here)s per file, no nesting',
    files: {
      'supervisord.conf': conf(
        SD,
        '[include]',
        'files = conf.d/*.conf',
        '  other/x.ini nomatch/*.conf %(here)s/abs/[a-c].conf',
        '  conf.d/dir.conf/ %(ENV_FOO)s.conf',
        '[program:main]',
        'command=%(here)s/bin',
      ),
      'conf.d/b.conf': conf('[program:b]', 'command=%(here)s/b', '[include]', 'files=../never.conf'),
      'conf.d/a.conf': conf('[program:a]', 'command=%(here)s/a'),
      'conf.d/.hidden.conf': conf('[program:hidden]', 'command=x'),
      'conf.d/dir.conf': null,
      'other/x.ini': conf('[program:x]', 'command=%(here)s/x', '[supervisord]', 'identifier=from-include'),
      'abs/b.conf': conf('[unix_http_server]', 'file=%(here)s/s.sock'),
      'abs/d.conf': conf('[program:d]', 'command=d'),
      'bar.conf': conf('[program:env]', 'command=e'),
      'never.conf': conf('[program:never]', 'command=n'),
    },
  },
  {
    name: 'include: [supervisord] only in an included file; section_to_file names the include',
    files: {
      'supervisord.conf': conf('[include]', 'files=sd.conf'),
      'sd.conf': conf(SD, '[program:p]', 'command=p'),
    },
  },
  {
    name: 'DEFAULT values show through every section, %(here)s materialised',
    files: {
      'supervisord.conf': conf(
        '[DEFAULT]',
        'startsecs=5',
        'directory=%(here)s/d',
        SD,
        '[include]',
        'files=inc/*.conf',
        '[program:a]',
        'command=a',
      ),
      'inc/b.conf': conf('[program:b]', 'command=b'),
      'd/.keep': '',
    },
  },
  {
    name: 'log warnings: redirect_stderr with a stderr file, AUTO without rollover, syslog',
    files: {
      'supervisord.conf': conf(
        SD,
        '[program:r]',
        'command=r',
        'redirect_stderr=true',
        'stderr_logfile=/tmp/err.log',
        'stdout_logfile_maxbytes=0',
        '[program:s]',
        'command=s',
        'stdout_logfile=syslog',
        'stderr_logfile=SYSLOG',
        'redirect_stderr=true',
        '[program:n]',
        'command=n',
        'stdout_logfile=off',
        'stderr_logfile=auto',
        'stderr_logfile_maxbytes=0',
      ),
    },
  },
  {
    name: 'serverurl AUTO, explicit, empty',
    files: {
      'supervisord.conf': conf(
        SD,
        '[unix_http_server]',
        'file=/tmp/x.sock',
        '[program:a]',
        'command=a',
        'serverurl= auto ',
        '[program:b]',
        'command=b',
        'serverurl=unix:///other.sock',
        '[program:c]',
        'command=c',
        'serverurl=',
      ),
    },
  },
  {
    name: 'duplicate sections merge, the last key wins; unknown sections and keys are ignored',
    files: {
      'supervisord.conf': conf(
        SD,
        'bogus=1',
        '[program:x]',
        'command=/bin/first',
        'autostart=true',
        '[program-default]',
        'autostart=false',
        '[foo]',
        'bar=baz',
        '[program:x]',
        'command=/bin/second',
        'autostart=false',
        'bogus_option=y',
        '[ctlplugin:x]',
        'supervisor.ctl_factory=nope:nope',
      ),
    },
  },
  {
    name: 'rpcinterface with the main factory and extras; the namespace is the section suffix',
    files: {
      'supervisord.conf': conf(
        SD,
        '[rpcinterface:supervisor]',
        'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
        '[rpcinterface:other]',
        'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
        'retries = %(ENV_FOO)s',
      ),
    },
  },
  {
    name: 'expansions: %%, host_node_name, group_name, process_name from the environment',
    files: {
      'supervisord.conf': conf(
        SD,
        '[program:p]',
        'command=/bin/echo 100%% %(host_node_name)s %(group_name)s %(here)s',
        'process_name=%(ENV_FOO)s_%(program_name)s',
      ),
    },
  },
  {
    name: 'signals, exit codes, autorestart spellings',
    files: {
      'supervisord.conf': conf(
        SD,
        '[program:a]',
        'command=a',
        'stopsignal=9',
        'exitcodes=',
        'autorestart=FALSE',
        '[program:b]',
        'command=b',
        'stopsignal=SIGHUP',
        'exitcodes= 1 , 2 ',
        'autorestart=Unexpected',
        '[program:c]',
        'command=c',
        'stopsignal= int ',
        'stopasgroup=true',
      ),
    },
  },
  {
    name: 'command-line options beat the file',
    files: {
      'supervisord.conf': conf(SD, 'logfile=/tmp/a.log', 'user=root', 'identifier=file', 'nodaemon=false'),
      'cli-logs/.keep': '',
    },
    args: ['-n', '-s', '-u', 'nobody', '-m', '077', '-l', 'cli.log', '-y', '1MB', '-z', '4', '-e', 'debug', '-j',
      'cli.pid', '-i', 'cli', '-q', 'cli-logs', '-k', '-a', '4096', '--minprocs', '400', '-t', '-d', '/tmp'],
    overrides: { nodaemon: true, silent: true, user: 'nobody', umask: 0o77, logfile: 'cli.log', logfile_maxbytes: 1048576,
      logfile_backups: 4, loglevel: 10, pidfile: 'cli.pid', identifier: 'cli', childlogdir: 'cli-logs', nocleanup: true,
      minfds: 4096, minprocs: 400, strip_ansi: true, directory: '/tmp' },
  },
  {
    name: 'an empty -l or -j means the file\'s value; an empty -i is kept',
    files: { 'supervisord.conf': conf(SD, 'logfile=f.log', 'pidfile=f.pid', 'identifier=file') },
    args: ['-l', '', '-j', '', '-i', ''],
    overrides: { logfile: '', pidfile: '', identifier: '' },
  },
  {
    name: 'a config file given by absolute path, in a subdirectory',
    files: { 'etc/sd.conf': conf(SD, '[program:p]', 'command=%(here)s/p') },
    main: '{dir}/etc/sd.conf',
  },
  {
    name: 'continuation lines, inline comments, colons as delimiters',
    files: {
      'supervisord.conf': conf(
        SD,
        '[program:p]',
        'command: /bin/sh -c "a;b" ; a comment',
        'environment = URL="http://h/#x",',
        '  B=2',
      ),
    },
  },
  {
    name: 'numprocs=0 makes an empty group; names that vary with process_num stay in the names dict',
    files: {
      'supervisord.conf': conf(
        SD,
        '[program:none]',
        'command=x',
        'numprocs=0',
        '[program:k]',
        'command=/bin/x %(ENV_K0)s',
        'process_name=k%(process_num)d',
        'numprocs=2',
        'environment=K%(process_num)d=v%(process_num)d',
      ),
    },
  },
  {
    name: 'include paths are spelled as joined, not normalised; Unicode names sort by code point',
    files: {
      'supervisord.conf': conf(SD, '[include]', 'files=sub/../conf.d/*.conf //%(here)s/abs.conf'),
      'conf.d/é.conf': conf('[program:é]', 'command=e'),
      'conf.d/z.conf': conf('[program:z]', 'command=z'),
      'conf.d/Z.conf': conf('[program:Z]', 'command=Z'),
      'abs.conf': conf('[program:abs]', 'command=a'),
      'sub/.keep': '',
    },
  },
  {
    name: 'glob character classes, negation and ranges in include patterns',
    files: {
      'supervisord.conf': conf(SD, '[include]', 'files=c/[!a]?.conf c/[a-b][-x].conf c/*[]]*.conf'),
      'c/a1.conf': conf('[program:a1]', 'command=x'),
      'c/b1.conf': conf('[program:b1]', 'command=x'),
      'c/a-.conf': conf('[program:a-]', 'command=x'),
      'c/bx.conf': conf('[program:bx]', 'command=x'),
      'c/q].conf': conf('[program:q]]', 'command=x'),
    },
  },
  {
    name: 'an eventlistener keeps stdout_capture_maxbytes (accepted, the protocol owns stdout)',
    files: {
      'supervisord.conf': conf(SD, '[eventlistener:e]', 'command=e', 'events=TICK_60', 'stdout_capture_maxbytes=1MB'),
    },
  },
  {
    name: 'Unicode section and program names, sorted by code point',
    files: {
      'supervisord.conf': conf(SD, '[program:éa]', 'command=x', '[program:zz]', 'command=x', '[program:Ωb]', 'command=x',
        '[program:😀]', 'command=x', '[program:\uffee]', 'command=x'),
    },
  },
  {
    name: 'a program without [group:x] reads priority twice; spaces around the name are stripped',
    files: { 'supervisord.conf': conf(SD, '[program: spaced ]', 'command=x', 'priority= 12 ') },
  },
  {
    name: '~ in paths: logfile, pidfile, child logs, the socket (directory= is left alone)',
    files: {
      'supervisord.conf': conf(
        SD,
        'logfile=~/fv-never-written.log',
        'pidfile=~/fv-never-written.pid',
        '[unix_http_server]',
        'file=~/fv-never.sock',
        '[program:p]',
        'command=p',
        'stdout_logfile=~/fv-never-written-out.log',
        'directory=~',
      ),
    },
  },
  {
    name: 'odd but valid values: 0o umask, RTMIN, Unicode digits, a file matched twice, an include overriding',
    files: {
      'supervisord.conf': conf(
        SD,
        'identifier=main',
        '[include]',
        'files=i.conf *.conf',
        '[program:p]',
        'command=p',
        'umask=0o22',
        'stopsignal=RTMIN',
        'priority=\u0661\u0662',
        'environment=UNI="é ü",EMPTY=""',
      ),
      'i.conf': conf('[supervisord]', 'identifier=included'),
    },
  },
  {
    name: 'supervisorctl: serverurl with %(here)s, history_file',
    files: {
      'supervisord.conf': conf(
        SD,
        '[supervisorctl]',
        'serverurl=unix://%(here)s/../x/./s.sock',
        'username=%(ENV_FOO)s',
        'password=p',
        'prompt=mine',
        'history_file=%(here)s/hist',
      ),
    },
    client: true,
  },
  {
    name: 'supervisorctl: defaults',
    files: { 'supervisord.conf': conf(SD, '[supervisorctl]') },
    client: true,
  },
];

const BAD: Case[] = [
  { name: 'no [supervisord] section', files: { 'supervisord.conf': conf('[program:x]', 'command=x') } },
  { name: 'a missing config file', files: {} },
  { name: 'the config file is a directory', files: { 'supervisord.conf': null } },
  { name: 'a BOM before the first header', files: { 'supervisord.conf': Buffer.from(`\ufeff${conf(SD)}`) } },
  {
    name: 'a byte that is not UTF-8',
    files: { 'supervisord.conf': Buffer.concat([Buffer.from(conf(SD, 'logfile=/tmp/a')), Buffer.from([0xff, 0x0a])]) },
  },
  {
    name: 'a bad byte past the first 8192-byte chunk',
    files: {
      'supervisord.conf': Buffer.concat([Buffer.from(`${SD}\n#${'x'.repeat(9000)}\nx=`), Buffer.from([0xe2, 0x28, 0x0a])]),
    },
  },
  {
    name: 'a character split across the chunk boundary, then cut off at the end',
    files: {
      'supervisord.conf': Buffer.concat([Buffer.from(`${SD}\n#${'x'.repeat(8176)}é`), Buffer.from([0xf0, 0x9f, 0x98])]),
    },
  },
  {
    name: 'a missing header is reported before a bad byte in a later chunk',
    files: { 'supervisord.conf': Buffer.concat([Buffer.from(`a=b\n#${'x'.repeat(9000)}\n`), Buffer.from([0xff])]) },
  },
  {
    name: 'a bad byte in the first chunk is reported before a missing header',
    files: { 'supervisord.conf': Buffer.concat([Buffer.from('a=b\n#'), Buffer.from([0xff])]) },
  },
  { name: 'no section header', files: { 'supervisord.conf': conf('command=x', SD) } },
  {
    name: 'lines that are not options',
    files: { 'supervisord.conf': conf(SD, 'just words', '[program:x]', 'command=x', 'more words') },
  },
  { name: '[include] without files', files: { 'supervisord.conf': conf(SD, '[include]', 'file=x') } },
  {
    name: 'a parse error in an included file',
    files: { 'supervisord.conf': conf(SD, '[include]', 'files=a.conf'), 'a.conf': conf('[program:a]', 'oops') },
  },
  {
    name: 'an included file without a header',
    files: { 'supervisord.conf': conf(SD, '[include]', 'files=a.conf'), 'a.conf': conf('command=x') },
  },
  {
    name: 'a bad byte in an included file',
    files: { 'supervisord.conf': conf(SD, '[include]', 'files=a.conf'), 'a.conf': Buffer.from([0x5b, 0xc3, 0x5d]) },
  },
  {
    name: 'an unknown name in [include] files',
    files: { 'supervisord.conf': conf(SD, '[include]', 'files=%(ENV_NOPE)s.conf') },
  },
  { name: 'a program without a command', files: { 'supervisord.conf': conf(SD, '[program:x]') } },
  {
    name: 'a program without a command, in an included file',
    files: { 'supervisord.conf': conf(SD, '[include]', 'files=inc/*.conf'), 'inc/x.conf': conf('[program:x]') },
  },
  {
    name: 'numprocs > 1 without %(process_num)',
    files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'numprocs=2') },
  },
  { name: 'a bad boolean', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'autostart=maybe') } },
  { name: 'a bad priority: reported without the section suffix', files: { 'supervisord.conf': conf(SD, '[program:x]', 'priority=high') } },
  { name: 'a bad byte size', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'stdout_logfile_maxbytes=1xb') } },
  { name: 'a bad signal', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'stopsignal=FOO') } },
  { name: 'bad exit codes', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'exitcodes=0,256') } },
  { name: 'a bad autorestart', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'autorestart=Maybe') } },
  { name: 'an unknown user', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'user=nosuchuser') } },
  { name: 'an unknown uid', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'user=987654') } },
  {
    name: 'stopasgroup without killasgroup',
    files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'stopasgroup=true', 'killasgroup=false') },
  },
  { name: 'a space in a program name', files: { 'supervisord.conf': conf(SD, '[program:x y]', 'command=x') } },
  { name: 'a slash in process_name', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'process_name=a/b') } },
  {
    name: 'an unknown expansion name',
    files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=/bin/true %(ENV_NOPE)s') },
  },
  {
    name: '%(process_num)d outside the per-process options',
    files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'startsecs=%(process_num)d') },
  },
  { name: 'a badly formatted value', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x %(foo') } },
  { name: 'a bad environment', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'environment=A=1 B=2') } },
  { name: 'a log in a missing directory', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'stdout_logfile=/nonexistent/x.log') } },
  { name: 'a bad umask', files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'umask=999') } },
  { name: 'a group naming an unknown program', files: { 'supervisord.conf': conf(SD, '[group:g]', 'programs=nope') } },
  {
    name: 'a group naming an unknown program after a known one (names the known one)',
    files: { 'supervisord.conf': conf(SD, '[group:g]', 'programs=a,nope', '[program:a]', 'command=a') },
  },
  {
    name: 'a group name that is both a program and an fcgi-program',
    files: { 'supervisord.conf': conf(SD, '[group:g]', 'programs=a', '[program:a]', 'command=a', '[fcgi-program:a]', 'command=a', 'socket=tcp://h:1') },
  },
  { name: 'a listener without events', files: { 'supervisord.conf': conf(SD, '[eventlistener:e]', 'command=e') } },
  { name: 'a listener with an unknown event', files: { 'supervisord.conf': conf(SD, '[eventlistener:e]', 'command=e', 'events=TICK_5,FOO') } },
  { name: 'a listener with buffer_size 0', files: { 'supervisord.conf': conf(SD, '[eventlistener:e]', 'command=e', 'events=TICK_5', 'buffer_size=0') } },
  { name: 'a listener with redirect_stderr', files: { 'supervisord.conf': conf(SD, '[eventlistener:e]', 'command=e', 'events=TICK_5', 'redirect_stderr=true') } },
  { name: 'a listener with a malformed result_handler', files: { 'supervisord.conf': conf(SD, '[eventlistener:e]', 'command=e', 'events=EVENT', 'result_handler=a b') } },
  { name: 'a listener with a bad name', files: { 'supervisord.conf': conf(SD, '[eventlistener:e/f]', 'command=e', 'events=EVENT') } },
  { name: 'fcgi without a socket', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f') } },
  { name: 'fcgi with a relative unix socket', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=unix://rel/s.sock') } },
  { name: 'fcgi with a bad socket', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=udp://h:1') } },
  { name: 'fcgi tcp with socket_mode', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=tcp://h:1', 'socket_mode=0600') } },
  { name: 'fcgi with backlog 0', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=tcp://h:1', 'socket_backlog=0') } },
  { name: 'fcgi with a bad owner', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=unix:///s', 'socket_owner=nosuch:x') } },
  { name: 'fcgi with a bad mode', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=unix:///s', 'socket_mode=9') } },
  { name: 'fcgi with a port out of range', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=tcp://h:70000') } },
  { name: 'fcgi with an unknown user (no section suffix)', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=tcp://h:1', 'user=nosuch') } },
  { name: 'an inet server without a port', files: { 'supervisord.conf': conf(SD, '[inet_http_server]') } },
  { name: 'an inet server with a bad port', files: { 'supervisord.conf': conf(SD, '[inet_http_server]', 'port=abc') } },
  { name: 'an inet server with port 0', files: { 'supervisord.conf': conf(SD, '[inet_http_server]', 'port=h:0') } },
  { name: 'a unix server without a file', files: { 'supervisord.conf': conf(SD, '[unix_http_server]', 'chmod=0700') } },
  { name: 'a server with only a username', files: { 'supervisord.conf': conf(SD, '[unix_http_server]', 'file=/tmp/s', 'username=u') } },
  { name: 'a bad chmod', files: { 'supervisord.conf': conf(SD, '[unix_http_server]', 'file=/tmp/s', 'chmod=rw') } },
  { name: 'a bad chown', files: { 'supervisord.conf': conf(SD, '[unix_http_server]', 'file=/tmp/s', 'chown=nobody:nosuchgroup') } },
  { name: 'loglevel warning', files: { 'supervisord.conf': conf(SD, 'loglevel=warning') } },
  { name: 'a supervisord log in a missing directory', files: { 'supervisord.conf': conf(SD, 'logfile=/nonexistent/x.log') } },
  { name: 'a missing childlogdir', files: { 'supervisord.conf': conf(SD, 'childlogdir=/nonexistent') } },
  { name: 'a missing directory', files: { 'supervisord.conf': conf(SD, 'directory=/nonexistent') } },
  { name: 'a bad minfds', files: { 'supervisord.conf': conf(SD, 'minfds=lots') } },
  { name: 'a bad [supervisord] environment', files: { 'supervisord.conf': conf(SD, 'environment=A=1 B=2') } },
  { name: '%% in [supervisord] environment (expanded twice in 4.2.5)', files: { 'supervisord.conf': conf(SD, 'environment=A="100%%"') } },
  { name: 'an unknown [supervisord] user', files: { 'supervisord.conf': conf(SD, 'user=nosuchuser') } },
  { name: 'an unknown user on the command line', files: { 'supervisord.conf': conf(SD) }, args: ['-u', 'nosuch'], overrides: { user: 'nosuch' } },
  {
    name: 'the [supervisord] user is checked after the programs',
    files: { 'supervisord.conf': conf(SD, 'user=nosuchuser', '[program:x]') },
  },
  {
    name: 'with [include], %%(here)s becomes %/dir before expansion',
    files: { 'supervisord.conf': conf(SD, '[include]', 'files=none', '[program:x]', 'command=echo %%(here)s') },
  },
  {
    name: "a program's environment cannot use its own keys",
    files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'environment=A=1,B=%(ENV_A)s') },
  },
  {
    name: 'priority is first read with only here and ENV_ (no section suffix)',
    files: { 'supervisord.conf': conf(SD, '[program:x]', 'command=x', 'priority=%(program_name)s') },
  },
  { name: 'inet port has no %(here)s', files: { 'supervisord.conf': conf(SD, '[inet_http_server]', 'port=%(here)s') } },
  {
    name: '[supervisord] environment= cannot use host_node_name directly',
    files: { 'supervisord.conf': conf(SD, 'environment=H=%(host_node_name)s') },
  },
  {
    name: 'a bad value in an included file is reported for that file',
    files: { 'supervisord.conf': conf(SD, '[include]', 'files=x.conf'), 'x.conf': conf('[program:x]', 'command=x', 'startsecs=z') },
  },
  {
    name: 'a section reopened in an included file still names the main file',
    files: {
      'supervisord.conf': conf(SD, '[program:x]', 'command=x', '[include]', 'files=x.conf'),
      'x.conf': conf('[program:x]', 'startsecs=z'),
    },
  },
  { name: 'a NUL in an include glob directory', files: { 'supervisord.conf': conf(SD, '[include]', 'files=a\0b/*.conf') } },
  { name: 'an event name that is empty', files: { 'supervisord.conf': conf(SD, '[eventlistener:e]', 'command=e', 'events=TICK_5,') } },
  { name: 'an fcgi socket with a bad expansion', files: { 'supervisord.conf': conf(SD, '[fcgi-program:f]', 'command=f', 'socket=unix:///%(process_num)d') } },
  { name: 'supervisorctl: no [supervisorctl] section', files: { 'supervisord.conf': conf(SD) }, client: true },
  {
    name: 'supervisorctl: a missing expansion',
    files: { 'supervisord.conf': conf('[supervisorctl]', 'serverurl=%(ENV_NOPE)s') },
    client: true,
  },
  { name: 'an rpcinterface without a factory', files: { 'supervisord.conf': conf(SD, '[rpcinterface:x]', 'a=b') } },
  {
    name: 'a missing expansion in an rpcinterface extra',
    files: {
      'supervisord.conf': conf(SD, '[rpcinterface:supervisor]',
        'supervisor.rpcinterface_factory=supervisor.rpcinterface:make_main_rpcinterface', 'x=%(here)s'),
    },
  },
];

const root = tmpDir('fv-load-');
let prepared: Prepared[];
let python: Outcome[];

beforeAll(() => {
  prepared = prepare(root, [...GOOD, ...BAD]);
  python = runPython(prepared);
});
afterAll(removeTmpDirs);

function check(index: number, wantError: boolean): void {
  const py = python[index]!;
  expect(py).not.toHaveProperty('crash');
  expect(Object.keys(py)).toEqual([wantError ? 'error' : 'ok']);
  expect(runOurs(prepared[index]!)).toEqual(py);
}

describe('loadConfig = supervisord 4.2.5 (good configs)', () => {
  GOOD.forEach((c, i) => it(c.name, () => check(i, false)));
});

describe('loadConfig = supervisord 4.2.5 (bad configs: the same "Error:" text)', () => {
  BAD.forEach((c, i) => it(c.name, () => check(GOOD.length + i, true)));
});
