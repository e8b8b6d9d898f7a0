// SPDX-License-Identifier: MIT
// A body handed over in the pieces it arrived in reads exactly as the same bytes in one
// buffer, wherever the cuts fall (inside a character, inside the BOM); and a reply cut into
// pieces for writing is the same UTF-8 as the whole.
import { describe, expect, it } from 'vitest';

import { utf8Pieces } from '../../../src/http/reply.js';
import {
  MAX_DEPTH,
  parseMethodCall,
  serializeMethodCall,
  serializeResponse,
  serializeResponseText,
  XmlRpcParseError,
  type MethodCall,
} from '../../../src/rpc/codec.js';
import { rng } from '../../helpers/rng.js';

function parse(body: Buffer | Buffer[]): MethodCall | string {
  try {
    return parseMethodCall(body);
  } catch (err) {
    if (err instanceof XmlRpcParseError) return err.reason;
    throw err;
  }
}

/** `b` cut at the given offsets. */
function cut(b: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const i of [...at, b.length]) {
    out.push(b.subarray(from, i));
    from = i;
  }
  return out;
}

// Two-, three- and four-byte characters, and a string that is nothing but them.
const TEXT = 'h\u00e9llo \u20ac \ud83d\ude00 \u4e2d\u6587 \u00ff\u0100';
const CALL = serializeMethodCall('supervisor.getProcessInfo', [TEXT, { k: [TEXT, 1, true] }]);

describe('a body in pieces', () => {
  it('reads the same wherever one cut falls', () => {
    const whole = parse(CALL);
    expect(whole).toEqual({ methodName: 'supervisor.getProcessInfo', params: [TEXT, { k: [TEXT, 1, true] }] });
    for (let i = 0; i <= CALL.length; i++) expect(parse(cut(CALL, [i]))).toEqual(whole);
  });

  it('reads the same cut into one-byte pieces and at random places', () => {
    const whole = parse(CALL);
    expect(parse(cut(CALL, Array.from({ length: CALL.length - 1 }, (_, i) => i + 1)))).toEqual(whole);
    const r = rng(7);
    for (let n = 0; n < 200; n++) {
      const at = Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * CALL.length)).sort((a, b) => a - b);
      expect(parse(cut(CALL, at))).toEqual(whole);
    }
  });

  it('drops a BOM at the start only, however it is cut', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), CALL]);
    for (const at of [[1], [2], [3], [1, 2], [0, 1, 2, 3]]) expect(parse(cut(bom, at))).toEqual(parse(CALL));
    // A BOM that is not at the start is a character of the text (U+FEFF), in one piece or two.
    const inner = serializeMethodCall('a.b', ['x\ufeffy']);
    const i = inner.indexOf(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(parse(cut(inner, [i]))).toEqual({ methodName: 'a.b', params: ['x\ufeffy'] });
    expect(parse(cut(inner, [i + 1]))).toEqual({ methodName: 'a.b', params: ['x\ufeffy'] });
  });

  it('refuses bytes that are not UTF-8 whether or not a cut splits them', () => {
    const at = CALL.indexOf('h\u00e9llo');
    for (const bad of [[0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80]]) {
      const body = Buffer.concat([CALL.subarray(0, at), Buffer.from(bad), Buffer.from('x'), CALL.subarray(at)]);
      expect(parse(body)).toBe('invalid_utf8');
      for (let i = at - 1; i <= at + bad.length + 1; i++) expect(parse(cut(body, [i]))).toBe('invalid_utf8');
    }
    // A body that ends in the middle of a character.
    expect(parse(cut(Buffer.concat([CALL, Buffer.from([0xe2, 0x82])]), [CALL.length]))).toBe('invalid_utf8');
  });

  it('keeps the limits: the size of all the pieces, and nesting', () => {
    const big = Buffer.alloc(1024, 0x20);
    expect(parse([CALL, ...Array.from({ length: 2048 }, () => big)])).toBe('too_large');
    const deep = Buffer.from(
      `<methodCall><methodName>a.b</methodName><params><param>${'<value><array><data>'.repeat(MAX_DEPTH + 1)}`,
    );
    expect(parse(cut(deep, [10, 100]))).toBe('too_deep');
  });
});

describe('a reply in pieces', () => {
  it('is the whole reply as UTF-8, no pair of surrogates split, no piece over 48 KiB', () => {
    for (const pad of [0, 1, 2, 3, 16_383, 16_384, 16_385]) {
      const value = ['a'.repeat(pad) + '\ud83d\ude00'.repeat(40_000), '\u20ac'.repeat(20_000)];
      const text = serializeResponseText(value);
      const pieces = utf8Pieces(text);
      expect(Buffer.concat(pieces).equals(serializeResponse(value))).toBe(true);
      expect(pieces.length).toBeGreaterThan(1);
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(48 * 1024);
    }
    expect(utf8Pieces('<short/>')).toEqual([Buffer.from('<short/>')]);
  });
});
