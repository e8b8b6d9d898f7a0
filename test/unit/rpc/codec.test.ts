// SPDX-License-Identifier: MIT
// The XML-RPC codec against Python: xmlrpc.client (dumps/loads, the SupervisorTransport read
// path) and supervisord's own xmlrpc_marshal and request loads(); then hostile input.
import { describe, expect, it } from 'vitest';

import {
  cappedInt,
  escapeText,
  MAX_BODY_BYTES,
  MAX_DEPTH,
  MAX_VALUES,
  MAXINT,
  MININT,
  parseMethodCall,
  parseMethodResponse,
  pyFloatRepr,
  serializeFault,
  serializeMethodCall,
  serializeResponse,
  XmlRpcParseError,
  type ParseErrorReason,
  type XmlRpcValue,
  XmlRpcSerializeError,
} from '../../../src/rpc/codec.js';
import { python } from '../../helpers/python.js';
import { mutateXml } from '../../helpers/rng.js';

// Values cross the JSON pipe tagged where JSON is ambiguous: Python floats, bytes, datetimes.
type Tagged = null | boolean | number | string | Tagged[] | { [k: string]: Tagged };

const PRELUDE = `import base64, datetime, json, sys
import xmlrpc.client as x
def dec(j):
    if isinstance(j, dict):
        if "$float" in j: return float(j["$float"])
        if "$bytes" in j: return base64.b64decode(j["$bytes"])
        if "$dt" in j: return datetime.datetime.strptime(j["$dt"], "%Y%m%dT%H:%M:%S")
        return {k: dec(v) for k, v in j.items()}
    if isinstance(j, list): return [dec(v) for v in j]
    return j
def enc(v):
    if isinstance(v, float): return {"$float": repr(v)}
    if isinstance(v, (bytes, bytearray)): return {"$bytes": base64.b64encode(v).decode()}
    if isinstance(v, x.Binary): return {"$bytes": base64.b64encode(v.data).decode()}
    if isinstance(v, datetime.datetime):
        return {"$dt": "%04d%02d%02dT%02d:%02d:%02d" % v.timetuple()[:6]}
    if isinstance(v, x.DateTime): return {"$dt": v.value}
    if isinstance(v, dict): return {k: enc(w) for k, w in v.items()}
    if isinstance(v, (list, tuple)): return [enc(w) for w in v]
    return v
def body(b64): return base64.b64decode(b64)
def attempt(f):
    try: return {"ok": f()}
    except x.Fault as e: return {"fault": [e.faultCode, e.faultString]}
    except Exception as e: return {"err": type(e).__name__ + ": " + str(e)}
d = json.load(sys.stdin)
`;

function toTagged(v: XmlRpcValue): Tagged {
  if (typeof v === 'number') return Number.isInteger(v) ? v : { $float: pyFloatRepr(v) };
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Buffer.isBuffer(v)) return { $bytes: v.toString('base64') };
  if (v instanceof Date) return { $dt: v.toISOString().slice(0, 19).replace(/[-]/g, '') };
  if (Array.isArray(v)) return v.map(toTagged);
  return Object.fromEntries(Object.entries(v).map(([k, w]) => [k, toTagged(w)]));
}

function fromTagged(j: Tagged): XmlRpcValue {
  if (Array.isArray(j)) return j.map(fromTagged);
  if (j === null || typeof j !== 'object') return j;
  if (typeof j.$float === 'string') {
    const f = j.$float;
    return f === 'nan' ? NaN : f === 'inf' ? Infinity : f === '-inf' ? -Infinity : Number(f);
  }
  if (typeof j.$bytes === 'string') return Buffer.from(j.$bytes, 'base64');
  if (typeof j.$dt === 'string') return parseDt(j.$dt);
  return Object.fromEntries(Object.entries(j).map(([k, w]) => [k, fromTagged(w)]));
}

function parseDt(s: string): Date {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d):(\d\d):(\d\d)$/.exec(s)!;
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]));
  return d;
}

const b64 = (b: Buffer): string => b.toString('base64');
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

