// SPDX-License-Identifier: MIT
// fastvisor-only [program:x] options: defaults that keep supervisord's
// behaviour, the values as read, and each bad value refused at load with the
// option, section and file named.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import type { ProcessConfig } from '../../../src/config/model.js';
import {
  duration,
  parseDependsOn,
  parseHealthCheck,
  parseReady,
  percent,
  readFastvisorProgramOptions,
} from '../../../src/config/fastvisor-options.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

function load(program: string, supervisord = ''): ProcessConfig {
  const dir = tmpDir('fv-opts-');
  const conf = path.join(dir, 'supervisord.conf');
  writeFileSync(conf, `[supervisord]\n${supervisord}\n[program:a]\ncommand=/bin/true\n${program}\n`);
  return loadConfig({ configfile: conf }).groups[0]!.processes[0]!;
}

describe('fastvisor-only program options', () => {
  it('defaults: supervisord 4.2.5 behaviour', () => {
    const p = load('');
    expect(p.startretries).toBe(3);
    expect(p.fastvisor).toEqual({
      backoff: 'linear',
      backoff_initial: 1,
      backoff_max: 300,
      backoff_jitter: 0,
      backoff_reset_after: 600,
      restart_delay: 0,
      environment_file: [],
      schedule: null,
      schedule_timezone: null,
      depends_on: [],
      dependencies: [],
      restart_dependents: false,
      ready: { kind: 'started' },
      watchdog_sec: 0,
      healthcheck: null,
      healthcheck_interval: 10,
      healthcheck_timeout: 5,
      healthcheck_retries: 3,
      healthcheck_start_period: 0,
      healthcheck_action: 'restart',
      stdout_logfile_format: null,
      stderr_logfile_format: null,
      log_timestamp_format: 'rfc3339',
      log_max_line: 16384,
      stdout_logfile_rotation: null,
      stderr_logfile_rotation: null,
      cgroup: { memory_max: null, memory_high: null, cpu_max: null, cpu_weight: null, pids_max: null, io_weight: null },
      kill_mode: null,
    });
  });

  it('reads every option', () => {
    const p = load(
      [
        'startretries=forever',
        'backoff=Exponential',
        'backoff_initial=500ms',
        'backoff_max=2m',
        'backoff_jitter=25%',
        'backoff_reset_after=1h',
        'restart_delay=5',
        'environment_file=/etc/app.env, -%(here)s/local.env',
        'schedule=*/5 * * * *',
        'schedule_timezone=Europe/Berlin',
      ].join('\n'),
      'environment_file=/etc/common.env',
    );
    expect(p.startretries).toBe(-1);
    expect(p.fastvisor).toMatchObject({
      backoff: 'exponential',
      backoff_initial: 0.5,
      backoff_max: 120,
      backoff_jitter: 0.25,
      backoff_reset_after: 3600,
      restart_delay: 5,
      schedule: '*/5 * * * *',
      schedule_timezone: 'Europe/Berlin',
    });
    expect(p.fastvisor.environment_file.map((f) => [path.basename(f.path), f.optional])).toEqual([
      ['common.env', false],
      ['app.env', false],
      ['local.env', true],
    ]);
    expect(load('startretries=-1').startretries).toBe(-1);
  });

  it.each([
    ['backoff=sometimes', "backoff: 'sometimes' is neither 'linear' nor 'exponential'"],
    ['backoff_initial=soon', "backoff_initial: invalid duration 'soon' (use e.g. 500ms, 10s, 5m, 1h)"],
    ['backoff_max=8d', 'backoff_max: 8d is longer than the 7 days allowed'],
    ['backoff_initial=10s\nbackoff_max=5s', 'backoff_max is shorter than backoff_initial'],
    ['backoff_jitter=150%', "backoff_jitter: invalid percentage '150%' (0% to 100%)"],
    ['restart_delay=-1', "restart_delay: invalid duration '-1' (use e.g. 500ms, 10s, 5m, 1h)"],
    ['schedule=61 * * * *', "schedule: invalid schedule '61 * * * *': minute 61 is out of range 0-59"],
    ['schedule_timezone=Mars/Olympus', "schedule_timezone: unknown time zone 'Mars/Olympus'"],
    ['startretries=always', "invalid literal for int() with base 10: 'always'"],
  ])('%s is refused', (option, message) => {
    expect(() => load(option)).toThrow(message);
    expect(() => load(option)).toThrow("in section 'program:a'");
  });

  it('duration and percent', () => {
    expect(duration('1.5m', 'x')).toBe(90);
    expect(duration(' 2H ', 'x')).toBe(7200);
    expect(percent('0', 'x')).toBe(0);
    expect(percent('100%', 'x')).toBe(1);
  });

  it('the defaults without a config file: every option at its default', () => {
    expect(readFastvisorProgramOptions((_option, def) => def)).toEqual(load('').fastvisor);
  });
});

