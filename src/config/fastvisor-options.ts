// SPDX-License-Identifier: MIT
// fastvisor-only [program:x] options (supervisord does not know them; a config
// without them behaves as supervisord 4.2.5): crash-loop backoff, environment
// files and schedules. Read and checked here, with the same ValueError the
// rest of config/ raises, so a bad value stops the daemon at load with the
// section and file named; the process/ layer only reads the typed result.
import { boolean, byte_size, ValueError } from './datatypes.js';
import { EnvFileError, parseEnvFileList, type EnvFileRef } from './env-file.js';
import { PID_MAX_LIMIT } from './model.js';
import type {
  CgroupLimits,
  DependencyCondition,
  DependencySpec,
  FastvisorProgramOptions,
  HealthCheckSpec,
  LineFormat,
  LogRotation,
  ReadySpec,
} from './model.js';
import { parseSchedule, validateTimeZone } from '../process/cron.js';

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** `500ms`, `10s`, `5m`, `1h`, `1d`, or a bare number of seconds -> seconds. */
export function duration(value: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!m) throw new ValueError(`${option}: invalid duration '${value}' (use e.g. 500ms, 10s, 5m, 1h)`);
  const secs = Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]!;
  // A week is far past any sensible wait, and keeps timers within setTimeout's range.
  if (secs > 7 * 86400) throw new ValueError(`${option}: ${value} is longer than the 7 days allowed`);
  return secs;
}

/** `25%` or `25` -> 0.25, within 0-100 %. */
export function percent(value: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 0 && n <= 100)) throw new ValueError(`${option}: invalid percentage '${value}' (0% to 100%)`);
  return n / 100;
}

/** startretries: supervisord's integer, or `forever` (also -1): never FATAL. */
export function startRetries(value: string, integer: (v: string) => number): number {
  return value.trim().toLowerCase() === 'forever' ? -1 : integer(value);
}

/** environment_file= as written (after %-expansion); [supervisord]'s is read the same way. */
export function environmentFiles(value: string): EnvFileRef[] {
  try {
    return parseEnvFileList(value);
  } catch (e) {
    if (e instanceof EnvFileError) throw new ValueError(e.message);
    throw e;
  }
}

const CONDITIONS: readonly string[] = ['running', 'healthy', 'exited'] satisfies DependencyCondition[];

/** How a DependencySpec is written back for messages: the condition only when it is not the default. */
export function dependencyText(d: DependencySpec): string {
  // `g:healthy:running` (process `healthy` of group g) keeps its condition, or it would read as `g:healthy`.
  const colon = d.target.lastIndexOf(':');
  const keep = colon >= 0 && CONDITIONS.includes(d.target.slice(colon + 1).toLowerCase());
  return d.condition === 'running' && !keep ? d.target : `${d.target}:${d.condition}`;
}

/**
 * depends_on=: `a, b:healthy, grp:*, grp:proc:exited`. A last `:running`,
 * `:healthy` or `:exited` (any case) is the condition; the rest is the target,
 * `name`, `group:*` or `group:name`. Whether `db:started` means process
 * `started` of group `db` or a misspelt condition is left to
 * resolveDependencies, which knows the groups.
 */
export function parseDependsOn(value: string): DependencySpec[] {
  if (value.trim() === '') return [];
  const specs: DependencySpec[] = [];
  const written: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') throw new ValueError(`depends_on: empty entry in '${value.trim()}'`);
    const parts = entry.split(':');
    let condition: DependencyCondition = 'running';
    if (parts.length > 1 && CONDITIONS.includes(parts[parts.length - 1]!.toLowerCase())) {
      condition = parts.pop()!.toLowerCase() as DependencyCondition;
    }
    if (parts.length > 2 || parts.some((s) => s.trim() === '' || s !== s.trim())) {
      throw new ValueError(
        `depends_on: '${entry}' is not NAME, GROUP:* or GROUP:NAME (with an optional :running, :healthy or :exited)`,
      );
    }
    const target = parts.join(':');
    const i = specs.findIndex((d) => d.target === target);
    if (i >= 0) {
      throw new ValueError(
        specs[i]!.condition === condition
          ? `depends_on: '${entry}' is listed twice`
          : `depends_on: '${written[i]}' and '${entry}' name the same target`,
      );
    }
    specs.push({ target, condition });
    written.push(entry);
  }
  return specs;
}

