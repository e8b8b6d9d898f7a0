// SPDX-License-Identifier: MIT
// environment_file= (fastvisor only, in [program:x] and [supervisord]): the
// option's list of paths, and the dotenv files it names. The files are read at
// every spawn, synchronously, so that an edit applies at the next start; what
// goes wrong becomes that spawn's one-line spawnerr, so every message names
// the file (and the line) and never quotes a value: values may be secrets.
//
// The syntax, one assignment per line:
//   [export ]KEY=VALUE
//   - KEY matches [A-Za-z_][A-Za-z0-9_.-]*: shell names plus the dots and
//     dashes Java-style settings use. systemd accepts more, but a name outside
//     this set is almost always a pasted value, and we must not guess.
//   - spaces and tabs around KEY and around an unquoted VALUE are trimmed;
//     blank lines and lines whose first non-blank character is # are skipped.
//   - unquoted VALUE is literal; a # after a space or tab starts a comment
//     (`A=b #c` is "b"), a # anywhere else is data (`A=b#c`, `A=#c`), as in sh.
//   - 'single quotes' are literal, with no escapes.
//   - "double quotes" know \n \t \" \\ only. Any other backslash sequence is
//     refused rather than kept: an error now can become a new escape later
//     without changing what a file that loads today means.
//   - after a closing quote only blanks and a " #comment" may follow.
//   - a value is one line: a quote left open at the end of its line is an error.
//   - the same KEY twice: the later line wins; across files, the later file.
// The file itself: at most 1 MiB, a regular file, strict UTF-8 (a bad byte is
// an error naming its line, not U+FFFD: a mangled secret would fail later and
// far from here), no NUL byte (execve could not pass it), CRLF line ends and a
// leading UTF-8 BOM accepted (files saved by Windows editors).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export interface EnvFileRef {
  path: string;
  /** written with a leading `-`: a missing file is skipped (systemd's EnvironmentFile= rule) */
  optional: boolean;
}

export class EnvFileError extends Error {
  override name = 'EnvFileError';
  constructor(
    readonly file: string,
    readonly line: number | null,
    reason: string,
  ) {
    super(line === null ? `environment_file ${file}: ${reason}` : `environment_file ${file}, line ${line}: ${reason}`);
  }
}

export const ENV_FILE_MAX_BYTES = 1024 * 1024;
const TOO_LARGE = 'file is larger than 1 MiB';

/**
 * The option's value, after %(here)s expansion: paths separated by commas or
 * newlines (so a continuation-line list works too); blank entries are
 * ignored. Paths must be absolute: the daemon's working directory is not the
 * config file's, and changes with -d and daemonizing.
 */
