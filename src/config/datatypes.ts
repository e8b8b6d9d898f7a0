// SPDX-License-Identifier: MIT
// The value converters of supervisor/datatypes.py, with its error messages word
// for word, and the Python builtins they are made of (int(), str.strip, repr).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { constants, homedir } from 'node:os';
import { isIP } from 'node:net';

/** Python's ValueError: what every converter raises; options.py turns it into a usage error. */
export class ValueError extends Error {
  override name = 'ValueError';
}

// str.isspace(): wider than JS \s (adds \x1c-\x1f and \x85) and narrower (no
// \ufeff). ConfigParser strips lines and values with it.
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
  0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** A UTF-16 code unit str.isspace() is true for; printable ASCII answers without the set. */
function isSpaceCode(c: number): boolean {
  return c > 0x20 && c < 0x7f ? false : PY_SPACE.has(c);
}

export function pyIsSpace(ch: string): boolean {
  return ch.length > 0 && PY_SPACE.has(ch.codePointAt(0)!);
}

export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpaceCode(s.charCodeAt(a))) a++;
  while (b > a && isSpaceCode(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

export function pyRstrip(s: string): string {
  let b = s.length;
  while (b > 0 && isSpaceCode(s.charCodeAt(b - 1))) b--;
  return b === s.length ? s : s.slice(0, b);
}

// str.isprintable() is false for these categories (except the plain space).
// Node's Unicode tables are newer than Python 3.11's, so a character assigned
// after Unicode 14 prints raw here where Python escapes it.
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function pyEscape(cp: number): string {
  if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

// Printable ASCII with neither quote nor backslash: repr() only adds quotes.
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

// `limit` stops after that many code points of output (%.200R in int()'s
// error), so a megabyte value costs no more than a short one.
function reprWith(s: string, asciiOnly: boolean, limit = Infinity): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  if (PLAIN_ASCII.test(s) && !s.includes(quote) && !s.includes('\\')) {
    const out = quote + s + quote;
    return limit < out.length ? out.slice(0, limit) : out;
  }
  let out = quote;
  let count = 1;
  for (const ch of s) {
    if (count >= limit) break;
    const cp = ch.codePointAt(0)!;
    let piece: string;
    if (ch === quote || ch === '\\') piece = `\\${ch}`;
    else if (ch === '\t') piece = '\\t';
    else if (ch === '\n') piece = '\\n';
    else if (ch === '\r') piece = '\\r';
    else if (cp < 0x20 || cp === 0x7f) piece = pyEscape(cp);
    else if (cp < 0x7f) piece = ch;
    else if (asciiOnly || (ch !== ' ' && NOT_PRINTABLE.test(ch))) piece = pyEscape(cp);
    else piece = ch;
    out += piece;
    // Escapes are ASCII; a kept character is one code point.
    count += cp > 0x7f && piece === ch ? 1 : piece.length;
  }
  out += quote;
  return limit === Infinity ? out : pyCodePointSlice(out, limit);
}

/** repr() of a str: supervisord formats values into its messages with %r. */
export function pyRepr(s: string): string {
  return reprWith(s, false);
}

/** ascii() of a str (the %a conversion). */
export function pyAscii(s: string): string {
  return reprWith(s, true);
}

// Python's int() also reads any Unicode decimal digit ('١٢' is 12). Decimal
// digits come in runs of ten from 0 to 9, so a digit's value is its offset
// from the start of its run.
const DECIMAL = /\p{Nd}/u;

function decimalValue(cp: number): number {
  if (!DECIMAL.test(String.fromCodePoint(cp))) return -1;
  let start = cp;
  while (start > 0 && DECIMAL.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}

const MAX_STR_DIGITS = 4300; // Python 3.11 sys.int_info.default_max_str_digits

/** The first `n` code points of `s` (Python slices by code point, JS by UTF-16 unit). */
function pyCodePointSlice(s: string, n: number): string {
  let i = 0;
  for (let k = 0; k < n && i < s.length; k++) {
    const c = s.charCodeAt(i);
    const low = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    i += c >= 0xd800 && c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff ? 2 : 1;
  }
  return s.slice(0, i);
}

// _PyUnicode_TransformDecimalAndSpaceToASCII: an ASCII str is used as it is;
// otherwise Unicode spaces become ' ' and digits their ASCII digit, and the
// first other non-ASCII character becomes '?' and ends the string. Built from
// slices, not a character at a time: a value padded by %(here)9999999s is
// megabytes long and must fail as fast as a short one.
const ASCII = /^[\x00-\x7f]*$/;

function decimalAndSpaceToAscii(value: string): string {
  if (ASCII.test(value)) return value;
  const parts: string[] = [];
  let run = 0;
  for (let i = 0; i < value.length; ) {
    const cp = value.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (cp < 127) {
      i += width;
      continue;
    }
    parts.push(value.slice(run, i));
    if (PY_SPACE.has(cp)) parts.push(' ');
    else {
      const d = decimalValue(cp);
      // Python writes '?' and stops, which fails below (after the digit limit).
      if (d < 0) {
        parts.push('?');
        return parts.join('');
      }
      parts.push(String(d));
    }
    i += width;
    run = i;
  }
  parts.push(value.slice(run));
  return parts.join('');
}

// The end of a run of ' \t\n\v\f\r' from i (a regex: megabytes of padding are common here).
const ASCII_SPACES = /[\t-\r ]*/y;

function skipAsciiSpace(a: string, i: number): number {
  ASCII_SPACES.lastIndex = i;
  ASCII_SPACES.test(a);
  return ASCII_SPACES.lastIndex;
}

/**
 * int(value, base) for a str: PyLong_FromUnicodeObject. Unicode spaces and
 * digits are mapped to ASCII first; then an optional sign, `_` between digits,
 * `0o` allowed in base 8, surrounding ASCII whitespace.
 */
export function pyInt(value: string, base: 8 | 10 = 10): bigint {
  // %.200R: only the first 200 characters of the repr are ever shown.
  const invalid = () =>
    new ValueError(`invalid literal for int() with base ${base}: ${reprWith(value, false, 200)}`);
  const a = decimalAndSpaceToAscii(value);
  let i = skipAsciiSpace(a, 0);
  let negative = false;
  if (a[i] === '+') i++;
  else if (a[i] === '-') {
    negative = true;
    i++;
  }
  if (base === 8 && a[i] === '0' && (a[i + 1] === 'o' || a[i + 1] === 'O')) {
    i += 2;
    if (a[i] === '_') i++;
  }
  if (a[i] === '_') throw invalid();
  const first = i;
  let underscores = false;
  let prev = 0;
  for (; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c >= 48 && c < 48 + base) {
      // a digit
    } else if (c === 0x5f) {
      if (prev === 0x5f) throw invalid();
      underscores = true;
    } else break;
    prev = c;
  }
  if (prev === 0x5f) throw invalid();
  let digits = a.slice(first, i);
  if (underscores) digits = digits.replaceAll('_', '');
  if (base === 10 && digits.length > MAX_STR_DIGITS) {
    throw new ValueError(
      `Exceeds the limit (${MAX_STR_DIGITS} digits) for integer string conversion: ` +
        `value has ${digits.length} digits; use sys.set_int_max_str_digits() to increase the limit`,
    );
  }
  if (!digits) throw invalid();
  i = skipAsciiSpace(a, i);
  if (i < a.length) throw invalid();
  const n = base === 8 ? BigInt(`0o${digits}`) : BigInt(digits);
  return negative ? -n : n;
}

/**
 * datatypes.integer: int(). Numbers beyond 2**53 lose precision (Python's do
 * not): options kept as numbers read through bounded_integer() instead.
 */
export function integer(value: string | number): number {
  return typeof value === 'number' ? value : Number(pyInt(value));
}

/** int() kept exact: numprocs_start, which only names use (`a_9007199254740993`). */
export function big_integer(value: string | number): bigint {
  return typeof value === 'number' ? BigInt(value) : pyInt(value);
}

/** The largest integer a JS number holds exactly (2**53 - 1). */
export const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
export const INT32_MIN = -(2n ** 31n);
export const INT32_MAX = 2n ** 31n - 1n;

/** datatypes.RangeCheckedConversion's test and messages, on the exact value. */
export function range_checked(v: bigint, min: bigint, max: bigint): bigint {
  if (v < min) throw new ValueError(`${v} is below lower bound (${min})`);
  if (v > max) throw new ValueError(`${v} is above upper bound (${max})`);
  return v;
}

/**
 * integer() for an option kept in a JS number: a count, a limit, seconds, a
 * priority. Python's int has no bound, a double is exact to 2**53 only: past
 * it a numprocs loop never ends and a limit reaches setrlimit wrapped. So a
 * value outside ±(2**53 - 1), or outside [min, max] where the value's consumer
 * is narrower (backups: a C int), is refused, in RangeCheckedConversion's
 * words. Python reads such values, then hangs or dies with a traceback later.
 */
export function bounded_integer(value: string | number, min = -MAX_EXACT, max = MAX_EXACT): number {
  if (typeof value === 'number') return value;
  return Number(range_checked(pyInt(value), min, max));
}

/** A *_backups option: the rotation loop counts in a C int (a larger value would wrap, not keep more). */
export function backups_integer(value: string | number): number {
  return bounded_integer(value, INT32_MIN, INT32_MAX);
}

const TRUTHY_STRINGS = ['yes', 'true', 'on', '1'];
const FALSY_STRINGS = ['no', 'false', 'off', '0'];

function pyStr(value: string | boolean): string {
  if (typeof value === 'string') return value;
  return value ? 'True' : 'False';
}

/** datatypes.boolean. Not stripped: ConfigParser already stripped the value. */
export function boolean(s: string | boolean): boolean {
  const ss = pyStr(s).toLowerCase();
  if (TRUTHY_STRINGS.includes(ss)) return true;
  if (FALSY_STRINGS.includes(ss)) return false;
  throw new ValueError(`not a valid boolean value: ${typeof s === 'string' ? pyRepr(s) : pyStr(s)}`);
}

/** datatypes.list_of_strings: comma-separated, each stripped; '' is []. */
export function list_of_strings(arg: string): string[] {
  if (!arg) return [];
  return arg.split(',').map(pyStrip);
}

/** datatypes.list_of_exitcodes. `exitcodes=` (empty) is [], so no exit is "expected". */
export function list_of_exitcodes(arg: string): number[] {
  try {
    if (!arg) return [];
    const vals = arg.split(',').map((x) => Number(pyInt(x)));
    for (const val of vals) if (val > 255 || val < 0) throw new ValueError(`Invalid exit code "${val}"`);
    return vals;
  } catch {
    throw new ValueError(`not a valid list of exit codes: ${pyRepr(arg)}`);
  }
}

const KEY_VALUE_WORDCHARS = new Set(
  'abcdfeghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_' + '/.+-():',
);

// shlex.shlex(s) in its default non-POSIX mode, as dict_of_key_value_pairs
// iterates it: quotes stay in the token and end it, `#` swallows the rest of
// the line (without ending a word), any other punctuation is a token of its own.
function shlexNonPosix(s: string): string[] {
  const chars = Array.from(s);
  const tokens: string[] = [];
  let state: ' ' | 'a' | '"' | "'" = ' ';
  let token = '';
  let i = 0;
  const skipLine = () => {
    while (i < chars.length && chars[i++] !== '\n');
  };
  for (;;) {
    const c = i < chars.length ? chars[i++]! : '';
    if (state === ' ') {
      if (c === '') break;
      if (' \t\r\n'.includes(c)) continue;
      if (c === '#') skipLine();
      else if (KEY_VALUE_WORDCHARS.has(c)) {
        token = c;
        state = 'a';
      } else if (c === '"' || c === "'") {
        token = c;
        state = c;
      } else tokens.push(c);
    } else if (state === 'a') {
      if (c === '' || ' \t\r\n'.includes(c)) {
        tokens.push(token);
        token = '';
        if (c === '') break;
        state = ' ';
      } else if (c === '#') skipLine();
      else if (KEY_VALUE_WORDCHARS.has(c) || c === '"' || c === "'") token += c;
      else {
        tokens.push(token, c);
        token = '';
        state = ' ';
      }
    } else {
      if (c === '') throw new ValueError('No closing quotation');
      token += c;
      if (c === state) {
        tokens.push(token);
        token = '';
        state = ' ';
      }
    }
  }
  return tokens;
}

function stripQuotes(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === '"' || s[a] === "'")) a++;
  while (b > a && (s[b - 1] === '"' || s[b - 1] === "'")) b--;
  return s.slice(a, b);
}

