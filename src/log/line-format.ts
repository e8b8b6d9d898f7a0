// SPDX-License-Identifier: MIT
// Which line format a child's log channel gets (fastvisor): its own
// stdout_logfile_format / stderr_logfile_format, else [supervisord]
// child_log_format when the file is the daemon's own stdout or stderr (the
// container setup: a collector reads the daemon's output), else raw, which
// is supervisord's behaviour: the bytes as read. The formatting itself is
// native (native/line_format.h); this only decides.
import type { LineFormat, ProcessConfig } from '../config/model.js';
import type { LineFormatSpec } from '../native/index.js';

// What supervisord's own docs use for "the daemon's stdout", and the same
// descriptors by the other names Linux gives them.
const DAEMON_OUTPUT = new Set(['/dev/stdout', '/dev/stderr', '/dev/fd/1', '/dev/fd/2', '/proc/self/fd/1', '/proc/self/fd/2']);

/** True when a logfile path is the daemon's own stdout or stderr. */
export function isDaemonOutput(file: string): boolean {
  return DAEMON_OUTPUT.has(file);
}

/** The native format for one channel's sink, or null for raw bytes. */
export function channelLineFormat(
  config: Pick<ProcessConfig, 'name' | 'program_name' | 'fastvisor'>,
  groupName: string,
  channel: 'stdout' | 'stderr',
  file: string,
  childLogFormat: LineFormat = 'raw',
): LineFormatSpec | null {
  const f = config.fastvisor;
  const own = channel === 'stdout' ? f.stdout_logfile_format : f.stderr_logfile_format;
  const mode = own ?? (isDaemonOutput(file) ? childLogFormat : 'raw');
  if (mode === 'raw') return null;
  return {
    mode,
    time: f.log_timestamp_format,
    maxLine: f.log_max_line,
    program: config.program_name,
    process: config.name,
    group: groupName,
    stream: channel,
  };
}