/** ready=: `started` (supervisord's startsecs), `notify` (sd_notify READY=1) or `log:REGEX`. */
export function parseReady(value: string): ReadySpec {
  const v = value.trim();
  const lower = v.toLowerCase();
  if (lower === 'started') return { kind: 'started' };
  if (lower === 'notify') return { kind: 'notify' };
  if (lower.startsWith('log:')) {
    // The rest as written: a leading space may be part of the pattern.
    const pattern = v.slice(4);
    if (pattern === '') throw new ValueError(`ready: 'log:' needs a regular expression`);
    try {
      new RegExp(pattern);
    } catch (e) {
      // V8: "Invalid regular expression: /(/: Unterminated group"
      const why = (e as Error).message.replace(/^Invalid regular expression: \/[\s\S]*\/[a-z]*: /, '');
      throw new ValueError(`ready: invalid regular expression '${pattern}': ${why}`);
    }
    return { kind: 'log', pattern };
  }
  throw new ValueError(`ready: '${v}' is not started, notify or log:REGEX`);
}

const HEALTHCHECK_FORMS = 'cmd:COMMAND, http://HOST[:PORT]/PATH or tcp:HOST:PORT';

function portNumber(text: string, entry: string): number {
  const port = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new ValueError(`healthcheck: '${entry}': port ${text} is out of range (1-65535)`);
  }
  return port;
}

/** healthcheck=: `cmd:COMMAND`, `http://HOST[:PORT]/path` or `tcp:HOST:PORT` (IPv6 as `[::1]:5432`). */
export function parseHealthCheck(value: string): HealthCheckSpec {
  const v = value.trim();
  const lower = v.toLowerCase();
  if (lower.startsWith('cmd:')) {
    const command = v.slice(4);
    if (command.trim() === '') throw new ValueError(`healthcheck: 'cmd:' needs a command`);
    return { kind: 'cmd', command };
  }
  if (lower.startsWith('http://')) {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw new ValueError(`healthcheck: invalid URL '${v}'`);
    }
    // `http:///x` parses with host `x`: a host must follow the slashes as written.
    if (url.protocol !== 'http:' || url.hostname === '' || /^http:\/\/[/\\]/i.test(v)) {
      throw new ValueError(`healthcheck: invalid URL '${v}'`);
    }
    if (url.port !== '') portNumber(url.port, v);
    return { kind: 'http', url: url.href };
  }
  if (lower.startsWith('tcp:') && !lower.startsWith('tcp://')) {
    const rest = v.slice(4);
    const m = /^\[([^\][\s]+)\]:([^:]*)$/.exec(rest) ?? /^([^\][\s:/]+):([^:]*)$/.exec(rest);
    if (!m) throw new ValueError(`healthcheck: '${v}' is not tcp:HOST:PORT (IPv6 as tcp:[::1]:PORT)`);
    return { kind: 'tcp', host: m[1]!, port: portNumber(m[2]!, v) };
  }
  throw new ValueError(`healthcheck: '${v}' is not ${HEALTHCHECK_FORMS}`);
}

// supervisord's byte sizes (KB, MB, GB: powers of 1024) and systemd's (K, M,
// G, T and the KiB/MiB… spellings, also powers of 1024), plus plain bytes.
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** memory_max= and memory_high=: `512MB`, `1GiB`, `256M`, `1048576`; `max`/`infinity`: no limit (null). */
export function memoryBytes(value: string, option: string): number | null {
  const v = value.trim();
  if (/^(max|infinity)$/i.test(v)) return null;
  const m = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|(b))?$/i.exec(v);
  if (!m) throw new ValueError(`${option}: invalid size '${v}' (use e.g. 512MB, 1GiB, 256M or a number of bytes)`);
  const bytes = Math.floor(Number(m[1]) * BYTE_UNITS[(m[2] ?? m[3] ?? '').toLowerCase()]!);
  // The kernel rounds to pages; a limit under one page would kill the program at its first allocation.
  if (!(bytes >= 4096) || !Number.isSafeInteger(bytes)) throw new ValueError(`${option}: ${v} is not between 4KB and 8PB`);
  return bytes;
}