describe('depends_on, restart_dependents, ready, watchdog_sec, healthcheck', () => {
  it('reads every option', () => {
    const p = load(
      [
        'restart_dependents = yes',
        'ready = notify',
        'watchdog_sec = 30s',
        'healthcheck = http://localhost:%(ENV_PORT)s/health?x=1',
        'healthcheck_interval = 500ms',
        'healthcheck_timeout = 2',
        'healthcheck_retries = 5',
        'healthcheck_start_period = 1m',
        'healthcheck_action = None',
      ].join('\n'),
      'environment=PORT="8080"',
    );
    expect(p.fastvisor).toMatchObject({
      restart_dependents: true,
      ready: { kind: 'notify' },
      watchdog_sec: 30,
      healthcheck: { kind: 'http', url: 'http://localhost:8080/health?x=1' },
      healthcheck_interval: 0.5,
      healthcheck_timeout: 2,
      healthcheck_retries: 5,
      healthcheck_start_period: 60,
      healthcheck_action: 'none',
    });
  });

  it('depends_on entries', () => {
    const options: Record<string, string> = {
      depends_on: ' db ,cache:HEALTHY, web:*, g:worker:exited, g:p:running, odd:name',
    };
    expect(readFastvisorProgramOptions((o, def) => options[o] ?? def)).toMatchObject({
      depends_on: [
        { target: 'db', condition: 'running' },
        { target: 'cache', condition: 'healthy' },
        { target: 'web:*', condition: 'running' },
        { target: 'g:worker', condition: 'exited' },
        { target: 'g:p', condition: 'running' },
        { target: 'odd:name', condition: 'running' },
      ],
      // loadConfig's resolveDependencies fills it
      dependencies: [],
    });
    expect(parseDependsOn('')).toEqual([]);
    expect(parseDependsOn('  ')).toEqual([]);
    expect(parseDependsOn('a')).toEqual([{ target: 'a', condition: 'running' }]);
    expect(parseDependsOn('a:Exited,g:*:healthy')).toEqual([
      { target: 'a', condition: 'exited' },
      { target: 'g:*', condition: 'healthy' },
    ]);
    // resolution decides: group g's process `started`, or a misspelt condition
    expect(parseDependsOn('db:started')).toEqual([{ target: 'db:started', condition: 'running' }]);
    expect(parseDependsOn('g:healthy:running')).toEqual([{ target: 'g:healthy', condition: 'running' }]);
  });

  it('ready forms', () => {
    expect(parseReady('Started')).toEqual({ kind: 'started' });
    expect(parseReady('NOTIFY')).toEqual({ kind: 'notify' });
    expect(parseReady('log:^listening on \\d+$')).toEqual({ kind: 'log', pattern: '^listening on \\d+$' });
    expect(parseReady('LOG: ready')).toEqual({ kind: 'log', pattern: ' ready' });
    expect(load('ready=log:ready:%%\\s+ok').fastvisor.ready).toEqual({ kind: 'log', pattern: 'ready:%\\s+ok' });
  });

  it('healthcheck forms', () => {
    expect(parseHealthCheck('cmd:pg_isready -h localhost')).toEqual({ kind: 'cmd', command: 'pg_isready -h localhost' });
    expect(parseHealthCheck('CMD:  exit 0')).toEqual({ kind: 'cmd', command: '  exit 0' });
    expect(parseHealthCheck('http://127.0.0.1:8080/healthz')).toEqual({ kind: 'http', url: 'http://127.0.0.1:8080/healthz' });
    expect(parseHealthCheck('http://example.com')).toEqual({ kind: 'http', url: 'http://example.com/' });
    expect(parseHealthCheck('http://[::1]:81/')).toEqual({ kind: 'http', url: 'http://[::1]:81/' });
    expect(parseHealthCheck('tcp:localhost:5432')).toEqual({ kind: 'tcp', host: 'localhost', port: 5432 });
    expect(parseHealthCheck('tcp:10.0.0.1:1')).toEqual({ kind: 'tcp', host: '10.0.0.1', port: 1 });
    expect(parseHealthCheck('tcp:[::1]:65535')).toEqual({ kind: 'tcp', host: '::1', port: 65535 });
    expect(load('healthcheck=cmd:test -e %(here)s/x').fastvisor.healthcheck).toMatchObject({ kind: 'cmd' });
    expect(load('healthcheck=tcp:db:5432').fastvisor.healthcheck).toEqual({ kind: 'tcp', host: 'db', port: 5432 });
  });

  it('healthcheck_* need healthcheck, and are all allowed with it', () => {
    const p = load('healthcheck=tcp:h:1\nhealthcheck_start_period=0\nhealthcheck_action=restart\nhealthcheck_retries=1');
    expect(p.fastvisor).toMatchObject({ healthcheck_start_period: 0, healthcheck_action: 'restart', healthcheck_retries: 1 });
  });

  it('watchdog_sec=0 is fine without notify', () => {
    expect(load('watchdog_sec=0').fastvisor.watchdog_sec).toBe(0);
  });

  it.each([
    ['depends_on=a,,b', "depends_on: empty entry in 'a,,b'"],
    ['depends_on=a,', "depends_on: empty entry in 'a,'"],
    ['depends_on=a:b:c:d', "depends_on: 'a:b:c:d' is not NAME, GROUP:* or GROUP:NAME (with an optional :running, :healthy or :exited)"],
    ['depends_on=g:a:b:healthy', "depends_on: 'g:a:b:healthy' is not NAME, GROUP:* or GROUP:NAME"],
    ['depends_on=:healthy', "depends_on: ':healthy' is not NAME"],
    ['depends_on=g:', "depends_on: 'g:' is not NAME"],
    ['depends_on=g :x', "depends_on: 'g :x' is not NAME"],
    ['depends_on=b, b', "depends_on: 'b' is listed twice"],
    ['depends_on=b, b:Running', "depends_on: 'b:Running' is listed twice"],
    ['depends_on=b, b:healthy', "depends_on: 'b' and 'b:healthy' name the same target"],
    ['restart_dependents=maybe', "restart_dependents: not a valid boolean value: 'maybe'"],
    ['ready=soon', "ready: 'soon' is not started, notify or log:REGEX"],
    ['ready=log:', "ready: 'log:' needs a regular expression"],
    ['ready=log:(unclosed', "ready: invalid regular expression '(unclosed': Unterminated group"],
    ['watchdog_sec=10s', 'watchdog_sec needs ready = notify'],
    ['ready=log:x\nwatchdog_sec=1', 'watchdog_sec needs ready = notify'],
    ['ready=notify\nwatchdog_sec=often', "watchdog_sec: invalid duration 'often'"],
    ['healthcheck=ping', "healthcheck: 'ping' is not cmd:COMMAND, http://HOST[:PORT]/PATH or tcp:HOST:PORT"],
    ['healthcheck=https://h/x', "healthcheck: 'https://h/x' is not cmd:COMMAND, http://HOST[:PORT]/PATH or tcp:HOST:PORT"],
    ['healthcheck=tcp://h:1', "healthcheck: 'tcp://h:1' is not cmd:COMMAND"],
    ['healthcheck=cmd:', "healthcheck: 'cmd:' needs a command"],
    ['healthcheck=cmd:   ', "healthcheck: 'cmd:' needs a command"],
    ['healthcheck=http://', "healthcheck: invalid URL 'http://'"],
    ['healthcheck=http:///path', "healthcheck: invalid URL 'http:///path'"],
    ['healthcheck=http://h:99999/', "healthcheck: invalid URL 'http://h:99999/'"],
    ['healthcheck=http://h:0/', "healthcheck: 'http://h:0/': port 0 is out of range (1-65535)"],
    ['healthcheck=tcp:h', "healthcheck: 'tcp:h' is not tcp:HOST:PORT (IPv6 as tcp:[::1]:PORT)"],
    ['healthcheck=tcp:::1:5432', "healthcheck: 'tcp:::1:5432' is not tcp:HOST:PORT"],
    ['healthcheck=tcp:h:0', "healthcheck: 'tcp:h:0': port 0 is out of range (1-65535)"],
    ['healthcheck=tcp:h:65536', "healthcheck: 'tcp:h:65536': port 65536 is out of range (1-65535)"],
    ['healthcheck=tcp:h:http', "healthcheck: 'tcp:h:http': port http is out of range (1-65535)"],
    ['healthcheck=tcp:[::1]:', "healthcheck: 'tcp:[::1]:': port  is out of range (1-65535)"],
    ['healthcheck_interval=5s', 'healthcheck_interval needs healthcheck'],
    ['healthcheck_timeout=5s', 'healthcheck_timeout needs healthcheck'],
    ['healthcheck_retries=3', 'healthcheck_retries needs healthcheck'],
    ['healthcheck_start_period=3', 'healthcheck_start_period needs healthcheck'],
    ['healthcheck_action=none', 'healthcheck_action needs healthcheck'],
    ['healthcheck=tcp:h:1\nhealthcheck_interval=0', 'healthcheck_interval: must be longer than 0'],
    ['healthcheck=tcp:h:1\nhealthcheck_timeout=0ms', 'healthcheck_timeout: must be longer than 0'],
    ['healthcheck=tcp:h:1\nhealthcheck_interval=x', "healthcheck_interval: invalid duration 'x'"],
    ['healthcheck=tcp:h:1\nhealthcheck_retries=0', "healthcheck_retries: '0' is not a whole number of 1 or more"],
    ['healthcheck=tcp:h:1\nhealthcheck_retries=2.5', "healthcheck_retries: '2.5' is not a whole number of 1 or more"],
    ['healthcheck=tcp:h:1\nhealthcheck_start_period=-1', "healthcheck_start_period: invalid duration '-1'"],
    ['healthcheck=tcp:h:1\nhealthcheck_action=kill', "healthcheck_action: 'kill' is neither 'restart' nor 'none'"],
  ])('%s is refused', (option, message) => {
    expect(() => load(option)).toThrow(message);
    expect(() => load(option)).toThrow(/ in section 'program:a' \(file: '.*supervisord\.conf'\)$/);
  });
});

