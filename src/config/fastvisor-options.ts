// SPDX-License-Identifier: MIT
// fastvisor-only [program:x] options (supervisord does not know them; a config
// without them behaves as supervisord 4.2.5): crash-loop backoff, environment
// files and schedules. Read and checked here, with the same ValueError the
// rest of config/ raises, so a bad value stops the daemon at load with the
// section and file named; the process/ layer only reads the typed result.
import { ValueError } from './datatypes.js';
import { EnvFileError, parseEnvFileList, type EnvFileRef } from './env-file.js';
import type { FastvisorProgramOptions } from './model.js';
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
  };
}
