// SPDX-License-Identifier: MIT
// A config file's bytes -> text, as supervisord's open(path, 'r') gives them to
// ConfigParser: strict UTF-8 (Debian's Python runs in a UTF-8 locale, and in
// the C locale it coerces to UTF-8), a BOM kept as U+FEFF, and on a bad byte
// the UnicodeDecodeError supervisord prints, position included.
import { ValueError } from './datatypes.js';

/** Python's UnicodeDecodeError is a ValueError, so options.py prints it as a usage error. */
export class UnicodeDecodeError extends ValueError {
  override name = 'UnicodeDecodeError';
}

// TextIOWrapper._CHUNK_SIZE: a file is decoded 8192 bytes at a time, and the
// position in the error counts from the start of the decoder's input (the
// chunk, plus the bytes of a character split across the previous boundary).
const CHUNK = 8192;

interface DecodeFault {
  /** offsets into the decoder input */
  start: number;
  end: number;
  reason: string;
}

function isCont(b: number | undefined): boolean {
  return b !== undefined && b >= 0x80 && b <= 0xbf;
}

/**
 * CPython's UTF-8 decoder on one input: the first fault, or the count of
 * bytes at the end that begin a character the next input may complete.
 */
function scan(buf: Uint8Array, from: number, to: number, final: boolean): DecodeFault | { pending: number } {
  let i = from;
  while (i < to) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return { start: i - from, end: i - from + 1, reason: 'invalid start byte' };
    // The second byte has the lead byte's own range; later ones are plain continuations.
    let k = 1;
    for (; k <= need && i + k < to; k++) {
      const c = buf[i + k]!;
      const ok = k === 1 ? c >= lo && c <= hi : isCont(c);
      if (!ok) return { start: i - from, end: i - from + k, reason: 'invalid continuation byte' };
    }
    if (k <= need) {
      if (!final) return { pending: to - i };
      return { start: i - from, end: to - from, reason: 'unexpected end of data' };
    }
    i += need + 1;
  }
  return { pending: 0 };
}

function message(input: Uint8Array, fault: DecodeFault): string {
  if (fault.end - fault.start === 1) {
    const byte = input[fault.start]!.toString(16).padStart(2, '0');
    return `'utf-8' codec can't decode byte 0x${byte} in position ${fault.start}: ${fault.reason}`;
  }
  return `'utf-8' codec can't decode bytes in position ${fault.start}-${fault.end - 1}: ${fault.reason}`;
}

export interface DecodeFailure {
  error: UnicodeDecodeError;
  /**
   * The text decoded before the failing input. ConfigParser has already
   * parsed the complete lines in it when the error comes, so a missing
   * section header there is reported instead (see include.ts).
   */
  before: string;
}

/** Decodes like Python's text-mode read loop; a failure says what was read before it. */
export function decodeConfigText(buf: Uint8Array): { text: string } | DecodeFailure {
  let pos = 0;
  let pending = 0;
  const fail = (inputStart: number, end: number, fault: DecodeFault): DecodeFailure => ({
    error: new UnicodeDecodeError(message(buf.subarray(inputStart, end), fault)),
    before: Buffer.from(buf.subarray(0, inputStart)).toString('utf8'),
  });
  while (pos < buf.length) {
    const end = Math.min(pos + CHUNK, buf.length);
    const r = scan(buf, pos - pending, end, false);
    if ('reason' in r) return fail(pos - pending, end, r);
    pending = r.pending;
    pos = end;
  }
  // At EOF the decoder is called once more with final=True on what it holds.
  if (pending > 0) {
    const r = scan(buf, buf.length - pending, buf.length, true);
    if ('reason' in r) return fail(buf.length - pending, buf.length, r);
  }
  return { text: Buffer.from(buf).toString('utf8') };
}
