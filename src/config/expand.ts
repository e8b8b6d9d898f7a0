// SPDX-License-Identifier: MIT
// supervisord's `%(name)s` expansion: options.py expand(), which is Python's
// `value % names`, with its two error messages word for word.
import { constants } from 'node:buffer';

import { pyAscii, pyRepr, ValueError } from './datatypes.js';

/*
Which names each option sees is decided in options.py, not here; the section
readers build `names`. What 4.2.5 does (ENV_* = supervisord's environment as
ENV_<NAME>, through UnhosedConfigParser.saneget's parser.expansions):

  [supervisord] every option (read_config get)   here, ENV_*
  [supervisord] environment                       the above, then expand() again with
                                                  here, host_node_name, ENV_* (context 'environment'),
                                                  so host_node_name works only as %%(host_node_name)s
                                                  and a literal % needs %%%%; its keys then join ENV_*
                                                  for every later section
  [include] files                                 expand_here(), then here, host_node_name, ENV_*
                                                  (context 'include.files'; os.environ only)
  [group:x] programs, priority                    here, ENV_*
  [program:x] priority, when not in a [group:x],
    read first at group level                     here, ENV_*   ← no program_name; no section suffix on error
  [eventlistener:x] priority, buffer_size,
    result_handler, events, redirect_stderr       here, ENV_*
  [fcgi-program:x] priority, user, socket_backlog,
    socket_owner, socket_mode                     here, ENV_*
  [fcgi-program:x] socket                         program_name, here, ENV_*
  program-like sections, before the numprocs loop here, program_name, host_node_name, group_name, ENV_*
    (priority autostart autorestart startsecs startretries stopsignal stopwaitsecs stopasgroup
     killasgroup exitcodes redirect_stderr numprocs numprocs_start *_capture_maxbytes
     *_events_enabled serverurl user umask)
  inside the loop, per process: the above plus process_num, numprocs and, after environment
    is read, the program's own environment keys as ENV_*:
      environment (read raw, expanded here, context 'environment'), directory,
      stdout_logfile / stderr_logfile (expanded twice: saneget, then context 'stdout_logfile',
        so a literal % needs %%%%), *_logfile_backups, *_logfile_maxbytes, *_syslog,
      command, process_name (read raw, expanded here, context 'process_name')
    The loop updates the same dict the earlier options used (expansions = common_expansions),
    hence the logfile sizes see process_num and priority does not.
  [unix_http_server] file                         here, ENV_*
  [unix_http_server] chmod, chown, username, password;
  [inet_http_server] port, username, password     ENV_* only (no here)
  [rpcinterface:x], [ctlplugin:x] (get_plugins)  ENV_* only
  [supervisorctl] serverurl, history_file         here, ENV_*
  [supervisorctl] prompt, username, password      ENV_* only
A default that is not a str (999, Automatic) is not expanded. The context is
'<section>.<option>' (saneget) unless given above.
*/

/**
 * Values are str, int, or None (Python's `here` before a file is known). An
 * int is a number, or a bigint past 2**53 (process_num from a huge numprocs_start).
 */
export type ExpansionValue = string | number | bigint | null;
export type Expansions = Readonly<Record<string, ExpansionValue>>;

/**
 * options.py UnhosedConfigParser.expand_here. When the main file has an [include] section,
 * read_config runs it over every value (the main file's dir), then again after each included
 * file (that file's dir); without one, `%(here)s` goes through expand() with the main file's dir.
 * A plain replacement, so `%%(here)s` becomes `%/dir`, which expand() then rejects.
 */
export function expand_here(value: string, here: string): string {
  return value.split('%(here)s').join(here);
}

/** The ENV_<NAME> names of an environment (ServerOptions.__init__ environ_expansions). */
export function environ_expansions(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[`ENV_${k}`] = v;
  return out;
}

class PyKeyError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

class PyFormatError extends Error {}

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * options.py expand(): `s % expansions`. A missing name and any other
 * formatting error give supervisord's two messages; `context` is its `name`
 * argument (`'program:x.command'`).
 */
