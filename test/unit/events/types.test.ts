// SPDX-License-Identifier: MIT
// Event payloads and envelopes, byte for byte against supervisord's own event
// classes (events.py) and EventListenerPool._eventEnvelope, one python3 for
// the whole table; plus the type hierarchy and events= parsing.
import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { eventEnvelope } from '../../../src/events/protocol.js';
import {
  EVENT_TYPE_NAMES,
  eventTypeChain,
  isEventOfType,
  parseEventsOption,
  payload,
  payloadLength,
  pyBytesRepr,
  type AnyEvent,
  type EventTypeName,
  type ProcessStateEventName,
} from '../../../src/events/types.js';
import { ProcessState, processStateName, type ProcessStateName } from '../../../src/process/states.js';
import { python } from '../../helpers/python.js';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const digest = (b: Uint8Array): string =>
  b.length < 4096 ? b64(b) : `sha256:${createHash('sha256').update(b).digest('hex')}`;

// Child output as bytes: text, non-ASCII, astral (one code point, two UTF-16
// units, four bytes), and everything strict UTF-8 refuses.
const DATA: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['ascii line', Buffer.from('hello world\n')],
  ['latin accent', Buffer.from('héllo\n')],
  ['astral emoji', Buffer.from('ok 🎉 done\r\n')],
  ['cjk', Buffer.from('日本語テキスト')],
  ['BOM kept', Buffer.from('\ufeffbom')],
  ['NUL and controls', Buffer.from([0x00, 0x01, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x7f, 0x0a])],
  ['invalid byte', Buffer.from([0x61, 0xff, 0x62])],
  ['quotes and backslash, undecodable', Buffer.from([0x27, 0x22, 0x5c, 0x80])],
  ['single quote only, undecodable', Buffer.from([0x27, 0x74, 0xfe])],
  ['double quote only, undecodable', Buffer.from([0x22, 0x09, 0x0d, 0x0a, 0xc0, 0x80])],
  ['encoded surrogate', Buffer.from([0xed, 0xa0, 0x80])],
  ['truncated sequence', Buffer.from([0x41, 0xe2, 0x82])],
  ['beyond U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80])],
  ['128 KiB binary', Buffer.from(Array.from({ length: 131072 }, (_, i) => (i * 7919) % 256))],
];

interface Case {
  id: string;
  event: AnyEvent;
  /** what Python's event class is built from */
  py: Record<string, unknown>;
  identifier: string;
  serial: number;
  poolSerial: number;
}

// events.py get_extra_values, as the machine renders them at the change.
function stateExtra(to: ProcessStateName, pid: number, backoff: number, expected: boolean): Array<[string, number]> {
  if (to === 'STARTING' || to === 'BACKOFF') return [['tries', backoff]];
  if (to === 'EXITED') return [['expected', expected ? 1 : 0], ['pid', pid]];
  if (to === 'RUNNING' || to === 'STOPPING' || to === 'STOPPED') return [['pid', pid]];
  return [];
}

const cases: Case[] = [];
let n = 0;
const add = (event: AnyEvent, py: Record<string, unknown>): void => {
  n++;
  cases.push({ id: `${event.name} #${n}`, event, py, identifier: n % 3 ? 'supervisor' : 'höst-1', serial: n * 3, poolSerial: n });
};

const procs: Array<[string, string | null]> = [
  ['web', 'web'],
  ['worker_01', 'workers'],
  ['wörker', 'grüppe'],
  ['orphan', null],
];
for (const to of Object.keys(ProcessState) as ProcessStateName[]) {
  for (const [i, [pname, gname]] of procs.entries()) {
    for (const from of [ProcessState.STOPPED, ProcessState.STARTING, ProcessState.RUNNING, ProcessState.BACKOFF]) {
      const pid = 1000 + i;
      const backoff = i;
      const expected = i % 2 === 0;
      add(
        {
          name: `PROCESS_STATE_${to}` as ProcessStateEventName,
          processname: pname,
          groupname: gname ?? '',
          from_state: processStateName(from),
          extra: stateExtra(to, pid, backoff, expected),
        },
        { processname: pname, groupname: gname, from_state: from, pid, backoff, expected },
      );
    }
  }
}
for (const [label, data] of DATA) {
  for (const name of ['PROCESS_LOG_STDOUT', 'PROCESS_LOG_STDERR', 'PROCESS_COMMUNICATION_STDOUT', 'PROCESS_COMMUNICATION_STDERR'] as const) {
    const [pname, gname] = procs[n % procs.length]!;
    add({ name, processname: pname, groupname: gname ?? '', pid: 4242, data }, { processname: pname, groupname: gname, pid: 4242, data: b64(data), label });
  }
}
for (const [type, data] of [
  ['alert', 'disk full'],
  ['', ''],
  ['tÿpe', 'multi\nline\n'],
  ['emoji', '🎉🎉 x'],
  ['colon:in:type', 'data with spaces '],
]) {
  add({ name: 'REMOTE_COMMUNICATION', type: type!, data: data! }, { type, data });
}
add({ name: 'SUPERVISOR_STATE_CHANGE_RUNNING' }, {});
add({ name: 'SUPERVISOR_STATE_CHANGE_STOPPING' }, {});
for (const [name, when] of [
  ['TICK_5', 1700000005],
  ['TICK_60', 1700000040],
  ['TICK_3600', 1699999200],
] as const) {
  add({ name, when }, { when });
}
for (const group of ['web', 'grüppe', 'a b']) {
  add({ name: 'PROCESS_GROUP_ADDED', group }, { group });
  add({ name: 'PROCESS_GROUP_REMOVED', group }, { group });
}