function wholeNumber(value: string, option: string, min: number, max: number): number {
  const v = value.trim();
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) throw new ValueError(`${option}: '${v}' is not a whole number from ${min} to ${max}`);
  return n;
}

/** cpu_max=: systemd's CPUQuota, `50%` of one CPU, `200%` for two. */
export function cpuPercent(value: string, option: string): number {
  const v = value.trim();
  const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 1 && n <= 100000)) throw new ValueError(`${option}: '${v}' is not a percentage of one CPU from 1% up (e.g. 50%, 200%)`);
  return n;
}

/** The cgroup options of a [program:x]; get() as in readFastvisorProgramOptions. */
export function readCgroupOptions(get: (option: string, def: string, doExpand?: boolean) => string): {
  cgroup: CgroupLimits;
  kill_mode: 'group' | 'cgroup' | null;
} {
  const opt = (option: string): string | null => {
    // Not %-expanded, so `50%` needs no `%%`.
    const v = get(option, UNSET, false);
    return v === UNSET ? null : v;
  };
  const maybe = <T>(option: string, parse: (v: string) => T | null): T | null => {
    const v = opt(option);
    return v === null ? null : parse(v);
  };
  const tasks = (v: string): number | null => (/^\s*(max|infinity)\s*$/i.test(v) ? null : wholeNumber(v, 'pids_max', 1, PID_MAX_LIMIT));
  const cgroup: CgroupLimits = {
    memory_max: maybe('memory_max', (v) => memoryBytes(v, 'memory_max')),
    memory_high: maybe('memory_high', (v) => memoryBytes(v, 'memory_high')),
    cpu_max: maybe('cpu_max', (v) => cpuPercent(v, 'cpu_max')),
    cpu_weight: maybe('cpu_weight', (v) => wholeNumber(v, 'cpu_weight', 1, 10000)),
    pids_max: maybe('pids_max', tasks),
    io_weight: maybe('io_weight', (v) => wholeNumber(v, 'io_weight', 1, 10000)),
  };
  const mode = opt('kill_mode');
  let kill_mode: 'group' | 'cgroup' | null = null;
  if (mode !== null) {
    const m = mode.trim().toLowerCase();
    if (m !== 'group' && m !== 'cgroup') throw new ValueError(`kill_mode: '${mode.trim()}' is neither 'group' nor 'cgroup'`);
    kill_mode = m;
  }
  return { cgroup, kill_mode };
}

/** [supervisord] cgroup_root=: a cgroup path such as `/fastvisor`; '' or unset: null (the default). */
export function cgroupRoot(value: string): string | null {
  const v = value.trim();
  if (v === '') return null;
  if (!v.startsWith('/') || v.split('/').some((p) => p === '.' || p === '..') || v.includes('\0')) {
    throw new ValueError(`cgroup_root: '${v}' is not an absolute cgroup path such as /fastvisor`);
  }
  return v.replace(/\/+$/, '') || '/';
}

/**
 * [supervisord] capture_lag_ms=: the longest trickling child output may wait
 * in its pipe before it is read and written to its log (0: read at every
 * wake-up); '' (not set): null, the I/O core's default.
 */
export function captureLagMs(value: string): number | null {
  if (value.trim() === '') return null;
  return wholeNumber(value, 'capture_lag_ms', 0, 1000);
}

const LINE_FORMATS: readonly string[] = ['raw', 'timestamped', 'json', 'prefixed'] satisfies LineFormat[];

/** stdout_logfile_format= and [supervisord] child_log_format=: one vocabulary. */
export function lineFormat(value: string, option: string): LineFormat {
  const v = value.trim().toLowerCase();
  if (!LINE_FORMATS.includes(v)) throw new ValueError(`${option}: '${value.trim()}' is not raw, timestamped, json or prefixed`);
  return v as LineFormat;
}