export function expand(s: string, names: Expansions, context: string): string {
  try {
    return percentFormat(s, names);
  } catch (e) {
    if (e instanceof PyKeyError) {
      const available = Object.keys(names).sort(compareCodePoints);
      throw new ValueError(
        `Format string ${pyRepr(s)} for ${pyRepr(context)} contains names (${pyRepr(e.key)}) ` +
          `which cannot be expanded. Available names: ${available.join(', ')}`,
      );
    }
    if (e instanceof PyFormatError) {
      throw new ValueError(`Format string ${pyRepr(s)} for ${pyRepr(context)} is badly formatted: ${e.message}`);
    }
    throw e;
  }
}

// The mapping itself is an argument too: a `%s` without a name formats the
// whole dict ({'ENV_HOME': '/root', ...}), once; a second one has nothing left.
const DICT = Symbol('the expansions dict');
type Arg = ExpansionValue | typeof DICT;

function typeName(v: Arg): string {
  if (v === DICT) return 'dict';
  if (v === null) return 'NoneType';
  return typeof v === 'string' ? 'str' : 'int';
}

function reprOf(v: Arg, names: Expansions, ascii: boolean): string {
  if (v === DICT) {
    const items = Object.entries(names).map(([k, x]) => `${reprOf(k, names, ascii)}: ${reprOf(x, names, ascii)}`);
    return `{${items.join(', ')}}`;
  }
  if (v === null) return 'None';
  if (typeof v !== 'string') return String(v);
  return ascii ? pyAscii(v) : pyRepr(v);
}

function strOf(v: Arg, names: Expansions): string {
  return typeof v === 'string' ? v : reprOf(v, names, false);
}

interface Spec {
  ljust: boolean;
  sign: boolean;
  blank: boolean;
  alt: boolean;
  zero: boolean;
  width: number;
  prec: number; // -1: none
}

// The longest string V8 builds (2**29 - 24 UTF-16 units). Python pads to any
// width memory allows and says "width too big" only past 2**63 - 1; a width
// or precision we cannot build is refused here in those words, before
// anything is allocated, instead of ending in a RangeError.
const MAX_LENGTH = constants.MAX_STRING_LENGTH;
// room for the digits, sign, prefix and exponent around a precision's zeros
const MAX_PRECISION = MAX_LENGTH - 1024;

function checkWidth(spec: Spec): void {
  if (spec.width > MAX_LENGTH) throw new PyFormatError('width too big');
}

function pad(s: string, spec: Spec): string {
  checkWidth(spec);
  const len = Array.from(s).length;
  if (spec.width <= len) return s;
  const fill = ' '.repeat(spec.width - len);
  return spec.ljust ? s + fill : fill + s;
}

// unicode_format_arg_output for numbers: the sign, then the 0x/0o prefix when
// zero-filling, then the fill.
function padNumber(negative: boolean, prefix: string, body: string, spec: Spec): string {
  checkWidth(spec);
  const sign = negative ? '-' : spec.sign ? '+' : spec.blank ? ' ' : '';
  const len = sign.length + prefix.length + body.length;
  if (spec.width <= len) return sign + prefix + body;
  const fill = spec.width - len;
  if (spec.ljust) return sign + prefix + body + ' '.repeat(fill);
  if (spec.zero) return sign + prefix + '0'.repeat(fill) + body;
  return ' '.repeat(fill) + sign + prefix + body;
}

function formatInteger(v: number | bigint, conv: string, spec: Spec): string {
  // _PyUnicode_FormatLong's limit; ours is lower still (MAX_PRECISION).
  if (spec.prec > INT_MAX - 3 || spec.prec > MAX_PRECISION) throw new PyFormatError('precision too large');
  const n = BigInt(v);
  const abs = n < 0n ? -n : n;
  let body = conv === 'o' ? abs.toString(8) : conv === 'x' || conv === 'X' ? abs.toString(16) : abs.toString();
  if (spec.prec > body.length) body = '0'.repeat(spec.prec - body.length) + body;
  let prefix = '';
  if (spec.alt && conv === 'o') prefix = '0o';
  if (spec.alt && (conv === 'x' || conv === 'X')) prefix = '0x';
  if (conv === 'X') {
    body = body.toUpperCase();
    prefix = prefix.toUpperCase();
  }
  return padNumber(n < 0n, prefix, body, spec);
}

