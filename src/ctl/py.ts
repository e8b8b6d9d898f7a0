// SPDX-License-Identifier: MIT
// The bits of Python's str and cmd.Cmd that supervisorctl's output is made of:
// str.split()/strip(), %-Ns padding (by code points, as len() counts), sorting
// by code point, str() of XML-RPC values, and cmd.Cmd.columnize for `help`.
import { pyFloatRepr, type XmlRpcValue } from '../rpc/codec.js';
import { pyIsSpace, pyRepr, pyStrip } from '../config/datatypes.js';

export { pyRepr, pyStrip };

/** str.split() with no separator: runs of Unicode whitespace, no empty words. */
export function pySplit(s: string): string[] {
  const out: string[] = [];
  let word = '';
  for (const ch of s) {
    if (pyIsSpace(ch)) {
      if (word) out.push(word);
      word = '';
    } else {
      word += ch;
    }
  }
  if (word) out.push(word);
  return out;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** len() of a str: code points, not UTF-16 units. */
export function pyLen(s: string): number {
  // Without surrogates every UTF-16 unit is one code point.
  if (!SURROGATE.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** '%-Ns' % s. */
export function ljust(s: string, width: number): string {
  const pad = width - pyLen(s);
  return pad > 0 ? s + ' '.repeat(pad) : s;
}

/** Python compares str by code point; JS's default sort compares UTF-16 units. */
export function codePointCompare(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** str(value) of what xmlrpc.client hands back ('%s' in supervisorctl's templates). */
export function pyStr(v: XmlRpcValue | undefined): string {
  if (typeof v === 'string') return v;
  return pyReprValue(v);
}

/** repr() of an unmarshalled value, for the rare message that prints a whole struct or list. */
export function pyReprValue(v: XmlRpcValue | undefined): string {
  if (v === undefined || v === null) return 'None';
  if (typeof v === 'string') return pyRepr(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyReprValue).join(', ')}]`;
  if (Buffer.isBuffer(v)) return `<xmlrpc.client.Binary at 0x0>`;
  if (v instanceof Date) return `<DateTime '${v.toISOString()}' at 0x0>`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${pyRepr(k)}: ${pyReprValue(x)}`)
    .join(', ')}}`;
}

/** Python truthiness of an unmarshalled value. */
export function pyTruthy(v: XmlRpcValue | undefined): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.length > 0;
  if (Buffer.isBuffer(v)) return v.length > 0;
  if (v instanceof Date) return true;
  return Object.keys(v).length > 0;
}

/**
 * cmd.Cmd.columnize: the fewest rows whose columns, two spaces apart, fit in
 * `displaywidth`; each row is written with its trailing empty cells dropped.
 */
export function columnize(list: readonly string[], displaywidth = 80): string[] {
  if (list.length === 0) return ['<empty>'];
  const size = list.length;
  if (size === 1) return [list[0]!];
  let nrows = 0;
  let ncols = 1;
  let colwidths: number[] = [0];
  let fitted = false;
  for (nrows = 1; nrows < size; nrows++) {
    ncols = Math.ceil(size / nrows);
    colwidths = [];
    let totwidth = -2;
    for (let col = 0; col < ncols; col++) {
      let colwidth = 0;
      for (let row = 0; row < nrows; row++) {
        const i = row + nrows * col;
        if (i >= size) break;
        colwidth = Math.max(colwidth, pyLen(list[i]!));
      }
      colwidths.push(colwidth);
      totwidth += colwidth + 2;
      if (totwidth > displaywidth) break;
    }
    if (totwidth <= displaywidth) {
      fitted = true;
      break;
    }
  }
  if (!fitted) {
    nrows = size;
    ncols = 1;
    colwidths = [0];
  }
  const lines: string[] = [];
  for (let row = 0; row < nrows; row++) {
    const texts: string[] = [];
    for (let col = 0; col < ncols; col++) {
      const i = row + nrows * col;
      texts.push(i >= size ? '' : list[i]!);
    }
    while (texts.length && !texts[texts.length - 1]) texts.pop();
    lines.push(texts.map((t, col) => ljust(t, colwidths[col]!)).join('  '));
  }
  return lines;
}

/** options.py make_namespec: a process alone in its same-named group is just its name. */
export function makeNamespec(group: string, name: string): string {
  return group === name ? name : `${group}:${name}`;
}

/** options.py split_namespec: `g:*` and `g:` name the group (process undefined); `x` is `x:x`. */
export function splitNamespec(namespec: string): [group: string, process: string | undefined] {
  const at = namespec.indexOf(':');
  if (at < 0) return [namespec, namespec];
  const group = namespec.slice(0, at);
  const proc = namespec.slice(at + 1);
  return [group, !proc || proc === '*' ? undefined : proc];
}

/** urllib.parse.urlparse(url).scheme: letters, digits, + - . before the first ':', lower-cased. */
export function urlScheme(url: string): string {
  const s = url.replace(/^[\x00-\x20]+/, '').replace(/[\t\r\n]/g, '');
  const i = s.indexOf(':');
  if (i > 0 && /^[A-Za-z][A-Za-z0-9+\-.]*$/.test(s.slice(0, i))) return s.slice(0, i).toLowerCase();
  return '';
}