/** log_max_line=: supervisord's byte sizes (`16KB`, `1MB`, bytes), 1 byte to 1 GB. */
export function maxLine(value: string): number {
  let n: number;
  try {
    n = byte_size(value.trim());
  } catch {
    throw new ValueError(`log_max_line: invalid size '${value.trim()}' (use e.g. 16KB, 1MB or a number of bytes)`);
  }
  if (!(n >= 1 && n <= 2 ** 30)) throw new ValueError(`log_max_line: ${value.trim()} is not between 1 byte and 1GB`);
  return n;
}

/** *_logfile_rotate_every=: hourly, daily, weekly, or `Ns` (N whole seconds, 1 or more). */
export function rotateEvery(value: string, option: string): LogRotation['every'] {
  const v = value.trim().toLowerCase();
  if (v === 'hourly' || v === 'daily' || v === 'weekly') return v;
  const m = /^(\d+)s$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 1 && n <= 1e9)) throw new ValueError(`${option}: '${value.trim()}' is not hourly, daily, weekly or Ns (N seconds, 1 or more)`);
  return n;
}

/** *_logfile_max_age=: `14d`, `12h`, `30m`, `90s` (or bare seconds) -> seconds, 1 or more. */
export function maxAge(value: string, option: string): number {
  const m = /^\s*(\d+)\s*([dhms])?\s*$/i.exec(value);
  const secs = m ? Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]! : NaN;
  if (!(secs >= 1 && secs <= 1e11)) throw new ValueError(`${option}: invalid age '${value.trim()}' (use e.g. 14d, 12h, 30m, 90s)`);
  return secs;
}

/**
 * PREFIX_rotate_every / PREFIX_max_age / PREFIX_compress (PREFIX: stdout_logfile,
 * stderr_logfile, or [supervisord]'s logfile); null when none is set, so a
 * config without them opens its logs exactly as before.
 */
export function logRotation(get: (option: string) => string | null, prefix: string): LogRotation | null {
  const every = get(`${prefix}_rotate_every`);
  const age = get(`${prefix}_max_age`);
  const compress = get(`${prefix}_compress`);
  if (every === null && age === null && compress === null) return null;
  const c = (compress ?? 'none').trim().toLowerCase();
  if (c !== 'gzip' && c !== 'none') throw new ValueError(`${prefix}_compress: '${compress!.trim()}' is neither 'gzip' nor 'none'`);
  return {
    every: every === null || every.trim() === '' ? null : rotateEvery(every, `${prefix}_rotate_every`),
    max_age: age === null || age.trim() === '' ? 0 : maxAge(age, `${prefix}_max_age`),
    compress: c,
  };
}

// What get() returns for an option that is not set: no config value is a lone NUL.
const UNSET = '\u0000';

