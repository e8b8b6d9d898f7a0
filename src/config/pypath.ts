// SPDX-License-Identifier: MIT
// Python's posixpath and tempfile.gettempdir(), as options.py uses them: the
// paths supervisord prints (include infos, errors) are built by these, so ours
// must be too, string for string (node:path normalises where Python does not).
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { randomInt } from 'node:crypto';

import { dirname, expanduser } from './datatypes.js';

export { dirname };

/** posixpath.split: the head keeps a root of slashes, otherwise loses trailing ones. */
export function split(p: string): [string, string] {
  const i = p.lastIndexOf('/') + 1;
  let head = p.slice(0, i);
  const tail = p.slice(i);
  if (head && head !== '/'.repeat(head.length)) head = head.replace(/\/+$/, '');
  return [head, tail];
}

/** posixpath.join: an absolute part restarts the path. */
export function join(a: string, ...parts: string[]): string {
  let path = a;
  for (const b of parts) {
    if (b.startsWith('/')) path = b;
    else if (!path || path.endsWith('/')) path += b;
    else path += `/${b}`;
  }
  return path;
}

export function isabs(p: string): boolean {
  return p.startsWith('/');
}

/** posixpath.normpath: exactly two leading slashes survive (POSIX leaves `//` implementation-defined). */
export function normpath(p: string): string {
  if (p === '') return '.';
  let initial = p.startsWith('/') ? 1 : 0;
  if (initial && p.startsWith('//') && !p.startsWith('///')) initial = 2;
  const out: string[] = [];
  for (const comp of p.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (!initial && out.length === 0) || (out.length > 0 && out[out.length - 1] === '..')) out.push(comp);
    else if (out.length > 0) out.pop();
  }
  const joined = '/'.repeat(initial) + out.join('/');
  return joined || '.';
}

/** posixpath.abspath against `cwd` (os.getcwd()). */
export function abspath(p: string, cwd = process.cwd()): string {
  return normpath(isabs(p) ? p : join(cwd, p));
}

/** options.py normalize_path: logfile, pidfile, the unix socket and fcgi socket paths. */
export function normalize_path(v: string, cwd = process.cwd()): string {
  return normpath(abspath(expanduser(v), cwd));
}

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789_';

// tempfile._get_default_tempdir: a candidate counts only if a file can really
// be created in it, which is why this writes and removes a probe file.
function usable(dir: string): boolean {
  for (let seq = 0; seq < 100; seq++) {
    let name = '';
    for (let i = 0; i < 8; i++) name += NAME_CHARS[randomInt(NAME_CHARS.length)];
    const file = join(dir, name);
    let fd: number;
    try {
      fd = openSync(file, 'wx+', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      return false;
    }
    try {
      writeSync(fd, 'blat');
    } finally {
      closeSync(fd);
      unlinkSync(file);
    }
    return true;
  }
  return false;
}

/**
 * tempfile.gettempdir(): $TMPDIR, $TEMP, $TMP, /tmp, /var/tmp, /usr/tmp, the
 * CWD; the first where a file can be created, made absolute. supervisord's
 * default childlogdir. Not os.tmpdir(), which checks nothing and keeps a
 * relative $TMPDIR relative.
 */
export function gettempdir(env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): string {
  const candidates: string[] = [];
  for (const name of ['TMPDIR', 'TEMP', 'TMP']) {
    const v = env[name];
    if (v) candidates.push(v);
  }
  candidates.push('/tmp', '/var/tmp', '/usr/tmp', cwd);
  for (const c of candidates) {
    const dir = c === '.' ? c : abspath(c, cwd);
    if (usable(dir)) return dir;
  }
  throw new Error(`No usable temporary directory found in [${candidates.map((c) => `'${c}'`).join(', ')}]`);
}
