// SPDX-License-Identifier: MIT
// Python 3.11's glob.glob() and fnmatch, for [include] files=: which files
// match, and how their paths are spelled, decide supervisord's "Included extra
// file" lines and the order sections are read in. Not recursive (`**` is `*`),
// hidden names only for patterns that start with a dot, `[!x]` negates.
import { lstatSync, readdirSync, statSync } from 'node:fs';

import { ValueError } from './datatypes.js';
import { join, split } from './pypath.js';

const MAGIC = /[*?[]/;

export function has_magic(s: string): boolean {
  return MAGIC.test(s);
}

function escapeCodePoint(c: string): string {
  return `\\u{${c.codePointAt(0)!.toString(16)}}`;
}

// The inside of a `[...]` as fnmatch.translate leaves it, read the way
// sre_parse reads a class: `\x` is a literal x, `a-b` a range, a `-` before
// the end or after a range is literal.
function classItems(stuff: string[]): string {
  let out = '';
  let i = 0;
  const next = (): string => {
    const c = stuff[i++]!;
    return c === '\\' && i < stuff.length ? stuff[i++]! : c;
  };
  while (i < stuff.length) {
    const lo = next();
    if (stuff[i] === '-' && i + 1 < stuff.length) {
      i++;
      const hi = next();
      // sre_parse raises "bad character range" here; translate() removes the
      // ranges that would, so this only guards the impossible.
      if (hi.codePointAt(0)! >= lo.codePointAt(0)!) out += `${escapeCodePoint(lo)}-${escapeCodePoint(hi)}`;
    } else out += escapeCodePoint(lo);
  }
  return out;
}

/** fnmatch.translate, emitting a JavaScript pattern (flags `su`) that matches what Python's matches. */
export function translate(pattern: string): string {
  const pat = Array.from(pattern);
  const n = pat.length;
  const STAR = null;
  const res: Array<string | null> = [];
  let i = 0;
  while (i < n) {
    const c = pat[i++]!;
    if (c === '*') {
      if (res.length === 0 || res[res.length - 1] !== STAR) res.push(STAR);
    } else if (c === '?') res.push('.');
    else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) {
        res.push('\\[');
        continue;
      }
      let stuff: string[];
      const slice = (a: number, b: number): string[] => pat.slice(a, b);
      const esc = (s: string[], hyphen: boolean): string[] =>
        s.flatMap((ch) => (ch === '\\' ? ['\\', '\\'] : hyphen && ch === '-' ? ['\\', '-'] : [ch]));
      if (!slice(i, j).includes('-')) stuff = esc(slice(i, j), false);
      else {
        const chunks: string[][] = [];
        let k = pat[i] === '!' ? i + 2 : i + 1;
        for (;;) {
          k = pat.indexOf('-', k);
          if (k < 0 || k >= j) break;
          chunks.push(slice(i, k));
          i = k + 1;
          k = k + 3;
        }
        const chunk = slice(i, j);
        if (chunk.length) chunks.push(chunk);
        else chunks[chunks.length - 1]!.push('-');
        // Remove empty ranges -- invalid in RE.
        for (let m = chunks.length - 1; m > 0; m--) {
          const prev = chunks[m - 1]!;
          if (cmp(prev[prev.length - 1]!, chunks[m]![0]!) > 0) {
            chunks[m - 1] = [...prev.slice(0, -1), ...chunks[m]!.slice(1)];
            chunks.splice(m, 1);
          }
        }
        stuff = [];
        chunks.forEach((ch, idx) => {
          if (idx > 0) stuff.push('-');
          stuff.push(...esc(ch, true));
        });
      }
      // Escaping set operations (&&, ~~, ||) changes nothing for a literal reading.
      i = j + 1;
      if (stuff.length === 0) res.push('(?!)');
      else if (stuff.length === 1 && stuff[0] === '!') res.push('.');
      else if (stuff[0] === '!') res.push(`[^${classItems(stuff.slice(1))}]`);
      else res.push(`[${classItems(stuff)}]`);
    } else res.push(escapeCodePoint(c));
  }
  // `*` -> `.*`; Python's atomic `(?>.*?fixed)` matches the same names.
  return `^(?:${res.map((r) => (r === STAR ? '.*' : r)).join('')})$`;
}

// Python compares str by code point; JS `>` by UTF-16 unit.
function cmp(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}

export function fnmatchcase(name: string, pattern: string): boolean {
  return new RegExp(translate(pattern), 'su').test(name);
}

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isdir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

// glob._iterdir: unreadable directories are empty; a NUL is not an OSError,
// so Python lets it through.
function listdir(dirname: string, dironly: boolean): string[] {
  if (dirname.includes('\0')) throw new ValueError('embedded null byte');
  let entries;
  try {
    entries = readdirSync(dirname || '.', { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (dironly && !(e.isDirectory() || (e.isSymbolicLink() && isdir(join(dirname || '.', e.name))))) continue;
    out.push(e.name);
  }
  return out;
}

function ishidden(p: string): boolean {
  return p[0] === '.';
}

function glob1(dirname: string, pattern: string, dironly: boolean): string[] {
  let names = listdir(dirname, dironly);
  if (!ishidden(pattern)) names = names.filter((x) => !ishidden(x));
  const re = new RegExp(translate(pattern), 'su');
  return names.filter((x) => re.test(x));
}

function glob0(dirname: string, basename: string): string[] {
  if (basename) return lexists(join2(dirname, basename)) ? [basename] : [];
  return isdir(dirname) ? [basename] : [];
}

function join2(dirname: string, basename: string): string {
  if (!dirname || !basename) return dirname || basename;
  return join(dirname, basename);
}

function* iglob(pathname: string, dironly: boolean): Generator<string> {
  const [dirname, basename] = split(pathname);
  if (!has_magic(pathname)) {
    if (basename) {
      if (lexists(pathname)) yield pathname;
    } else if (isdir(dirname)) yield pathname;
    return;
  }
  if (!dirname) {
    yield* glob1('', basename, dironly);
    return;
  }
  const dirs = dirname !== pathname && has_magic(dirname) ? iglob(dirname, true) : [dirname];
  for (const d of dirs) {
    const names = has_magic(basename) ? glob1(d, basename, dironly) : glob0(d, basename);
    for (const name of names) yield join(d, name);
  }
}

/** glob.glob(pathname): in directory order; supervisord sorts the result. */
export function glob(pathname: string): string[] {
  return [...iglob(pathname, false)];
}
