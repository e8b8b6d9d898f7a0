// SPDX-License-Identifier: MIT
// Which line format a channel's sink gets: its own option, else
// child_log_format for the daemon's own stdout/stderr, else raw (supervisord).
import { describe, expect, it } from 'vitest';

import type { ProcessConfig } from '../../../src/config/model.js';
import { channelLineFormat, isDaemonOutput } from '../../../src/log/line-format.js';

function config(f: Partial<ProcessConfig['fastvisor']> = {}): Pick<ProcessConfig, 'name' | 'program_name' | 'fastvisor'> {
  return {
    name: 'web_01',
    program_name: 'web',
    fastvisor: { stdout_logfile_format: null, stderr_logfile_format: null, log_timestamp_format: 'rfc3339', log_max_line: 16384, ...f } as ProcessConfig['fastvisor'],
  };
}

describe('channelLineFormat', () => {
  it('raw (null: no formatter) without any option, whatever child_log_format says of files', () => {
    expect(channelLineFormat(config(), 'g', 'stdout', '/var/log/web.log')).toBeNull();
    expect(channelLineFormat(config(), 'g', 'stdout', '/var/log/web.log', 'json')).toBeNull();
    expect(channelLineFormat(config(), 'g', 'stdout', '/dev/stdout')).toBeNull();
  });

  it('child_log_format applies to the daemon stdout/stderr only', () => {
    expect(channelLineFormat(config(), 'g', 'stderr', '/dev/stderr', 'json')).toEqual({
      mode: 'json',
      time: 'rfc3339',
      maxLine: 16384,
      program: 'web',
      process: 'web_01',
      group: 'g',
      stream: 'stderr',
    });
    expect(channelLineFormat(config(), 'g', 'stdout', '/dev/stdout', 'prefixed')?.mode).toBe('prefixed');
    for (const p of ['/dev/stdout', '/dev/stderr', '/dev/fd/1', '/proc/self/fd/2']) expect(isDaemonOutput(p)).toBe(true);
    expect(isDaemonOutput('/dev/stdout.log')).toBe(false);
  });

  it("a program's own format wins, raw included", () => {
    expect(channelLineFormat(config({ stdout_logfile_format: 'raw' }), 'g', 'stdout', '/dev/stdout', 'json')).toBeNull();
    expect(channelLineFormat(config({ stdout_logfile_format: 'timestamped', log_timestamp_format: 'local', log_max_line: 99 }), 'g', 'stdout', '/x.log')).toMatchObject({
      mode: 'timestamped',
      time: 'local',
      maxLine: 99,
    });
    expect(channelLineFormat(config({ stdout_logfile_format: 'timestamped' }), 'g', 'stderr', '/x.log')).toBeNull();
  });
});