const ORACLE = String.raw`
import base64, hashlib, json, sys, types
from supervisor import events
from supervisor.compat import as_bytes
from supervisor.process import EventListenerPool

def process(c):
    group = None
    if c.get("groupname") is not None:
        group = types.SimpleNamespace(config=types.SimpleNamespace(name=c["groupname"]))
    return types.SimpleNamespace(config=types.SimpleNamespace(name=c["processname"]), group=group,
                                 pid=c.get("pid", 0), backoff=c.get("backoff", 0))

# big values as a hash: the helper's pipe holds 1 MiB
def digest(b):
    return base64.b64encode(b).decode() if len(b) < 4096 else "sha256:" + hashlib.sha256(b).hexdigest()

out = []
for c in json.load(sys.stdin):
    name, py = c["name"], c["py"]
    cls = getattr(events.EventTypes, name)
    if name.startswith("PROCESS_STATE_"):
        ev = cls(process(py), py["from_state"], py["expected"])
    elif name.startswith("PROCESS_LOG_") or name.startswith("PROCESS_COMMUNICATION_"):
        ev = cls(process(py), py["pid"], base64.b64decode(py["data"]))
    elif name == "REMOTE_COMMUNICATION":
        ev = cls(py["type"], py["data"])
    elif name.startswith("TICK_"):
        ev = cls(py["when"], None)
    elif name.startswith("PROCESS_GROUP_"):
        ev = cls(py["group"])
    else:
        ev = cls()
    assert events.getEventNameByType(type(ev)) == name
    payload = ev.payload()
    pool = types.SimpleNamespace(config=types.SimpleNamespace(
        name="listener", options=types.SimpleNamespace(identifier=c["identifier"])))
    env = EventListenerPool._eventEnvelope(pool, type(ev), c["serial"], c["poolSerial"], payload)
    out.append({"payload": digest(payload.encode("utf-8")), "len": len(payload), "envelope": digest(as_bytes(env))})
print(json.dumps(out))
`;

interface Oracle {
  payload: string;
  len: number;
  envelope: string;
}

describe('payloads and envelopes vs events.py', () => {
  const expected = python<Oracle[]>(
    ORACLE,
    cases.map((c) => ({ name: c.event.name, py: c.py, identifier: c.identifier, serial: c.serial, poolSerial: c.poolSerial })),
  );

  it.each(cases.map((c, i) => [c.id, c, expected[i]!] as const))('%s', (_id, c, want) => {
    const p = payload(c.event);
    expect(digest(Buffer.from(p, 'utf8'))).toBe(want.payload);
    expect(payloadLength(p)).toBe(want.len);
    const env = eventEnvelope({
      identifier: c.identifier,
      serial: c.serial,
      pool: 'listener',
      poolSerial: c.poolSerial,
      eventName: c.event.name,
      payload: p,
    });
    expect(digest(env)).toBe(want.envelope);
  });

  it('the envelope says len in code points, not bytes (the probe: héllo)', () => {
    const p = payload({ name: 'PROCESS_LOG_STDOUT', processname: 'x', groupname: 'x', pid: 1, data: Buffer.from('héllo\n') });
    const env = eventEnvelope({ identifier: 'supervisor', serial: 0, pool: 'l', poolSerial: 0, eventName: 'PROCESS_LOG_STDOUT', payload: p });
    const [header, body] = [env.subarray(0, env.indexOf(0x0a)).toString(), env.subarray(env.indexOf(0x0a) + 1)];
    expect(header).toBe(`ver:3.0 server:supervisor serial:0 pool:l poolserial:0 eventname:PROCESS_LOG_STDOUT len:${body.length - 1}`);
  });
});