describe('log line formats (stdout_logfile_format, stderr_logfile_format, log_timestamp_format, log_max_line, child_log_format)', () => {
  it('reads them; one vocabulary for every format option; child_log_format raw by default', () => {
    const p = load('stdout_logfile_format = JSON\nstderr_logfile_format=prefixed\nlog_timestamp_format=Local\nlog_max_line=1MB');
    expect(p.fastvisor).toMatchObject({
      stdout_logfile_format: 'json',
      stderr_logfile_format: 'prefixed',
      log_timestamp_format: 'local',
      log_max_line: 1024 * 1024,
    });
    expect(load('stdout_logfile_format=timestamped\nlog_max_line=100').fastvisor).toMatchObject({ stdout_logfile_format: 'timestamped', log_max_line: 100 });
    const dir = tmpDir('fv-opts-');
    const conf = path.join(dir, 'supervisord.conf');
    writeFileSync(conf, '[supervisord]\n');
    expect(loadConfig({ configfile: conf }).supervisord.child_log_format).toBe('raw');
    writeFileSync(conf, '[supervisord]\nchild_log_format = json\n');
    expect(loadConfig({ configfile: conf }).supervisord.child_log_format).toBe('json');
    writeFileSync(conf, '[supervisord]\nchild_log_format = logfmt\n');
    expect(() => loadConfig({ configfile: conf })).toThrow("child_log_format: 'logfmt' is not raw, timestamped, json or prefixed");
  });

  it.each([
    ['stdout_logfile_format=xml', "stdout_logfile_format: 'xml' is not raw, timestamped, json or prefixed"],
    ['stderr_logfile_format=', "stderr_logfile_format: '' is not raw, timestamped, json or prefixed"],
    ['log_timestamp_format=iso', "log_timestamp_format: 'iso' is neither 'rfc3339' nor 'local'"],
    ['log_max_line=0', 'log_max_line: 0 is not between 1 byte and 1GB'],
    ['log_max_line=2GB', 'log_max_line: 2GB is not between 1 byte and 1GB'],
    ['log_max_line=lots', "log_max_line: invalid size 'lots'"],
  ])('%s is refused', (option, message) => {
    expect(() => load(option)).toThrow(message);
    expect(() => load(option)).toThrow(/ in section 'program:a' \(file: '.*supervisord\.conf'\)$/);
  });
});

