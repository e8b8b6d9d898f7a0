// SPDX-License-Identifier: MIT
// Where a process's stdout/stderr go: a path, an AUTO file in childlogdir
// (named as supervisord names them, so its cleanup regex and people's globs
// still match), or nowhere. Also the start-up cleanup of old AUTO files.
import { closeSync, openSync, readdirSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import path from 'node:path';

import { autoChildLogPath } from '../config/auto-log.js';
import type { LogfileSetting } from '../config/model.js';

// Python's tempfile._RandomNameSequence alphabet.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789_';

function randomName(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/**
 * options.py get_autochildlog_name(): mkstemp(prefix='NAME-CHANNEL---IDENT-',
 * suffix='.log', dir=childlogdir). Created exclusively, like mkstemp.
 *
 * Never throws: supervisord dies with a traceback when mkstemp fails. Names
 * that can never exist were refused with the config (config/auto-log.ts);
 * for the rest (childlogdir unwritable or gone, a full disk) the name is
 * returned uncreated and the spawn fails opening it, with its errno, as a
 * spawn error ("unknown error making dispatchers for 'x': EACCES").
 */
export function createAutoLogName(childlogdir: string, name: string, channel: 'stdout' | 'stderr', identifier: string): string {
  for (let attempt = 0; ; attempt++) {
    const file = autoChildLogPath(childlogdir, name, channel, identifier, randomName());
    try {
      closeSync(openSync(file, 'wx', 0o600));
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) return file;
    }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * options.py clear_autochildlogdir(): remove AUTO logs (and their backups)
 * of this identifier left by an earlier run. Returns what could not be removed.
 */
export function clearAutoChildLogs(childlogdir: string, identifier: string): { removed: string[]; failed: string[] } {
  // Python's re.match anchors at the start only, as here.
  const re = new RegExp(`^.+?---${escapeRegExp(identifier)}-\\S+\\.log\\.?\\d{0,4}`);
  const removed: string[] = [];
  const failed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(childlogdir);
  } catch {
    return { removed, failed: [childlogdir] };
  }
  for (const n of names) {
    if (!re.test(n)) continue;
    const p = path.join(childlogdir, n);
    try {
      rmSync(p);
      removed.push(p);
    } catch {
      failed.push(p);
    }
  }
  return { removed, failed };
}

/** The file a channel logs to, resolving AUTO once per process config. */
export function logfilePath(
  setting: LogfileSetting,
  auto: () => string,
): string | null {
  switch (setting.kind) {
    case 'path':
      return setting.path;
    case 'auto':
      return auto();
    case 'none':
      return null;
  }
}
