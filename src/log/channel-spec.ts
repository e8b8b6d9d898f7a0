// SPDX-License-Identifier: MIT
// Where a process's stdout/stderr go: a path, an AUTO file in childlogdir
// (named as supervisord names them, so its cleanup regex and people's globs
// still match), or nowhere. Also the start-up cleanup of old AUTO files.
import { closeSync, openSync, readdirSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import path from 'node:path';

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
 */
export function createAutoLogName(childlogdir: string, name: string, channel: 'stdout' | 'stderr', identifier: string): string {
  for (let attempt = 0; ; attempt++) {
    const file = path.join(childlogdir, `${name}-${channel}---${identifier}-${randomName()}.log`);
    try {
      closeSync(openSync(file, 'wx', 0o600));
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw err;
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