/** Reads the options with the section's own get(); defaults where they are not set. */
export function readFastvisorProgramOptions(get: (option: string, def: string, doExpand?: boolean) => string): FastvisorProgramOptions {
  const backoff = get('backoff', 'linear').trim().toLowerCase();
  if (backoff !== 'linear' && backoff !== 'exponential') {
    throw new ValueError(`backoff: '${backoff}' is neither 'linear' nor 'exponential'`);
  }
  const backoff_initial = duration(get('backoff_initial', '1s'), 'backoff_initial');
  const backoff_max = duration(get('backoff_max', '5m'), 'backoff_max');
  if (backoff_max < backoff_initial) throw new ValueError(`backoff_max is shorter than backoff_initial`);
  const scheduleText = get('schedule', '').trim();
  let schedule: string | null = null;
  if (scheduleText) {
    try {
      parseSchedule(scheduleText);
    } catch (e) {
      throw new ValueError(`schedule: ${(e as Error).message}`);
    }
    schedule = scheduleText;
  }
  const zone = get('schedule_timezone', '').trim();
  if (zone) {
    try {
      validateTimeZone(zone);
    } catch (e) {
      throw new ValueError(`schedule_timezone: ${(e as Error).message}`);
    }
  }

  const depends_on = parseDependsOn(get('depends_on', ''));
  let restart_dependents: boolean;
  try {
    restart_dependents = boolean(get('restart_dependents', 'false'));
  } catch (e) {
    if (e instanceof ValueError) throw new ValueError(`restart_dependents: ${e.message}`);
    throw e;
  }
  const ready = parseReady(get('ready', 'started'));
  const watchdog_sec = duration(get('watchdog_sec', '0'), 'watchdog_sec');
  if (watchdog_sec > 0 && ready.kind !== 'notify') throw new ValueError('watchdog_sec needs ready = notify');

  const healthcheckText = get('healthcheck', '').trim();
  const healthcheck = healthcheckText ? parseHealthCheck(healthcheckText) : null;
  // healthcheck_* without healthcheck= is a mistake, not a default to ignore.
  const hcOption = (option: string, def: string): string => {
    const v = get(option, UNSET);
    if (v === UNSET) return def;
    if (!healthcheck) throw new ValueError(`${option} needs healthcheck`);
    return v;
  };
  const positive = (option: string, def: string): number => {
    const secs = duration(hcOption(option, def), option);
    if (!(secs > 0)) throw new ValueError(`${option}: must be longer than 0`);
    return secs;
  };
  const healthcheck_interval = positive('healthcheck_interval', '10s');
  const healthcheck_timeout = positive('healthcheck_timeout', '5s');
  const retriesText = hcOption('healthcheck_retries', '3').trim();
  const healthcheck_retries = /^\d+$/.test(retriesText) ? Number(retriesText) : NaN;
  if (!(healthcheck_retries >= 1 && Number.isSafeInteger(healthcheck_retries))) {
    throw new ValueError(`healthcheck_retries: '${retriesText}' is not a whole number of 1 or more`);
  }
  const healthcheck_start_period = duration(hcOption('healthcheck_start_period', '0'), 'healthcheck_start_period');
  const healthcheck_action = hcOption('healthcheck_action', 'restart').trim().toLowerCase();
  if (healthcheck_action !== 'restart' && healthcheck_action !== 'none') {
    throw new ValueError(`healthcheck_action: '${healthcheck_action}' is neither 'restart' nor 'none'`);
  }

  const optional = (option: string): string | null => {
    const v = get(option, UNSET);
    return v === UNSET ? null : v;
  };
  const formatOf = (option: string): LineFormat | null => {
    const v = get(option, UNSET);
    return v === UNSET ? null : lineFormat(v, option);
  };
  const log_timestamp_format = get('log_timestamp_format', 'rfc3339').trim().toLowerCase();
  if (log_timestamp_format !== 'rfc3339' && log_timestamp_format !== 'local') {
    throw new ValueError(`log_timestamp_format: '${log_timestamp_format}' is neither 'rfc3339' nor 'local'`);
  }

  return {
    backoff,
    backoff_initial,
    backoff_max,
    // Not %-expanded, so `25%` needs no `%%`.
    backoff_jitter: percent(get('backoff_jitter', '0', false), 'backoff_jitter'),
    backoff_reset_after: duration(get('backoff_reset_after', '10m'), 'backoff_reset_after'),
    restart_delay: duration(get('restart_delay', '0'), 'restart_delay'),
    environment_file: environmentFiles(get('environment_file', '')),
    schedule,
    schedule_timezone: zone || null,
    depends_on,
    // resolveDependencies (dependencies.ts) fills it once every section is read.
    dependencies: [],
    restart_dependents,
    ready,
    watchdog_sec,
    healthcheck,
    healthcheck_interval,
    healthcheck_timeout,
    healthcheck_retries,
    healthcheck_start_period,
    healthcheck_action,
    stdout_logfile_format: formatOf('stdout_logfile_format'),
    stderr_logfile_format: formatOf('stderr_logfile_format'),
    log_timestamp_format,
    log_max_line: maxLine(get('log_max_line', '16KB')),
    stdout_logfile_rotation: logRotation(optional, 'stdout_logfile'),
    stderr_logfile_rotation: logRotation(optional, 'stderr_logfile'),
    ...readCgroupOptions(get),
  };
}