describe('log rotation by time, retention, compression (*_logfile_rotate_every, *_logfile_max_age, *_logfile_compress)', () => {
  it('reads them for each channel and for the main log; none set: null (supervisord size rotation alone)', () => {
    expect(load('').fastvisor.stdout_logfile_rotation).toBeNull();
    expect(load('stdout_logfile_rotate_every = Daily\nstdout_logfile_max_age=14d\nstdout_logfile_compress=GZIP').fastvisor).toMatchObject({
      stdout_logfile_rotation: { every: 'daily', max_age: 14 * 86400, compress: 'gzip' },
      stderr_logfile_rotation: null,
    });
    expect(load('stderr_logfile_rotate_every=10s').fastvisor.stderr_logfile_rotation).toEqual({ every: 10, max_age: 0, compress: 'none' });
    expect(load('stderr_logfile_compress=gzip').fastvisor.stderr_logfile_rotation).toEqual({ every: null, max_age: 0, compress: 'gzip' });
    for (const [v, secs] of [['12h', 43200], ['30m', 1800], ['90s', 90], ['90', 90]] as const) {
      expect(load(`stdout_logfile_max_age=${v}`).fastvisor.stdout_logfile_rotation?.max_age).toBe(secs);
    }
    for (const v of ['hourly', 'weekly'] as const) expect(load(`stdout_logfile_rotate_every=${v}`).fastvisor.stdout_logfile_rotation?.every).toBe(v);
    const dir = tmpDir('fv-opts-');
    const conf = path.join(dir, 'supervisord.conf');
    writeFileSync(conf, '[supervisord]\n');
    expect(loadConfig({ configfile: conf }).supervisord.logfile_rotation).toBeNull();
    writeFileSync(conf, '[supervisord]\nlogfile_rotate_every=hourly\nlogfile_max_age=2d\nlogfile_compress=gzip\n');
    expect(loadConfig({ configfile: conf }).supervisord.logfile_rotation).toEqual({ every: 'hourly', max_age: 172800, compress: 'gzip' });
    writeFileSync(conf, '[supervisord]\nlogfile_compress=zip\n');
    expect(() => loadConfig({ configfile: conf })).toThrow("logfile_compress: 'zip' is neither 'gzip' nor 'none'");
  });

  it.each([
    ['stdout_logfile_rotate_every=monthly', "stdout_logfile_rotate_every: 'monthly' is not hourly, daily, weekly or Ns"],
    ['stdout_logfile_rotate_every=0s', "stdout_logfile_rotate_every: '0s' is not hourly, daily, weekly or Ns"],
    ['stderr_logfile_rotate_every=10', "stderr_logfile_rotate_every: '10' is not hourly, daily, weekly or Ns"],
    ['stdout_logfile_max_age=2w', "stdout_logfile_max_age: invalid age '2w'"],
    ['stdout_logfile_max_age=0d', "stdout_logfile_max_age: invalid age '0d'"],
    ['stderr_logfile_compress=zstd', "stderr_logfile_compress: 'zstd' is neither 'gzip' nor 'none'"],
  ])('%s is refused', (option, message) => {
    expect(() => load(option)).toThrow(message);
    expect(() => load(option)).toThrow(/ in section 'program:a' \(file: '.*supervisord\.conf'\)$/);
  });
});

