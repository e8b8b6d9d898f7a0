// SPDX-License-Identifier: MIT
// The file an AUTO log gets (options.py get_autochildlog_name(): tempfile.mkstemp
// with prefix 'NAME-CHANNEL---IDENTIFIER-', suffix '.log', dir=childlogdir), and
// the names no such call can ever create, refused while the config is read.
import { statSync } from 'node:fs';

import { pyRepr, ValueError } from './datatypes.js';
import type { ProcessGroupConfig } from './model.js';
import { abspath, join } from './pypath.js';

/** mkstemp's `prefix + random + suffix`. */
export function autoChildLogBase(name: string, channel: 'stdout' | 'stderr', identifier: string, random: string): string {
  return `${name}-${channel}---${identifier}-${random}.log`;
}

/** mkstemp's path: `os.path.join(os.path.abspath(dir), prefix + random + suffix)`. */
export function autoChildLogPath(
  childlogdir: string,
  name: string,
  channel: 'stdout' | 'stderr',
  identifier: string,
  random: string,
  cwd = process.cwd(),
): string {
  return join(abspath(childlogdir, cwd), autoChildLogBase(name, channel, identifier, random));
}

// Linux NAME_MAX, and PATH_MAX, which counts the final NUL.
const NAME_MAX = 255;
const PATH_MAX = 4096;

const ERRNO: Record<string, string> = {
  ENOENT: '[Errno 2] No such file or directory',
  ENOTDIR: '[Errno 20] Not a directory',
  EACCES: '[Errno 13] Permission denied',
  ELOOP: '[Errno 40] Too many levels of symbolic links',
};

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Why os.open() must fail on `join(dir, base)`, in Python's words, or null.
 * The kernel's order: the whole path's length, then each component of the
 * walk (too long, then missing or not a directory). Only what the name adds
 * to childlogdir is walked: childlogdir itself passed existing_directory.
 */
function cannotCreate(dir: string, base: string): string | null {
  const file = join(dir, base);
  if (file.includes('\0')) return 'embedded null byte';
  const tooLong = `[Errno 36] File name too long: ${pyRepr(file)}`;
  if (bytes(file) >= PATH_MAX) return tooLong;
  // A base starting with '/' restarts the path (posixpath.join).
  let walked = base.startsWith('/') ? '/' : dir;
  const parts = base.split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (bytes(part) > NAME_MAX) return tooLong;
    if (i === parts.length - 1 || part === '') continue;
    walked = walked.endsWith('/') ? walked + part : `${walked}/${part}`;
    try {
      if (!statSync(walked).isDirectory()) return `${ERRNO['ENOTDIR']}: ${pyRepr(file)}`;
    } catch (err) {
      const why = ERRNO[(err as NodeJS.ErrnoException).code ?? ''];
      // Anything else (EIO...) is left to the spawn, which reports it.
      if (why) return `${why}: ${pyRepr(file)}`;
    }
  }
  return null;
}

/**
 * create_autochildlogs() for every process with an AUTO stdout or stderr log,
 * without creating anything: a name with a NUL, one too long for the file
 * system, or one whose `/` (from identifier=%(here)s, say) points into a
 * missing directory makes supervisord die with a traceback once it has
 * started. Here it is a config error, reported for the first such process in
 * start order. Failures that depend on the moment (a full disk, a childlogdir
 * made read-only) are left to the spawn.
 */
export function checkAutoChildLogs(
  groups: readonly ProcessGroupConfig[],
  childlogdir: string,
  identifier: string,
  cwd = process.cwd(),
): void {
  const dir = abspath(childlogdir, cwd);
  for (const g of groups) {
    for (const p of g.processes) {
      for (const channel of ['stdout', 'stderr'] as const) {
        if (p[`${channel}_logfile`].kind !== 'auto') continue;
        const why = cannotCreate(dir, autoChildLogBase(p.name, channel, identifier, 'XXXXXXXX'));
        if (why) {
          throw new ValueError(
            `cannot create an AUTO ${channel}_logfile for process ${pyRepr(p.name)}: ${why} ` +
              `in section ${pyRepr(p.section)} (file: ${pyRepr(p.file)})`,
          );
        }
      }
    }
  }
}