/**
 * datatypes.dict_of_key_value_pairs, for `environment=`: `KEY=val,KEY2="v,al"`.
 * Every fourth token is the separator and is skipped unchecked, so `A=1;B=2`
 * passes and `A=1 B=2` fails; a bare `#` truncates the value.
 */
export function dict_of_key_value_pairs(arg: string): Record<string, string> {
  const tokens = shlexNonPosix(arg);
  const d: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < tokens.length; i += 4) {
    if (i + 3 > tokens.length || tokens[i + 1] !== '=') {
      throw new ValueError(`Unexpected end of key/value pairs in value '${arg}'`);
    }
    d[tokens[i]!] = stripQuotes(tokens[i + 2]!);
  }
  return d;
}

/** datatypes.logfile_name, in the shape of model.ts LogfileSetting plus the deprecated `syslog`. */
export type LogfileName = { kind: 'path'; path: string } | { kind: 'auto' } | { kind: 'none' } | { kind: 'syslog' };

export function logfile_name(val: string): LogfileName {
  const coerced = val.toLowerCase();
  if (coerced === 'none' || coerced === 'off') return { kind: 'none' };
  if (coerced === 'auto') return { kind: 'auto' };
  if (coerced === 'syslog') return { kind: 'syslog' };
  return { kind: 'path', path: existing_dirpath(val) };
}

