// SPDX-License-Identifier: MIT
// parseMethodResponseText: the reply as a Marshaller writes it is read by a fast path
// (supervisorctl status with thousands of processes); whatever it gives must be what the
// full parser gives, and whatever the full parser refuses must still be refused.
import { describe, expect, it } from 'vitest';

import {
  MAX_VALUES,
  parseMethodResponse,
  parseMethodResponseText,
  serializeFaultText,
  serializeResponseText,
  XmlRpcParseError,
  type MethodResponse,
  type XmlRpcValue,
} from '../../../src/rpc/codec.js';
import { lcg as rng, mutateXml } from '../../helpers/rng.js';

/** Both parsers on the same text: the same value, or the same error. */
function same(text: string): MethodResponse | XmlRpcParseError {
  let full: MethodResponse | XmlRpcParseError;
  try {
    full = parseMethodResponse(Buffer.from(text, 'utf8'));
  } catch (e) {
    if (!(e instanceof XmlRpcParseError)) throw e;
    full = e;
  }
  let fast: MethodResponse | XmlRpcParseError;
  try {
    fast = parseMethodResponseText(text);
  } catch (e) {
    if (!(e instanceof XmlRpcParseError)) throw e;
    fast = e;
  }
  if (full instanceof XmlRpcParseError) {
    expect(fast, text).toBeInstanceOf(XmlRpcParseError);
    expect((fast as XmlRpcParseError).message).toBe(full.message);
  } else {
    expect(fast, text).toStrictEqual(full);
  }
  return full;
}

const info = (i: number): XmlRpcValue => ({
  name: `w${i}`,
  group: `g & <${i}>`,
  start: 1796577198,
  stop: 0,
  state: 20,
  statename: 'RUNNING',
  spawnerr: '',
  exitstatus: -1,
  logfile: `/tmp/a\u00e9\u{1F600}/${i}.log`,
  pid: 6016 + i,
  ok: i % 2 === 0,
  description: `pid ${6016 + i}, uptime 0:04:43`,
});

describe('parseMethodResponseText', () => {
  it('reads a getAllProcessInfo reply as the full parser does', () => {
    const text = serializeResponseText(Array.from({ length: 50 }, (_, i) => info(i)));
    const r = same(text);
    expect(r).toMatchObject({ kind: 'params' });
  });

  it('gives what the full parser gives for other shapes: nested, empty, faults, doubles, dates, base64', () => {
    for (const v of [
      [],
      {},
      '',
      'plain',
      [[[1, 2], { a: [] }], { b: { c: 'd' } }],
      [1.5, new Date(0), Buffer.from('hi'), true, false],
      { __proto__x: 1, 'k&amp': 2 },
    ] as XmlRpcValue[]) {
      same(serializeResponseText(v));
    }
    same(serializeFaultText(10, 'BAD_NAME: x'));
    same("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>__proto__</name>\n<value><int>1</int></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n");
  });

  it('keeps the full parser\'s quirks: CRLF, a BOM, untyped values, entities, i4, whitespace in ints', () => {
    const base = serializeResponseText([info(1)]);
    same(base.replace(/\n/g, '\r\n'));
    same('\ufeff' + base);
    same(base.replace('<value><string>w1</string></value>', '<value>w1</value>'));
    same(base.replace('<int>20</int>', '<i4> 20 </i4>'));
    same(base.replace('<int>20</int>', '<int>2_0</int>'));
    same(base.replace('<int>20</int>', '<int>99999999999999999999</int>'));
    same(base.replace('>RUNNING<', '>RUN&#x4e;ING&bogus;<'));
    same(base.replace('>RUNNING<', '>RUN&#78;ING<'));
  });

  it('refuses what the full parser refuses, with its message (limits too)', () => {
    const text = serializeResponseText(Array.from({ length: 20 }, (_, i) => info(i)));
    expect(() => parseMethodResponseText(text, { maxValues: 100 })).toThrow(XmlRpcParseError);
    expect(() => parseMethodResponseText(text, { maxDepth: 1 })).toThrow(XmlRpcParseError);
    expect(() => parseMethodResponseText(text, { maxBytes: 1000 })).toThrow(XmlRpcParseError);
    expect(parseMethodResponseText(text, { maxValues: MAX_VALUES })).toMatchObject({ kind: 'params' });
    same(text.slice(0, -40));
    same(text + '<junk/>');
  });

  it('agrees with the full parser on thousands of mutated replies', () => {
    const base = Buffer.from(serializeResponseText([info(1), info(2)]));
    const r = rng(7);
    for (let i = 0; i < 3000; i++) {
      const out = mutateXml(base, r);
      same(out.toString('utf8'));
    }
  });
});
