// SPDX-License-Identifier: MIT
// The hostile inputs npm run fuzz sends, all from a seeded generator so every run
// sends the same bytes: mutated XML-RPC calls, deep nesting, bodies near the limit.
import { serializeMethodCall, type XmlRpcValue } from '../../src/rpc/codec.js';

export type Rand = () => number;

export function int(r: Rand, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** Valid calls the mutations start from: every kind of value, faults, multicall. */
const SEEDS: Buffer[] = [
  serializeMethodCall('supervisor.getState', []),
  serializeMethodCall('supervisor.getAllProcessInfo', []),
  serializeMethodCall('supervisor.getProcessInfo', ['p0']),
  serializeMethodCall('supervisor.readProcessStdoutLog', ['p0', 0, 100]),
  serializeMethodCall('supervisor.tailProcessStdoutLog', ['p1', -5, 2 ** 31 - 1]),
  serializeMethodCall('supervisor.sendProcessStdin', ['p2', 'h\u00e9llo &<>']),
  serializeMethodCall('system.methodHelp', ['supervisor.getState']),
  serializeMethodCall('system.multicall', [
    [
      { methodName: 'supervisor.getState', params: [] },
      { methodName: 'supervisor.getProcessInfo', params: ['nope'] },
      { methodName: 'system.listMethods', params: [] },
    ],
  ]),
  serializeMethodCall('supervisor.getProcessInfo', [
    { a: [1, 2.5, true, 'x', Buffer.from('bytes'), new Date(0)], b: { c: { d: [] } } } as XmlRpcValue,
  ]),
];

/** Pieces a mutation splices in: markup, entities, bad UTF-8, wide numbers. */
const SNIPPETS = [
  '<value>', '</value>', '<array><data>', '</data></array>', '<struct>', '</struct>', '<member>', '<name>',
  '<string>', '<int>', '<i8>99999999999999999999</i8>', '<double>nan</double>', '<boolean>2</boolean>',
  '<base64>!!!!</base64>', '<dateTime.iso8601>20260230T25:61:61</dateTime.iso8601>', '<nil/>', '<ex:nil/>',
  '&amp;', '&#x10FFFF;', '&#xD800;', '&bogus;', '&', '<!DOCTYPE x [<!ENTITY a "aaaa">]>', '<![CDATA[', ']]>',
  '<?pi x?>', '<!--', '-->', '\x00', '\xff\xfe', '\u00e9', '\r\n', '<methodCall>', '</methodCall>',
  '<methodName></methodName>', '<params>', '<param>', 'a="b"', '/>',
].map((s) => Buffer.from(s, s.startsWith('\xff') ? 'latin1' : 'utf8'));

/** One mutated body: a seed call with 1 to 8 random edits; a few grow by repetition. */
export function mutatedBody(r: Rand): Buffer {
  let b = pick(r, SEEDS);
  const edits = int(r, 1, 8);
  for (let i = 0; i < edits; i++) {
    const at = int(r, 0, b.length);
    switch (int(r, 0, 6)) {
      case 0: {
        // flip a byte
        if (!b.length) break;
        const c = Buffer.from(b);
        c[Math.min(at, c.length - 1)] = int(r, 0, 255);
        b = c;
        break;
      }
      case 1:
        b = Buffer.concat([b.subarray(0, at), pick(r, SNIPPETS), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + int(r, 1, 40)))]);
        break;
      case 3: {
        const end = Math.min(b.length, at + int(r, 1, 60));
        b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
        break;
      }
      case 4:
        b = b.subarray(0, at);
        break;
      case 5: {
        // a piece repeated up to a few thousand times (wide arrays, long strings)
        const end = Math.min(b.length, at + int(r, 1, 80));
        const piece = b.subarray(at, end);
        const times = int(r, 1, 4000);
        b = Buffer.concat([b.subarray(0, end), Buffer.alloc(piece.length * times, piece), b.subarray(end)]);
        break;
      }
      default:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([int(r, 0, 255), int(r, 0, 255)]), b.subarray(at)]);
    }
  }
  return b;
}

/** Arrays (or structs) nested `depth` deep, closed properly: refused at MAX_DEPTH. */
export function nestedBody(depth: number, kind: 'array' | 'struct'): Buffer {
  const open = kind === 'array' ? '<value><array><data>' : '<value><struct><member><name>k</name>';
  const close = kind === 'array' ? '</data></array></value>' : '</member></struct></value>';
  return Buffer.from(
    `<?xml version='1.0'?><methodCall><methodName>supervisor.getProcessInfo</methodName><params><param>` +
      `${open.repeat(depth)}<value><int>1</int></value>${close.repeat(depth)}</param></params></methodCall>`,
  );
}

/** Nesting that never closes (a parser that recursed first and checked later would overflow). */
export function unclosedNesting(bytes: number): Buffer {
  const head = `<?xml version='1.0'?><methodCall><methodName>x.y</methodName><params><param>`;
  const unit = '<value><array><data>';
  return Buffer.from(head + unit.repeat(Math.floor((bytes - head.length) / unit.length)));
}

/** A flat array of `n` empty values: past MAX_VALUES when n is large. */
export function wideBody(n: number): Buffer {
  return Buffer.from(
    `<?xml version='1.0'?><methodCall><methodName>supervisor.getProcessInfo</methodName><params><param>` +
      `<value><array><data>${'<value/>'.repeat(n)}</data></array></value></param></params></methodCall>`,
  );
}

/**
 * A valid call of about `bytes` bytes, one of four shapes: a long name (BAD_NAME names
 * it back), a long string to a method that takes none, a multicall of many getState
 * calls (a big reply), a long array of ints.
 */
export function nearLimitBody(bytes: number, shape: number): Buffer {
  const frame = (method: string, param: string): Buffer =>
    Buffer.from(`<?xml version='1.0'?><methodCall><methodName>${method}</methodName><params><param>${param}</param></params></methodCall>`);
  const fill = (unit: string, overhead: number): string => unit.repeat(Math.max(0, Math.floor((bytes - overhead) / Buffer.byteLength(unit))));
  switch (shape % 4) {
    case 0:
      return frame('supervisor.getProcessInfo', `<value><string>${fill('n', 200)}</string></value>`);
    case 1:
      return frame('supervisor.getState', `<value><string>${fill('\u00e9', 200)}</string></value>`);
    case 2: {
      const call = '<value><struct><member><name>methodName</name><value><string>supervisor.getState</string></value></member></struct></value>';
      return frame('system.multicall', `<value><array><data>${fill(call, 300)}</data></array></value>`);
    }
    default:
      return frame('supervisor.getProcessInfo', `<value><array><data>${fill('<value><int>7</int></value>', 300)}</data></array></value>`);
  }
}