// pwd.getpwnam() for `~name`: Node has no getpwnam, so /etc/passwd is read;
// users known only to NSS (LDAP, sssd) are not found, and the path then stays
// as written, as Python does for an unknown user.
function passwdHome(name: string): string | undefined {
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && f[0] === name) return f[5];
  }
  return undefined;
}

/** posixpath.expanduser. */
export function expanduser(path: string): string {
  if (!path.startsWith('~')) return path;
  let i = path.indexOf('/', 1);
  if (i < 0) i = path.length;
  let userhome: string | undefined;
  if (i === 1) userhome = process.env['HOME'] ?? homedir();
  else userhome = passwdHome(path.slice(1, i));
  if (userhome === undefined) return path;
  return userhome.replace(/\/+$/, '') + path.slice(i) || '/';
}

/** posixpath.dirname. */
export function dirname(p: string): string {
  const i = p.lastIndexOf('/') + 1;
  let head = p.slice(0, i);
  if (head && head !== '/'.repeat(head.length)) head = head.replace(/\/+$/, '');
  return head;
}

function isdir(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false; // os.path.isdir swallows every OSError and embedded NULs
  }
}

/** datatypes.existing_dirpath: only the parent must exist; a bare file name passes (relative to the CWD). */
export function existing_dirpath(v: string): string {
  const nv = expanduser(v);
  const dir = dirname(nv);
  if (!dir || isdir(dir)) return nv;
  throw new ValueError(`The directory named as part of the path ${v} does not exist`);
}