function parseError(f: () => unknown): XmlRpcParseError {
  try {
    f();
  } catch (e) {
    if (e instanceof XmlRpcParseError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

function expectReason(f: () => unknown, reason: ParseErrorReason): void {
  expect(parseError(f).reason).toBe(reason);
}

// Deterministic pseudo-random numbers (mulberry32), so a failing fuzz case can be replayed.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function timed<T>(f: () => T): { ms: number; result: T | XmlRpcParseError } {
  const t0 = performance.now();
  let result: T | XmlRpcParseError;
  try {
    result = f();
  } catch (e) {
    if (!(e instanceof XmlRpcParseError)) throw e;
    result = e;
  }
  return { ms: performance.now() - t0, result };
}

// Values every layer agrees on: what the daemon sends, plus the awkward corners.
const VALUES: XmlRpcValue[] = [
  0,
  -1,
  MAXINT,
  MININT,
  'plain',
  '',
  ' leading and trailing ',
  'unicode: é ü 漢字 😀 \u{10FFFF}',
  'markup <b>&amp;</b> "quotes" \'apos\' ]]>',
  'tab\tnewline\n',
  true,
  false,
  1.5,
  -0.1,
  1e-7,
  3.141592653589793,
  Buffer.from(''),
  Buffer.from('hello'),
  Buffer.from(Array.from({ length: 200 }, (_, i) => i)),
  new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
  new Date(Date.UTC(1999, 11, 31, 23, 59, 59)),
  [],
  {},
  [1, 'two', [3, [4, {}]], { five: [6] }],
  {
    name: 'cat',
    group: 'cat',
    start: 1700000000,
    stop: 0,
    now: 1700000100,
    state: 20,
    statename: 'RUNNING',
    spawnerr: '',
    exitstatus: 0,
    logfile: '/tmp/cat.log',
    stdout_logfile: '/tmp/cat.log',
    stderr_logfile: '',
    pid: 4242,
    description: 'pid 4242, uptime 0:01:40',
  },
  { 'key with spaces': 1, 'ключ': 'значение', '<&>': 'escaped key', __proto__x: 2 },
  ['hello world\n', 12, true],
];

describe('serialising, read back by Python', () => {
  const py = python<Array<{ loads: { ok?: Tagged; err?: string }; dumps: string }>>(
    PRELUDE +
      `out = []
for c in d:
    v = dec(c["value"])
    out.append({
        "loads": attempt(lambda: enc(x.loads(body(c["ours"]), use_builtin_types=True)[0][0])),
        "dumps": x.dumps((v,), methodresponse=True),
    })
print(json.dumps(out))`,
    VALUES.map((v) => ({ value: toTagged(v), ours: b64(serializeResponse(v)) })),
  );

  it.each(VALUES.map((v, i) => [i, v, py[i]!] as const))('value %i: xmlrpc.client.loads gives it back', (_i, v, res) => {
    expect(res.loads.err).toBeUndefined();
    expect(res.loads.ok).toEqual(toTagged(v));
  });

  it.each(VALUES.map((v, i) => [i, v, py[i]!] as const))(
    'value %i: the bytes are xmlrpc.client.dumps(methodresponse=True)’s',
    (_i, v, res) => {
      expect(serializeResponse(v).toString('utf8')).toBe(res.dumps);
    },
  );

  it('writes faults as supervisord’s xmlrpc_marshal(Fault) does, byte for byte', () => {
    const faults: Array<[number, string]> = [
      [10, 'BAD_NAME: nope'],
      [2, 'INCORRECT_PARAMETERS'],
      [30, 'FAILED: <class \'OSError\'>:[Errno 2] & more'],
    ];
    const want = python<Array<{ marshal: string; loads: { fault?: [number, string] } }>>(
      PRELUDE +
        `from supervisor.xmlrpc import xmlrpc_marshal
print(json.dumps([{"marshal": xmlrpc_marshal(x.Fault(c, s)),
                   "loads": attempt(lambda: x.loads(body(ours)))} for (c, s), ours in d]))`,
      faults.map((f) => [f, b64(serializeFault(...f))]),
    );
    faults.forEach((f, i) => {
      expect(serializeFault(...f).toString('utf8')).toBe(want[i]!.marshal);
      expect(want[i]!.loads.fault).toEqual(f);
    });
  });

  it('writes requests as xmlrpc.client.dumps does, and supervisord’s loads() reads them', () => {
    const params: XmlRpcValue[] = ['grp:cat', 0, 1600, true, { a: [1, 'b'] }];
    const [want] = python<[{ dumps: string; loads: [Tagged, string] }]>(
      PRELUDE +
        `from supervisor.xmlrpc import supervisor_xmlrpc_handler
h = supervisor_xmlrpc_handler.__new__(supervisor_xmlrpc_handler)
p, m = h.loads(body(d["ours"]).decode("utf-8"))
print(json.dumps([{"dumps": x.dumps(tuple(dec(d["params"])), "supervisor.tailProcessStdoutLog"),
                   "loads": [enc(p), m]}]))`,
      { params: params.map(toTagged), ours: b64(serializeMethodCall('supervisor.tailProcessStdoutLog', params)) },
    );
    expect(serializeMethodCall('supervisor.tailProcessStdoutLog', params).toString('utf8')).toBe(want.dumps);
    expect(want.loads).toEqual([params.map(toTagged), 'supervisor.tailProcessStdoutLog']);
  });

  it('writes <nil/> only when asked, as allow_none does', () => {
    expect(() => serializeResponse(null)).toThrow(
      new XmlRpcSerializeError('cannot marshal None unless allow_none is enabled'),
    );
    const value: XmlRpcValue = [null, { a: null }, 1];
    const [want] = python<[string]>(
      PRELUDE + `print(json.dumps([x.dumps((dec(d),), methodresponse=True, allow_none=True)]))`,
      toTagged(value),
    );
    expect(serializeResponse(value, { allowNone: true }).toString('utf8')).toBe(want);
  });
});

describe('integers and doubles', () => {
  it('refuses ints beyond 32 bits with xmlrpc.client’s OverflowError text', () => {
    const want = python<string[]>(
      PRELUDE +
        `out = []
for v in d:
    try: x.dumps((v,), methodresponse=True); out.append("ok")
    except OverflowError as e: out.append(str(e))
print(json.dumps(out))`,
      [MAXINT + 1, MININT - 1, 2 ** 40],
    );
    for (const [i, v] of [MAXINT + 1, MININT - 1, 2 ** 40].entries()) {
      expect(() => serializeResponse(v)).toThrow(XmlRpcSerializeError);
      expect(() => serializeResponse(v)).toThrow(want[i]);
    }
  });

  it("writes wide ints as <int> when told to, and xmlrpc.client reads any size", () => {
    const v = [3_000_000_000, -(2 ** 40), 2 ** 53 - 1];
    const [got] = python<[Tagged]>(
      PRELUDE + `print(json.dumps([enc(x.loads(body(d))[0][0])]))`,
      b64(serializeResponse(v, { wideInts: 'int' })),
    );
    expect(got).toEqual(v);
    expect(() => serializeResponse(2 ** 53, { wideInts: 'int' })).toThrow(XmlRpcSerializeError);
  });

  it('clamps like supervisord’s capped_int', () => {
    const inputs = [0, 1700000000.9, -1.5, 2 ** 31, 2 ** 31 - 1, -(2 ** 31) - 1, 1e12, -1e12];
    const want = python<number[]>(
      `import json, sys
from supervisor.xmlrpc import capped_int
print(json.dumps([capped_int(v) for v in json.load(sys.stdin)]))`,
      inputs,
    );
    expect(inputs.map(cappedInt)).toEqual(want);
  });

  it('writes doubles as Python’s repr(float)', () => {
    const r = rng(7);
    const xs = [0.1, -0.0, 0.5, 1e-5, 1.5e-7, 0.0001, 123.456, 1e16 + 0.5, 1.5e16, 1.7976931348623157e308, 5e-324, NaN, Infinity, -Infinity];
    for (let i = 0; i < 300; i++) xs.push((r() - 0.5) * 10 ** Math.floor(r() * 60 - 30));
    const want = python<string[]>(`import json, sys
print(json.dumps([repr(float(s)) for s in json.load(sys.stdin)]))`, xs.map((x) => (Object.is(x, -0) ? '-0' : String(x))));
    expect(xs.map(pyFloatRepr)).toEqual(want);
  });
});

describe('text XML 1.0 cannot carry', () => {
  const invalidUtf8 = Buffer.from([0x6f, 0x6b, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x21]).toString('utf8');
  const nasty = [
    '\x1b[31mred\x1b[0m plain',
    'nul\x00 bell\x07 vt\x0b ff\x0c us\x1f',
    'nonchars \ufffe \uffff',
    'lone surrogates \ud800 x \udfff and a pair \ud83d\ude00',
    invalidUtf8,
    'crlf\r\nand lone cr\r',
    'DEL \x7f and C1 \x85 \x9b stay',
  ];
  const sanitised = nasty.map((s) =>
    s
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, '\ufffd')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );

  it('keeps one character for one, so character offsets stay put', () => {
    nasty.forEach((s, i) => {
      expect(sanitised[i]).toHaveLength(s.length);
      expect(escapeText(s).replace(/&amp;|&lt;|&gt;|&#13;/g, 'X')).toHaveLength(s.length);
    });
  });

  it('parses in xmlrpc.client.loads and on supervisorctl’s SupervisorTransport path', () => {
    const value: XmlRpcValue = [...nasty, { [nasty[0]!]: nasty[1]! }];
    const want: XmlRpcValue = [...sanitised, { [sanitised[0]!]: sanitised[1]! }];
    const got = python<{ loads: { ok?: Tagged; err?: string }; transport: { ok?: Tagged; err?: string }; fault: { fault?: [number, string] } }>(
      PRELUDE +
        `def transport(data):
    # SupervisorTransport.request(): as_string, then encode('ascii', 'xmlcharrefreplace'), then expat
    data = data.decode("utf-8").encode("ascii", "xmlcharrefreplace")
    p, u = x.getparser()
    p.feed(data)
    p.close()
    return u.close()
print(json.dumps({
    "loads": attempt(lambda: enc(x.loads(body(d["resp"]))[0][0])),
    "transport": attempt(lambda: enc(transport(body(d["resp"]))[0])),
    "fault": attempt(lambda: transport(body(d["fault"]))),
}))`,
      { resp: b64(serializeResponse(value)), fault: b64(serializeFault(30, `FAILED: ${nasty[0]!}`)) },
    );
    expect(got.loads).toEqual({ ok: want });
    expect(got.transport).toEqual({ ok: want });
    expect(got.fault).toEqual({ fault: [30, `FAILED: ${sanitised[0]!}`] });
  });

  it('is the trap supervisord 4.2.5 falls into: xmlrpc.client writes \\x1b raw and cannot read it back', () => {
    const got = python<{ dumps: string; loads: { err?: string } }>(
      PRELUDE +
        `s = x.dumps(("\\x1b[31mred",), methodresponse=True)
print(json.dumps({"dumps": s, "loads": attempt(lambda: x.loads(s))}))`,
      null,
    );
    expect(got.loads.err).toMatch(/^ExpatError: not well-formed \(invalid token\)/);
    // We read such documents anyway (a real supervisord's replies, a Python client's requests).
    expect(parseMethodResponse(utf8(got.dumps))).toEqual({ kind: 'params', params: ['\x1b[31mred'] });
  });
});

describe('parsing what Python writes', () => {
  const CALLS: Array<{ method: string; params: XmlRpcValue[] }> = [
    { method: 'supervisor.getState', params: [] },
    { method: 'supervisor.startProcess', params: ['grp:cat', true] },
    { method: 'supervisor.readProcessStdoutLog', params: ['cat', -1600, 0] },
    { method: 'system.multicall', params: [[{ methodName: 'supervisor.getPID', params: [] }, { methodName: 'supervisor.stopProcess', params: ['x', false] }]] },
    { method: 'supervisor.sendProcessStdin', params: ['cat', 'line é 😀\n', Buffer.from([0, 1, 2, 255])] },
    { method: 'x.y', params: [1.25, NaN, -Infinity, '', [], {}, new Date(Date.UTC(2001, 1, 3, 4, 5, 6))] },
  ];
  const RESPONSES: XmlRpcValue[] = [...VALUES, [[[[[['deep']]]]]]];

  const py = python<{ calls: string[]; responses: string[]; nil: string; faults: string[]; marshal: string[] }>(
    PRELUDE +
      `from supervisor.xmlrpc import xmlrpc_marshal, RPCError, Faults
print(json.dumps({
    "calls": [x.dumps(tuple(dec(c["params"])), c["method"]) for c in d["calls"]],
    "responses": [x.dumps((dec(v),), methodresponse=True) for v in d["responses"]],
    "nil": x.dumps(([None, {"k": None}],), methodresponse=True, allow_none=True),
    "faults": [x.dumps(x.Fault(c, s)) for c, s in d["faults"]],
    "marshal": [xmlrpc_marshal(dec(v)) for v in d["responses"]],
}))`,
    {
      calls: CALLS.map((c) => ({ method: c.method, params: c.params.map(toTagged) })),
      responses: RESPONSES.map(toTagged),
      faults: [
        [10, 'BAD_NAME: nope'],
        [91, 'STILL_RUNNING: grp'],
        [-5, ''],
      ],
    },
  );

  it.each(CALLS.map((c, i) => [c.method, c, py.calls[i]!] as const))('xmlrpc.client.dumps(…, %j)', (_m, c, body) => {
    expect(parseMethodCall(utf8(body))).toEqual({ methodName: c.method, params: c.params });
  });

  it.each(RESPONSES.map((v, i) => [i, v, py.responses[i]!, py.marshal[i]!] as const))(
    'response %i from dumps(methodresponse=True) and supervisord’s xmlrpc_marshal',
    (_i, v, body, marshal) => {
      expect(parseMethodResponse(utf8(body))).toEqual({ kind: 'params', params: [v] });
      expect(parseMethodResponse(utf8(marshal))).toEqual({ kind: 'params', params: [v] });
    },
  );

  it('reads <nil/> as null', () => {
    expect(parseMethodResponse(utf8(py.nil))).toEqual({ kind: 'params', params: [[null, { k: null }]] });
  });

  it('reads faults', () => {
    expect(py.faults.map((f) => parseMethodResponse(utf8(f)))).toEqual([
      { kind: 'fault', faultCode: 10, faultString: 'BAD_NAME: nope' },
      { kind: 'fault', faultCode: 91, faultString: 'STILL_RUNNING: grp' },
      { kind: 'fault', faultCode: -5, faultString: '' },
    ]);
  });
});

describe('hand-written requests, read as supervisord’s loads() reads them', () => {
  const call = (params: string, name = 'a.b'): string =>
    `<?xml version="1.0"?><methodCall><methodName>${name}</methodName><params>${params}</params></methodCall>`;
  const p = (v: string): string => `<param><value>${v}</value></param>`;
  const CASES: string[] = [
    call(p('untyped')),
    call(p('  untyped, spaces kept  ')),
    call(p('') + p('<string></string>') + p('<string/>')),
    `<methodCall><methodName>a.b</methodName><params><param><value/></param></params></methodCall>`,
    call(p('\n  <string>typed wins</string>\n  ')),
    call(p('<i4>7</i4>') + p('<int>-7</int>') + p('<int> +1_000 </int>') + p('<int>007</int>')),
    call(p('<boolean>1</boolean>') + p('<boolean>0</boolean>') + p('<boolean>true</boolean>')),
    call(p('<double>1e3</double>') + p('<double>.5</double>') + p('<double> -2.5 </double>') + p('<double>inf</double>')),
    call(p('&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x1F600; &#13;')),
    call(p('<string>a<!-- comment -->b<![CDATA[<not a tag> & ]]>c</string>')),
    call(p('cr\r\nlf\rx')),
    call(p('<struct><member><name>k</name><value>1</value></member><member><name>k</name><value>2</value></member></struct>')),
    call(p('<struct>\n<member>\n<name> spaced key </name>\n<value><int>1</int></value>\n</member>\n</struct>')),
    call(p('<array><data><value>a</value><value><array><data/></array></value></data></array>')),
    call(p('<dateTime.iso8601>20240102T03:04:05</dateTime.iso8601>')),
    call('', ' spaced.name '),
    `<methodCall><methodName>no.params</methodName></methodCall>`,
    `<methodCall><params/><methodName>params.first</methodName></methodCall>`,
    `\ufeff<?xml version="1.0" encoding="ISO-8859-1"?>\n<!-- hi -->\n<methodCall><methodName>bom.é</methodName></methodCall>\n\n`,
    `<methodCall   ><methodName a="1" b='&amp;'>attrs.ignored</methodName ></methodCall>`,
  ];

  const py = python<Array<{ ok?: [Tagged, string]; err?: string }>>(
    PRELUDE +
      `from supervisor.xmlrpc import supervisor_xmlrpc_handler
h = supervisor_xmlrpc_handler.__new__(supervisor_xmlrpc_handler)
def load(b):
    params, method = h.loads(b.decode("utf-8"))
    return [enc(list(params or ())), method]
print(json.dumps([attempt(lambda: load(body(c))) for c in d]))`,
    CASES.map((c) => b64(utf8(c))),
  );

  it.each(CASES.map((c, i) => [c, py[i]!] as const))('%s', (c, want) => {
    expect(want.err).toBeUndefined();
    const [params, methodName] = want.ok!;
    expect(parseMethodCall(utf8(c))).toEqual({ methodName, params: fromTagged(params) });
  });

  it('parts ways with supervisord where its loads() is plainly wrong', () => {
    // supervisord has no unmarshaller for these: <i8> stays the string '5', <nil/> is None
    // by accident, base64 is decoded to str. We read them as xmlrpc.client does.
    expect(parseMethodCall(utf8(call(p('<i8>5</i8>') + p('<nil/>') + p('<base64>aGk=</base64>') + p('<ex:i8>6</ex:i8>'))))).toEqual({
      methodName: 'a.b',
      params: [5, null, Buffer.from('hi'), 6],
    });
  });

  it('reads raw control characters, which expat (thus supervisord) answers with 400', () => {
    expect(parseMethodCall(utf8(call(p('\x1b[A\x00'))))).toEqual({ methodName: 'a.b', params: ['\x1b[A\x00'] });
  });

  it('answers 400 without a method name, as continue_request() does', () => {
    for (const body of [
      '<methodCall><methodName></methodName></methodCall>',
      '<methodCall><methodName/></methodCall>',
      '<methodCall/>',
      '<methodCall><params/></methodCall>',
    ]) {
      const err = parseError(() => parseMethodCall(utf8(body)));
      expect(err.reason).toBe('no_method_name');
      expect(err.httpStatus).toBe(400);
    }
  });
});

describe('hand-written responses, read as xmlrpc.client.loads reads them', () => {
  const resp = (v: string): string => `<methodResponse><params><param><value>${v}</value></param></params></methodResponse>`;
  const CASES = [
    resp('plain'),
    resp('<string>a &amp; b</string>'),
    resp('<i4>1</i4>'),
    resp('<i1>1</i1>'),
    resp('<float>1.5</float>'),
    resp('<array><data><value><boolean>0</boolean></value></data></array>'),
    `<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params></methodResponse>`,
    `<methodResponse><params/></methodResponse>`,
    `<methodResponse><fault><value><struct><member><name>faultString</name><value>reordered</value></member><member><name>faultCode</name><value><int>3</int></value></member></struct></value></fault></methodResponse>`,
  ];
  const py = python<Array<{ ok?: Tagged; fault?: [number, string] }>>(
    PRELUDE + `print(json.dumps([attempt(lambda: enc(x.loads(body(c), use_builtin_types=True)[0])) for c in d]))`,
    CASES.map((c) => b64(utf8(c))),
  );

  it.each(CASES.map((c, i) => [c, py[i]!] as const))('%s', (c, want) => {
    const got = parseMethodResponse(utf8(c));
    if (want.fault) expect(got).toEqual({ kind: 'fault', faultCode: want.fault[0], faultString: want.fault[1] });
    else expect(got).toEqual({ kind: 'params', params: fromTagged(want.ok!) });
  });

  it('refuses a fault that is not {faultCode, faultString}', () => {
    const fault = (members: string): string =>
      `<methodResponse><fault><value><struct>${members}</struct></value></fault></methodResponse>`;
    const m = (k: string, v: string): string => `<member><name>${k}</name><value>${v}</value></member>`;
    for (const body of [
      fault(m('faultCode', '<int>1</int>')),
      fault(m('faultCode', 'one') + m('faultString', 'x')),
      fault(m('faultCode', '<int>1</int>') + m('faultString', 'x') + m('extra', 'y')),
      `<methodResponse><fault><value>str</value></fault></methodResponse>`,
    ]) {
      expectReason(() => parseMethodResponse(utf8(body)), 'bad_fault');
    }
  });
});

describe('dateTime.iso8601', () => {
  it('round-trips with Python’s datetime, as naive UTC', () => {
    const dates = [new Date(Date.UTC(5, 0, 2, 3, 4, 5)), new Date(Date.UTC(9999, 11, 31, 23, 59, 59)), new Date(Date.UTC(2024, 1, 29))];
    dates[0]!.setUTCFullYear(5);
    const got = python<Tagged>(PRELUDE + `print(json.dumps(enc(x.loads(body(d), use_builtin_types=True)[0][0])))`, b64(serializeResponse(dates)));
    expect(got).toEqual([{ $dt: '00050102T03:04:05' }, { $dt: '99991231T23:59:59' }, { $dt: '20240229T00:00:00' }]);
    expect(parseMethodResponse(serializeResponse(dates))).toEqual({ kind: 'params', params: [dates] });
  });

  it('refuses what datetime() refuses', () => {
    for (const t of ['20230229T00:00:00', '20240101T24:00:00', '20240101T00:00:60', '00000101T00:00:00', '2024-01-01T00:00:00', ' 20240101T00:00:00', '']) {
      expectReason(() => parseMethodResponse(utf8(`<methodResponse><params><param><value><dateTime.iso8601>${t}</dateTime.iso8601></value></param></params></methodResponse>`)), 'bad_value');
    }
    expect(() => serializeResponse(new Date(NaN))).toThrow(XmlRpcSerializeError);
  });
});

describe('values the wire cannot carry', () => {
  it('refuses undefined, class instances, Maps and cycles', () => {
    const cyclic: XmlRpcValue[] = [];
    cyclic.push(cyclic);
    const bad: unknown[] = [undefined, { a: undefined }, new (class Foo {})(), new Map(), cyclic, () => 1, 10n, Symbol('s')];
    for (const v of bad) expect(() => serializeResponse(v as XmlRpcValue)).toThrow(XmlRpcSerializeError);
    const shared = { a: 1 };
    expect(() => serializeResponse([shared, shared])).not.toThrow();
  });

  it('keeps a member named __proto__ as data', () => {
    const got = parseMethodResponse(utf8(`<methodResponse><params><param><value><struct><member><name>__proto__</name><value><struct><member><name>polluted</name><value>yes</value></member></struct></value></member></struct></value></param></params></methodResponse>`));
    const v = (got as { params: Array<Record<string, unknown>> }).params[0]!;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('hostile and broken input', () => {
  const QUICK_MS = 1000;
  const wrap = (v: string): string => `<methodCall><methodName>a.b</methodName><params><param><value>${v}</value></param></params></methodCall>`;

  it('refuses DOCTYPE and ENTITY declarations at once (billion laughs, external entities)', () => {
    const laughs =
      '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('\n') +
      ']>\n' +
      wrap('&lol9;');
    const external = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${wrap('&e;')}`;
    for (const body of [laughs, external, `<!DOCTYPE methodCall>${wrap('x')}`]) {
      const { ms, result } = timed(() => parseMethodCall(utf8(body)));
      expect(result).toBeInstanceOf(XmlRpcParseError);
      expect((result as XmlRpcParseError).reason).toBe('doctype');
      expect(ms).toBeLessThan(QUICK_MS);
    }
    expectReason(() => parseMethodCall(utf8(wrap('&lol9;'))), 'entity');
    expectReason(() => parseMethodCall(utf8(wrap('&#xD800;'))), 'entity');
    expectReason(() => parseMethodCall(utf8(wrap('&#x110000;'))), 'entity');
    expectReason(() => parseMethodCall(utf8(wrap('a & b'))), 'entity');
    expectReason(() => parseMethodCall(utf8(wrap(`&${'a'.repeat(100_000)}`))), 'entity');
  });

  it(`refuses nesting past MAX_DEPTH (${MAX_DEPTH}), however deep it goes`, () => {
    const nest = (n: number, open: string, close: string, leaf = 'x'): string => open.repeat(n) + leaf + close.repeat(n);
    const arrays = (n: number): string => nest(n, '<array><data><value>', '</value></data></array>');
    const structs = (n: number): string => nest(n, '<struct><member><name>k</name><value>', '</value></member></struct>');
    expect(() => parseMethodCall(utf8(wrap(arrays(MAX_DEPTH))))).not.toThrow();
    expect(() => parseMethodCall(utf8(wrap(structs(MAX_DEPTH))))).not.toThrow();
    for (const body of [wrap(arrays(MAX_DEPTH + 1)), wrap(arrays(10_000)), wrap(structs(10_000)), wrap(nest(10_000, '<array><data><value>', ''))]) {
      const { ms, result } = timed(() => parseMethodCall(utf8(body)));
      expect((result as XmlRpcParseError).reason).toBe('too_deep');
      expect(ms).toBeLessThan(QUICK_MS);
    }
    for (const body of [nest(10_000, '<a>', '</a>'), wrap(nest(10_000, '<a>', '</a>')), `<methodCall><methodName>${nest(10_000, '<a>', '</a>')}</methodName></methodCall>`]) {
      const { ms, result } = timed(() => parseMethodCall(utf8(body)));
      expect(result).toBeInstanceOf(XmlRpcParseError);
      expect(ms).toBeLessThan(QUICK_MS);
    }
  });

  it(`refuses bodies over MAX_BODY_BYTES (${MAX_BODY_BYTES}) with 413, before reading them`, () => {
    const big = utf8(wrap(`<string>${'x'.repeat(10 * 1024 * 1024)}</string>`));
    const { ms, result } = timed(() => parseMethodCall(big));
    expect((result as XmlRpcParseError).reason).toBe('too_large');
    expect((result as XmlRpcParseError).httpStatus).toBe(413);
    expect(ms).toBeLessThan(QUICK_MS);
    // Replies may be larger (log data); the limit is the caller's to choose.
    expect(parseMethodResponse(serializeResponse('x'.repeat(10 * 1024 * 1024)))).toEqual({ kind: 'params', params: ['x'.repeat(10 * 1024 * 1024)] });
    expectReason(() => parseMethodResponse(serializeResponse('xx'), { maxBytes: 10 }), 'too_large');
  });

  it(`refuses more than MAX_VALUES (${MAX_VALUES}) values`, () => {
    const many = (n: number): Buffer => utf8(wrap(`<array><data>${'<value/>'.repeat(n)}</data></array>`));
    expect(() => parseMethodCall(many(MAX_VALUES - 1))).not.toThrow();
    const { ms, result } = timed(() => parseMethodCall(many(MAX_VALUES + 1)));
    expect((result as XmlRpcParseError).reason).toBe('too_many_values');
    expect(ms).toBeLessThan(QUICK_MS);
  });

  it('stays linear on pathological bodies near the size limit', () => {
    const n = MAX_BODY_BYTES - 200;
    const bodies = [
      wrap('<string>' + '&amp;'.repeat(n / 5) + '</string>'),
      wrap('<string>' + '<!---->'.repeat(n / 7) + '</string>'),
      wrap('<string>' + '<![CDATA[x]]>'.repeat(n / 13) + '</string>'),
      '<methodCall' + " a='1'".repeat(n / 6) + '>',
      wrap('<string>' + 'x'.repeat(n - 100) + '</string>'),
      '<'.repeat(n),
      '<!--'.repeat(n / 4),
      '<methodCall>' + ' '.repeat(n),
      wrap('<int>' + '1_'.repeat(n / 2 - 10) + '1</int>'),
      wrap('<double>' + '1'.repeat(n - 100) + 'x</double>'),
      wrap('<struct>' + '<member><name>k</name><value/></member>'.repeat(n / 40) + '</struct>'),
    ];
    for (const body of bodies) {
      const buf = utf8(body.slice(0, MAX_BODY_BYTES));
      const { ms } = timed(() => parseMethodCall(buf));
      expect(ms).toBeLessThan(QUICK_MS * 2);
    }
  });

  it('refuses every truncation of a valid document', () => {
    const full = serializeMethodCall('supervisor.startProcess', ['grp:cat', true, { a: [1, 2.5, Buffer.from('x')] }]).toString('utf8');
    const closeAt = full.lastIndexOf('</methodCall>') + '</methodCall>'.length;
    for (let i = 0; i < closeAt; i++) {
      expect(() => parseMethodCall(utf8(full.slice(0, i))), `prefix of ${i}`).toThrow(XmlRpcParseError);
    }
    expect(parseMethodCall(utf8(full.slice(0, closeAt))).methodName).toBe('supervisor.startProcess');
  });

  it('refuses garbage and invalid UTF-8 with the typed error, never anything else', () => {
    expectReason(() => parseMethodCall(Buffer.from([0x3c, 0x61, 0xff, 0x3e])), 'invalid_utf8');
    expectReason(() => parseMethodCall(Buffer.concat([utf8(wrap('<string>')), Buffer.from([0xed, 0xa0, 0x80]), utf8('</string>')])), 'invalid_utf8');
    expectReason(() => parseMethodCall(Buffer.from([0xc0, 0xbc])), 'invalid_utf8');
    expectReason(() => parseMethodCall(Buffer.from('')), 'truncated');
    expectReason(() => parseMethodCall(utf8('   \n')), 'truncated');
    expectReason(() => parseMethodCall(utf8('hello')), 'malformed');
    expectReason(() => parseMethodCall(utf8(`${wrap('x')}<junk/>`)), 'malformed');
    expectReason(() => parseMethodCall(utf8(`${wrap('x')}junk`)), 'malformed');
    expectReason(() => parseMethodCall(utf8('<methodCall><methodName>a</methodname></methodCall>')), 'malformed');
    expectReason(() => parseMethodCall(utf8('<methodCall><methodName>a</methodName></methodCall></methodCall>')), 'malformed');
    expectReason(() => parseMethodCall(utf8('<methodCall <methodName>a</methodName></methodCall>')), 'malformed');
    expectReason(() => parseMethodCall(utf8('<methodResponse><params/></methodResponse>')), 'wrong_root');
    expectReason(() => parseMethodResponse(utf8(wrap('x'))), 'wrong_root');
    expectReason(() => parseMethodCall(utf8(wrap('<foo>x</foo>'))), 'unexpected_element');
    expectReason(() => parseMethodCall(utf8(wrap('<string>a<b/>c</string>'))), 'unexpected_element');
    expectReason(() => parseMethodCall(utf8(wrap('<int>1.5</int>'))), 'bad_value');
    expectReason(() => parseMethodCall(utf8(wrap('<int>99999999999999999999</int>'))), 'bad_value');
    expectReason(() => parseMethodCall(utf8(wrap('<double>1.2.3</double>'))), 'bad_value');
    expectReason(() => parseMethodCall(utf8(wrap('<string>a</string><string>b</string>'))), 'malformed');
    expectReason(() => parseMethodCall(utf8(wrap('<struct><member><value>v</value><name>k</name></member></struct>'))), 'malformed');

    const r = rng(1);
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 200) }, () => Math.floor(r() * 256)));
      expect(() => parseMethodCall(bytes)).toThrow(XmlRpcParseError);
    }
  });

  it('either parses or throws XmlRpcParseError when a valid document is mutated', () => {
    const base = serializeMethodCall('a.b', [{ k: [1, 'two &amp; <three>', true, 2.5, Buffer.from('hi'), new Date(0)] }]);
    const r = rng(42);
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const out = mutateXml(base, r);
      try {
        parseMethodCall(out);
        parsed++;
      } catch (e) {
        if (!(e instanceof XmlRpcParseError)) throw new Error(`${String(e)} on ${JSON.stringify(out.toString())}`);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });
});