// Round the decimal digits of an integer to `n` significant digits, halves to
// even (the value is exact, so a tie is a real tie, as in Python's dtoa).
function roundDigits(digits: string, n: number): { head: string; exp: number } {
  let exp = digits.length - 1;
  if (digits.length <= n) return { head: digits + '0'.repeat(n - digits.length), exp };
  let head = digits.slice(0, n);
  const rest = digits.slice(n);
  const half = '5' + '0'.repeat(rest.length - 1);
  const up = rest > half || (rest === half && Number(head[head.length - 1]) % 2 === 1);
  if (up) {
    const bumped = (BigInt(head) + 1n).toString();
    if (bumped.length > n) {
      head = bumped.slice(0, n);
      exp += 1;
    } else head = bumped;
  }
  return { head, exp };
}

function expNotation(head: string, exp: number, keepPoint: boolean, stripZeros: boolean): string {
  let frac = head.slice(1);
  if (stripZeros) frac = frac.replace(/0+$/, '');
  const mantissa = head[0]! + (frac ? `.${frac}` : keepPoint ? '.' : '');
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

// %e %f %g of an int, which Python first turns into a float (our ints are
// already doubles, so their digits are exact; a bigint rounds to the nearest
// double, halves to even, as float() does).
function formatFloat(int: number | bigint, conv: string, spec: Spec): string {
  const v = Number(int);
  if (!Number.isFinite(v)) throw new PyFormatError('int too large to convert to float');
  if (spec.prec > MAX_PRECISION) throw new PyFormatError('precision too large');
  const digits = BigInt(Math.abs(v)).toString();
  const lower = conv.toLowerCase();
  const prec = spec.prec < 0 ? 6 : spec.prec;
  let body: string;
  if (lower === 'f') {
    body = digits + (prec > 0 ? `.${'0'.repeat(prec)}` : spec.alt ? '.' : '');
  } else if (lower === 'e') {
    const { head, exp } = v === 0 ? { head: '0'.repeat(prec + 1), exp: 0 } : roundDigits(digits, prec + 1);
    body = expNotation(head, exp, spec.alt, false);
  } else {
    const p = prec === 0 ? 1 : prec;
    const { head, exp } = v === 0 ? { head: '0'.repeat(p), exp: 0 } : roundDigits(digits, p);
    if (exp < p) {
      let frac = head.slice(exp + 1);
      if (!spec.alt) frac = frac.replace(/0+$/, '');
      body = head.slice(0, exp + 1) + (frac ? `.${frac}` : spec.alt ? '.' : '');
    } else {
      body = expNotation(head, exp, spec.alt, !spec.alt);
    }
  }
  if (conv !== lower) body = body.toUpperCase();
  return padNumber(v < 0, '', body, spec);
}

const PY_SSIZE_T_MAX = 9223372036854775807n;
const INT_MAX = 2147483647;

// PyLong_AsSsize_t / _PyLong_AsInt on a `*` argument.
function asCInt(v: number | bigint, max: bigint, ctype: string): number {
  const n = BigInt(v);
  if (n > max || n < -max - 1n) throw new PyFormatError(`Python int too large to convert to C ${ctype}`);
  return Number(n);
}

/**
 * Python's `str % mapping` (PyUnicode_Format), for values that are str, int or
 * None. Checks run in CPython's order: the key lookup, `*`, the argument, the
 * conversion character.
 */
function percentFormat(s: string, names: Expansions): string {
  // Scanned in UTF-16 units: every character with a meaning here is ASCII, and
  // literal text is copied in slices, so a value megabytes long (a second
  // expansion of a padded one) costs no array of its characters.
  const f = s;
  const n = f.length;
  let out = '';
  // Room is kept for all of the literal text, so only a piece can overflow.
  const room = MAX_LENGTH - s.length;
  const emit = (piece: string): void => {
    if (piece.length > room - out.length) throw new PyFormatError('width too big');
    out += piece;
  };
  let arg: Arg = DICT;
  let argAvailable = true;
  const nextArg = (): Arg => {
    if (!argAvailable) throw new PyFormatError('not enough arguments for format string');
    argAvailable = false;
    return arg;
  };
  let i = 0;
  while (i < n) {
    if (f[i] !== '%') {
      const next = f.indexOf('%', i);
      const stop = next < 0 ? n : next;
      out += f.slice(i, stop);
      i = stop;
      continue;
    }
    i++;
    if (i >= n) throw new PyFormatError('incomplete format');
    if (f[i] === '%') {
      out += '%';
      i++;
      continue;
    }
    if (f[i] === '(') {
      let depth = 1;
      let j = i + 1;
      while (depth > 0 && j < n) {
        if (f[j] === ')') depth--;
        else if (f[j] === '(') depth++;
        j++;
      }
      if (depth > 0) throw new PyFormatError('incomplete format key');
      const key = f.slice(i + 1, j - 1);
      if (!Object.hasOwn(names, key)) throw new PyKeyError(key);
      arg = names[key]!;
      argAvailable = true;
      i = j;
    }
    const spec: Spec = { ljust: false, sign: false, blank: false, alt: false, zero: false, width: -1, prec: -1 };
    for (; i < n; i++) {
      const c = f[i];
      if (c === '-') spec.ljust = true;
      else if (c === '+') spec.sign = true;
      else if (c === ' ') spec.blank = true;
      else if (c === '#') spec.alt = true;
      else if (c === '0') spec.zero = true;
      else break;
    }
    if (f[i] === '*') {
      const a = nextArg();
      if (typeof a !== 'number' && typeof a !== 'bigint') throw new PyFormatError('* wants int');
      const w = asCInt(a, PY_SSIZE_T_MAX, 'ssize_t');
      spec.width = Math.abs(w);
      if (w < 0) spec.ljust = true;
      i++;
    } else if (i < n && f[i]! >= '0' && f[i]! <= '9') {
      let width = 0n;
      for (; i < n && f[i]! >= '0' && f[i]! <= '9'; i++) {
        const d = BigInt(f[i]!.charCodeAt(0) - 48);
        if (width > (PY_SSIZE_T_MAX - d) / 10n) throw new PyFormatError('width too big');
        width = width * 10n + d;
      }
      spec.width = Number(width);
    }
    if (f[i] === '.') {
      spec.prec = 0;
      i++;
      if (f[i] === '*') {
        const a = nextArg();
        if (typeof a !== 'number' && typeof a !== 'bigint') throw new PyFormatError('* wants int');
        spec.prec = Math.max(asCInt(a, BigInt(INT_MAX), 'int'), 0);
        i++;
      } else {
        for (; i < n && f[i]! >= '0' && f[i]! <= '9'; i++) {
          const d = f[i]!.charCodeAt(0) - 48;
          if (spec.prec > Math.trunc((INT_MAX - d) / 10)) throw new PyFormatError('precision too big');
          spec.prec = spec.prec * 10 + d;
        }
      }
    }
    if (i < n && (f[i] === 'h' || f[i] === 'l' || f[i] === 'L')) i++;
    if (i >= n) throw new PyFormatError('incomplete format');
    const conv = String.fromCodePoint(f.codePointAt(i)!);
    i += conv.length;
    const v = nextArg();
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        let str = conv === 's' ? strOf(v, names) : reprOf(v, names, conv === 'a');
        if (spec.prec >= 0) str = Array.from(str).slice(0, spec.prec).join('');
        emit(pad(str, spec));
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'o':
      case 'x':
      case 'X':
        if (typeof v !== 'number' && typeof v !== 'bigint') {
          const what = 'diu'.includes(conv) ? 'a real number' : 'an integer';
          throw new PyFormatError(`%${conv} format: ${what} is required, not ${typeName(v)}`);
        }
        emit(formatInteger(v, conv === 'i' || conv === 'u' ? 'd' : conv, spec));
        break;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        if (typeof v !== 'number' && typeof v !== 'bigint') {
          throw new PyFormatError(`must be real number, not ${typeName(v)}`);
        }
        emit(formatFloat(v, conv, spec));
        break;
      case 'c': {
        let ch: string;
        if (typeof v === 'number' || typeof v === 'bigint') {
          if (v < 0 || v > 0x10ffff) throw new PyFormatError('%c arg not in range(0x110000)');
          ch = String.fromCodePoint(Number(v));
        } else if (typeof v === 'string' && Array.from(v).length === 1) ch = v;
        else throw new PyFormatError('%c requires int or char');
        emit(pad(ch, spec));
        break;
      }
      default: {
        const cp = conv.codePointAt(0)!;
        const shown = cp >= 31 && cp <= 126 ? conv : '?';
        // Python counts code points.
        const at = Array.from(f.slice(0, i - conv.length)).length;
        throw new PyFormatError(`unsupported format character '${shown}' (0x${cp.toString(16)}) at index ${at}`);
      }
    }
  }
  return out;
}