/** datatypes.existing_directory (childlogdir, [supervisord] directory). */
export function existing_directory(v: string): string {
  const nv = expanduser(v);
  if (isdir(nv)) return nv;
  throw new ValueError(`${v} is not an existing directory`);
}

/** datatypes.octal_type (umask, chmod, socket_mode): int(x, 8), so `0o22` and `2_2` pass too. */
export function octal_type(arg: string): number {
  try {
    return Number(pyInt(arg, 8));
  } catch {
    throw new ValueError(`${arg} can not be converted to an octal type`);
  }
}

/**
 * octal_type for a value that becomes a umask or a file mode. Python passes
 * any C int to os.umask()/os.chmod() and the kernel keeps the permission bits;
 * Node's umask()/chmod() and the spawn's C int take 0 to 2**31 - 1 only and
 * would throw (or silently skip the umask) on the rest. Those values get
 * octal_type's own message (options.py then says "Invalid chmod value ...").
 */
export function octal_mode(arg: string): number {
  const v = octal_type(arg);
  if (v < 0 || v > 0x7fffffff) throw new ValueError(`${arg} can not be converted to an octal type`);
  return v;
}

// SuffixMultiplier: all suffixes are two characters; the match is on the
// lower-cased value, so int()'s error shows the lower-cased, suffix-less rest.
const BYTE_SUFFIXES: Array<[string, bigint]> = [
  ['kb', 1024n],
  ['mb', 1024n * 1024n],
  ['gb', 1024n * 1024n * 1024n],
];

