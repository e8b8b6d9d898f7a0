// SPDX-License-Identifier: MIT
// escapeText's fast path (one test, then nothing to do) must decide exactly as
// the two replaces it skips: every BMP code unit alone and inside text, lone and
// paired surrogates, and the serialised reply of a struct built from them.
import { describe, expect, it } from 'vitest';

import { escapeText, parseMethodResponse, serializeResponse } from '../../../src/rpc/codec.js';

// The reference: what escapeText did before the fast path.
const XML_ILLEGAL =
  /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const reference = (s: string): string => s.replace(XML_ILLEGAL, '\uFFFD').replace(/[&<>\r]/g, (c) => ESCAPES[c]!);

describe('escapeText', () => {
  it('matches the two-replace reference for every UTF-16 code unit, alone and in text', () => {
    const wrong: string[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      for (const s of [ch, `a${ch}b`, `${ch}${ch}`]) if (escapeText(s) !== reference(s)) wrong.push(c.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it('keeps surrogate pairs and replaces lone halves', () => {
    for (const s of ['😀', 'x😀y', '\uD83D', '\uDE00', '\uDE00\uD83D', 'a\uD83Db', '😀\uD83D']) expect(escapeText(s)).toBe(reference(s));
    expect(escapeText('x😀y')).toBe('x😀y');
  });

  it('returns plain text as it is', () => {
    const s = '/var/log/app-stdout---supervisor-abcd1234.log pid 42, uptime 1 day, 0:00:01\t\n';
    expect(escapeText(s)).toBe(s);
  });

  it('a reply of such strings, in values and keys, reads back with only XML-illegal characters replaced', () => {
    const strings = ['plain', 'a & b < c > d\r\n', '\x1b[31mred\x1b[0m', 'é😀', '\uD800'];
    const legal = (s: string): string => s.replace(XML_ILLEGAL, '\uFFFD');
    const body = serializeResponse([Object.fromEntries(strings.map((s) => [s, s])), ...strings]);
    expect(parseMethodResponse(body)).toEqual({
      kind: 'params',
      params: [[Object.fromEntries(strings.map((s) => [legal(s), legal(s)])), ...strings.map(legal)]],
    });
  });
});