describe('pyBytesRepr', () => {
  it('matches repr(bytes) for every byte value and quote mix', () => {
    const inputs = [
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      Buffer.from("it's"),
      Buffer.from('say "hi"'),
      Buffer.from(`both ' and "`),
      Buffer.alloc(0),
    ];
    const want = python<string[]>(
      'import base64, json, sys\nprint(json.dumps([repr(base64.b64decode(x)) for x in json.load(sys.stdin)]))',
      inputs.map(b64),
    );
    expect(inputs.map(pyBytesRepr)).toEqual(want);
  });
});

describe('EventTypes hierarchy', () => {
  const want = python<Record<string, string[]>>(
    String.raw`
import json
from supervisor import events
out = {}
for name, typ in events.EventTypes.__dict__.items():
    if name.startswith("_"): continue
    out[name] = [n for n, t in events.EventTypes.__dict__.items() if not n.startswith("_") and issubclass(typ, t)]
print(json.dumps(out))
`,
    null,
  );

  // fastvisor's own (health checks), after supervisord's; only they differ.
  const FASTVISOR_ONLY = ['PROCESS_HEALTH', 'PROCESS_HEALTH_HEALTHY', 'PROCESS_HEALTH_UNHEALTHY'];
  const supervisordNames = EVENT_TYPE_NAMES.filter((n) => !FASTVISOR_ONLY.includes(n));

  it('has every EventTypes name, in order, then fastvisor\'s', () => {
    expect(supervisordNames).toEqual(Object.keys(want));
    expect(EVENT_TYPE_NAMES.slice(supervisordNames.length)).toEqual(FASTVISOR_ONLY);
  });

  it('fastvisor\'s health events are PROCESS_HEALTH and EVENT', () => {
    expect(eventTypeChain('PROCESS_HEALTH_UNHEALTHY')).toEqual(['PROCESS_HEALTH_UNHEALTHY', 'PROCESS_HEALTH', 'EVENT']);
    expect(isEventOfType('PROCESS_HEALTH_HEALTHY', 'PROCESS_STATE')).toBe(false);
  });

  it('isinstance(event, type) for every pair', () => {
    for (const name of supervisordNames) {
      const supers = supervisordNames.filter((t) => isEventOfType(name, t));
      expect(supers, name).toEqual(want[name]);
      expect(new Set(eventTypeChain(name))).toEqual(new Set(want[name]));
    }
  });
});

describe('events= (options.py process_groups_from_parser)', () => {
  const inputs = [
    'PROCESS_STATE',
    'process_state_exited, tick_60',
    ' EVENT ',
    'PROCESS_STATE,PROCESS_STATE_EXITED,PROCESS_STATE',
    'PROCESS_LOG,PROCESS_COMMUNICATION,REMOTE_COMMUNICATION,SUPERVISOR_STATE_CHANGE,TICK,PROCESS_GROUP',
    'FOO',
    'PROCESS_STATE,,TICK_5',
    'TICK_5,',
    '',
    'Tick_3600\t,\x1cPROCESS_GROUP_ADDED',
    '__doc__',
    'EventTypes',
  ];
  const want = python<Array<{ ok?: string[]; error?: string }>>(
    String.raw`
import json, sys
from supervisor import events
from supervisor.options import ServerOptions, UnhosedConfigParser
out = []
for value in json.load(sys.stdin):
    parser = UnhosedConfigParser()
    parser.add_section("eventlistener:e")
    parser.set("eventlistener:e", "command", "/bin/cat")
    if value != "":
        parser.set("eventlistener:e", "events", value)
    try:
        [g] = ServerOptions().process_groups_from_parser(parser)
        out.append({"ok": sorted(events.getEventNameByType(t) for t in g.pool_events)})
    except ValueError as e:
        out.append({"error": str(e)})
print(json.dumps(out))
`,
    inputs,
  );

  it.each(inputs.map((v, i) => [JSON.stringify(v), v, want[i]!] as const))('%s', (_label, value, w) => {
    if (w.error !== undefined) {
      expect(() => parseEventsOption(value, 'eventlistener:e')).toThrow(w.error);
    } else {
      expect([...parseEventsOption(value, 'eventlistener:e')].sort()).toEqual(w.ok);
    }
  });

  it('keeps names in the order listed (which matters only for which unknown one is named)', () => {
    expect(parseEventsOption('tick_5, PROCESS_STATE ,tick_5', 's')).toEqual(['TICK_5', 'PROCESS_STATE'] satisfies EventTypeName[]);
    expect(() => parseEventsOption('A,B', 'eventlistener:x')).toThrow('Unknown event type A in [eventlistener:x] events');
  });
});