function byteSizeExact(v: string): bigint {
  const lower = v.toLowerCase();
  for (const [suffix, m] of BYTE_SUFFIXES) {
    if (lower.endsWith(suffix)) return pyInt(lower.slice(0, -2)) * m;
  }
  return pyInt(lower);
}

/** datatypes.byte_size: `10MB`, `1kb`, `0`, `-1GB` (negative passes). */
export function byte_size(v: string): number {
  return Number(byteSizeExact(v));
}

/** byte_size for the *maxbytes options, bounded as bounded_integer() is. */
export function bounded_byte_size(v: string): number {
  return Number(range_checked(byteSizeExact(v), -MAX_EXACT, MAX_EXACT));
}

/** datatypes.port_number: RangeCheckedConversion(integer, 1, 0xffff). */
export function port_number(value: string): number {
  return Number(range_checked(pyInt(value), 1n, 0xffffn));
}

/**
 * datatypes.inet_address: `port`, `host:port`, `*:port`. The host is
 * lower-cased; '' and '*' mean all interfaces. `[::1]:9001` keeps the brackets.
 */
export function inet_address(s: string): { host: string; port: number } {
  let host = '';
  let port: number;
  const colon = s.lastIndexOf(':');
  if (colon >= 0) {
    const rest = s.slice(colon + 1);
    // Python formats the already-emptied remainder, so this always reads ''.
    if (!rest) throw new ValueError(`no port number specified in ${pyRepr(rest)}`);
    port = port_number(rest);
    host = s.slice(0, colon).toLowerCase();
  } else {
    try {
      port = port_number(s);
    } catch {
      throw new ValueError(`not a valid port number: ${pyRepr(s)} `);
    }
  }
  if (!host || host === '*') host = '';
  return { host, port };
}

const SCHEME_CHARS = /^[A-Za-z0-9+\-.]*$/;
const USES_PARAMS = ['', 'ftp', 'hdl', 'prospero', 'http', 'imap', 'https', 'shttp', 'rtsp', 'rtspu', 'sip', 'sips',
  'mms', 'sftp', 'tel'];