export function parseEnvFileList(value: string): EnvFileRef[] {
  const refs: EnvFileRef[] = [];
  for (const entry of value.split(/[,\n]/)) {
    let p = entry.trim();
    if (p === '') continue;
    const optional = p.startsWith('-');
    if (optional) p = p.slice(1).trim();
    if (p === '') throw new EnvFileError("'-'", null, 'no path after the leading -');
    if (!p.startsWith('/')) throw new EnvFileError(p, null, 'not an absolute path (use %(here)s for one next to the config file)');
    refs.push({ path: p, optional });
  }
  return refs;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const EXPORT = /^export[ \t]+(?=[A-Za-z_])/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\' };

/** One value, from just after `=`; returns it or the reason it is malformed. */
function parseValue(raw: string): { value: string } | { reason: string } {
  const v = raw.replace(/^[ \t]+/, '');
  const quote = v[0];
  let value: string;
  let tail: string;
  if (quote === "'") {
    const end = v.indexOf("'", 1);
    if (end < 0) return { reason: 'unterminated single quote' };
    value = v.slice(1, end);
    tail = v.slice(end + 1);
  } else if (quote === '"') {
    value = '';
    let i = 1;
    for (;;) {
      const c = v[i];
      if (c === undefined) return { reason: 'unterminated double quote' };
      if (c === '"') break;
      if (c === '\\') {
        const next = v[i + 1];
        if (next === undefined) return { reason: 'unterminated double quote' };
        const e = ESCAPES[next];
        // The offending character is part of the value: not in the message.
        if (e === undefined) return { reason: 'unsupported backslash escape in double quotes (only \\n \\t \\" \\\\)' };
        value += e;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    tail = v.slice(i + 1);
  } else {
    // Look in raw, not v: `A= #c` is an empty value with a comment.
    const hash = raw.search(/[ \t]#/);
    return { value: (hash < 0 ? raw : raw.slice(0, hash)).replace(/^[ \t]+|[ \t]+$/g, '') };
  }
  if (!/^[ \t]*$|^[ \t]+#/.test(tail)) return { reason: 'unexpected text after the closing quote' };
  return { value };
}

/** A dotenv text -> its variables; `file` only names it in errors. */
export function parseEnvText(text: string, file: string): Record<string, string> {
  // Null prototype: a variable may be called __proto__ or constructor.
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const s = line.replace(/^[ \t]+/, '');
    if (s.trimEnd() === '' || s.startsWith('#')) continue;
    const rest = s.replace(EXPORT, '');
    const eq = rest.indexOf('=');
    if (eq < 0) throw new EnvFileError(file, n + 1, 'expected KEY=VALUE');
    const key = rest.slice(0, eq).replace(/[ \t]+$/, '');
    // Not echoed either: a name that fails this is often a pasted value.
    if (!KEY.test(key)) throw new EnvFileError(file, n + 1, 'invalid variable name (allowed: [A-Za-z_][A-Za-z0-9_.-]*)');
    const r = parseValue(rest.slice(eq + 1));
    if ('reason' in r) throw new EnvFileError(file, n + 1, r.reason);
    env[key] = r.value;
  }
  return env;
}

// glibc's strerror() texts, as supervisord's messages carry them.
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EIO: 'Input/output error',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  ENXIO: 'No such device or address',
};

function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Reads at most ENV_FILE_MAX_BYTES + 1 bytes of a regular file. O_NONBLOCK so
 * that a FIFO cannot hang the daemon in open() before fstat refuses it; the
 * size is not trusted (procfs files say 0, files grow), the read loop counts.
 */
function readBounded(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    if (!st.isFile()) throw new EnvFileError(file, null, 'not a regular file');
    if (st.size > ENV_FILE_MAX_BYTES) throw new EnvFileError(file, null, TOO_LARGE);
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= ENV_FILE_MAX_BYTES) {
      const chunk = Buffer.allocUnsafe(Math.min(65536, ENV_FILE_MAX_BYTES + 1 - total));
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      total += got;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function lineOf(buf: Buffer, offset: number): number {
  let line = 1;
  for (let i = buf.indexOf(0x0a); i >= 0 && i < offset; i = buf.indexOf(0x0a, i + 1)) line++;
  return line;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The checks every file's bytes pass before parsing, whoever read them. */
function decode(buf: Buffer, file: string): string {
  if (buf.length > ENV_FILE_MAX_BYTES) throw new EnvFileError(file, null, TOO_LARGE);
  const nul = buf.indexOf(0);
  if (nul >= 0) throw new EnvFileError(file, lineOf(buf, nul), 'NUL byte');
  try {
    return utf8.decode(buf);
  } catch {
    // Only on failure: find the first line that does not decode on its own.
    let start = 0;
    for (let line = 1; ; line++) {
      const nl = buf.indexOf(0x0a, start);
      const end = nl < 0 ? buf.length : nl;
      try {
        utf8.decode(buf.subarray(start, end));
      } catch {
        throw new EnvFileError(file, line, 'invalid UTF-8');
      }
      if (nl < 0) throw new EnvFileError(file, null, 'invalid UTF-8');
      start = nl + 1;
    }
  }
}

/**
 * The files in order, merged: later lines and later files win. An optional
 * file that is missing (ENOENT, or ENOTDIR: a path component is a file) is
 * skipped; everything else that goes wrong with any file throws EnvFileError.
 * `read` is for tests; the default refuses non-regular files and reads at most
 * one byte past the limit.
 */
export function readEnvFiles(refs: readonly EnvFileRef[], read: (path: string) => Buffer = readBounded): Record<string, string> {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const ref of refs) {
    let buf: Buffer;
    try {
      buf = read(ref.path);
    } catch (err) {
      if (err instanceof EnvFileError) throw err;
      const code = errnoCode(err);
      if (ref.optional && (code === 'ENOENT' || code === 'ENOTDIR')) continue;
      throw new EnvFileError(ref.path, null, (code && STRERROR[code]) ?? code ?? 'cannot be read');
    }
    Object.assign(env, parseEnvText(decode(buf, ref.path), ref.path));
  }
  return env;
}