describe('[supervisord] capture_lag_ms', () => {
  function supervisord(text: string) {
    const conf = path.join(tmpDir('fv-opts-'), 'supervisord.conf');
    writeFileSync(conf, `[supervisord]\n${text}\n`);
    return loadConfig({ configfile: conf }).supervisord;
  }

  it('is null (the I/O core default) when not set, else whole milliseconds from 0 to 1000', () => {
    expect(supervisord('').capture_lag_ms).toBeNull();
    expect(supervisord('capture_lag_ms = 0').capture_lag_ms).toBe(0);
    expect(supervisord('capture_lag_ms=25').capture_lag_ms).toBe(25);
    expect(supervisord('capture_lag_ms=1000').capture_lag_ms).toBe(1000);
  });

  it.each([
    ['capture_lag_ms=-1', "capture_lag_ms: '-1' is not a whole number from 0 to 1000"],
    ['capture_lag_ms=1001', "capture_lag_ms: '1001' is not a whole number from 0 to 1000"],
    ['capture_lag_ms=10ms', "capture_lag_ms: '10ms' is not a whole number from 0 to 1000"],
    ['capture_lag_ms=2.5', "capture_lag_ms: '2.5' is not a whole number from 0 to 1000"],
  ])('%s is refused', (option, message) => {
    expect(() => supervisord(option)).toThrow(message);
  });
});