// urllib.parse._check_bracketed_host; node:net stands in for ipaddress.
function checkBracketedHost(hostname: string): void {
  if (hostname.startsWith('v')) {
    if (!/^v[a-fA-F0-9]+\.[^\n]+$/.test(hostname)) throw new ValueError('IPvFuture address is invalid');
    return;
  }
  const family = isIP(hostname);
  if (family === 0) throw new ValueError(`${pyRepr(hostname)} does not appear to be an IPv4 or IPv6 address`);
  if (family === 4) throw new ValueError('An IPv4 address cannot be in brackets');
}

function checkNetloc(netloc: string): void {
  if (!netloc || /^[\x00-\x7f]*$/.test(netloc)) return;
  const n = netloc.replace(/[@:#?]/g, '');
  const n2 = n.normalize('NFKC');
  if (n === n2) return;
  for (const c of '/?#@:') {
    if (n2.includes(c)) {
      throw new ValueError(`netloc '${netloc}' contains invalid characters under NFKC normalization`);
    }
  }
}

/** urllib.parse.urlparse(), the parts datatypes.url looks at. */
function urlparse(value: string): { scheme: string; netloc: string; path: string } {
  let url = value.replace(/^[\x00-\x20]+/, '').replace(/[\t\r\n]/g, '');
  let scheme = '';
  let netloc = '';
  const i = url.indexOf(':');
  if (i > 0 && /^[A-Za-z]/.test(url) && SCHEME_CHARS.test(url.slice(0, i))) {
    scheme = url.slice(0, i).toLowerCase();
    url = url.slice(i + 1);
  }
  if (url.startsWith('//')) {
    let delim = url.length;
    for (const c of '/?#') {
      const w = url.indexOf(c, 2);
      if (w >= 0) delim = Math.min(delim, w);
    }
    netloc = url.slice(2, delim);
    url = url.slice(delim);
    if (netloc.includes('[') !== netloc.includes(']')) throw new ValueError('Invalid IPv6 URL');
    if (netloc.includes('[')) {
      const hostAndPort = netloc.slice(netloc.lastIndexOf('@') + 1);
      const open = hostAndPort.indexOf('[');
      if (open >= 0) {
        if (open > 0) throw new ValueError('Invalid IPv6 URL');
        const close = hostAndPort.indexOf(']');
        const hostname = close < 0 ? hostAndPort.slice(1) : hostAndPort.slice(1, close);
        const port = close < 0 ? '' : hostAndPort.slice(close + 1);
        if (port && !port.startsWith(':')) throw new ValueError('Invalid IPv6 URL');
        checkBracketedHost(hostname);
      } else {
        const colon = hostAndPort.indexOf(':');
        checkBracketedHost(colon < 0 ? hostAndPort : hostAndPort.slice(0, colon));
      }
    }
  }
  const hash = url.indexOf('#');
  if (hash >= 0) url = url.slice(0, hash);
  const q = url.indexOf('?');
  if (q >= 0) url = url.slice(0, q);
  checkNetloc(netloc);
  if (USES_PARAMS.includes(scheme) && url.includes(';')) {
    const semi = url.includes('/') ? url.indexOf(';', url.lastIndexOf('/')) : url.indexOf(';');
    if (semi >= 0) url = url.slice(0, semi);
  }
  return { scheme, netloc, path: url };
}

/** datatypes.url (supervisorctl -s): a scheme plus a netloc or a path. */
export function url(value: string): string {
  const { scheme, netloc, path } = urlparse(value);
  if (scheme && (netloc || path)) return value;
  throw new ValueError(`value ${pyRepr(value)} is not a URL`);
}

// The SIG* attributes of Python's signal module: every signal name Node knows
// plus those only Python has. SIG_DFL, SIG_IGN and the sigprocmask constants
// start with SIG too, so `stopsignal=_IGN` is 1 (SIGHUP) and 0 and 2 are valid.
const SIGNALS: Record<string, number> = (() => {
  const t: Record<string, number> = { ...constants.signals, SIG_DFL: 0, SIG_IGN: 1 };
  if (process.platform === 'linux') {
    // glibc's SIGRTMIN is 34 at run time (two are kept for NPTL), which is what Python reports.
    Object.assign(t, { SIGCLD: t['SIGCHLD']!, SIGRTMIN: 34, SIGRTMAX: 64 });
    Object.assign(t, { SIG_BLOCK: 0, SIG_UNBLOCK: 1, SIG_SETMASK: 2 });
    delete t['SIGUNUSED'];
  } else {
    Object.assign(t, { SIG_BLOCK: 1, SIG_UNBLOCK: 2, SIG_SETMASK: 3 });
  }
  return t;
})();
const SIGNUMS = new Set(Object.values(SIGNALS));

/**
 * datatypes.signal_number: `TERM`, `sigterm`, `SIGTERM`, `15`. A number must
 * be the value of some SIG* constant, so on Linux 32, 33 and 35-63 fail.
 */
export function signal_number(value: string | number): number {
  let num: number | undefined;
  if (typeof value === 'number') num = value;
  // int() needs a decimal digit: skip the throw (costly in bulk) for names.
  else if (/\p{Nd}/u.test(value)) {
    try {
      num = Number(pyInt(value));
    } catch {
      // not a number: a name, below
    }
  }
  if (num === undefined) {
    let name = pyStrip(String(value)).toUpperCase();
    if (!name.startsWith('SIG')) name = `SIG${name}`;
    num = Object.hasOwn(SIGNALS, name) ? SIGNALS[name] : undefined;
    if (num === undefined) throw new ValueError(`value ${pyRepr(String(value))} is not a valid signal name`);
  }
  if (!SIGNUMS.has(num)) {
    throw new ValueError(`value ${typeof value === 'string' ? pyRepr(value) : value} is not a valid signal number`);
  }
  return num;
}

/** datatypes.auto_restart, as model.ts AutoRestart. The error shows the value lower-cased. */
export function auto_restart(value: string): 'true' | 'false' | 'unexpected' {
  const v = value.toLowerCase();
  if (TRUTHY_STRINGS.includes(v)) return 'true';
  if (FALSY_STRINGS.includes(v)) return 'false';
  if (v === 'unexpected') return 'unexpected';
  throw new ValueError(`invalid 'autorestart' value ${pyRepr(v)}`);
}

// supervisor/loggers.py LevelsByDescription: `warning` is not there.
const LOG_LEVELS: Record<string, number> = {
  critical: 50,
  error: 40,
  warn: 30,
  info: 20,
  debug: 10,
  trace: 5,
  blather: 3,
};

/** datatypes.logging_level ([supervisord] loglevel). */
export function logging_level(value: string): number {
  const s = value.toLowerCase();
  if (!Object.hasOwn(LOG_LEVELS, s)) throw new ValueError(`bad logging level name ${pyRepr(value)}`);
  return LOG_LEVELS[s]!;
}

/** datatypes.process_or_group_name: stripped; no space, `:` or `/` (they break listener headers and URLs). */
export function process_or_group_name(name: string): string {
  const s = pyStrip(name);
  for (const character of ' :/') {
    if (s.includes(character)) {
      throw new ValueError(`Invalid name: ${pyRepr(name)} because of character: ${pyRepr(character)}`);
    }
  }
  return s;
}

/**
 * http.py encrypted_dictionary_authorizer: a stored `{SHA}` password is the
 * lower-case hex SHA-1 of the password. The comparison is exact, so a stored
 * digest in upper case never matches.
 */
export function password_matches(stored: string, given: string): boolean {
  if (stored.startsWith('{SHA}')) return sameSecret(stored.slice(5), createHash('sha1').update(given, 'utf8').digest('hex'));
  return sameSecret(stored, given);
}

/**
 * a === b in a time that says nothing about where they differ, or how long either is:
 * both are hashed to 32 bytes first, then compared with timingSafeEqual (supervisord
 * compares with ==, which stops at the first differing character).
 */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}
