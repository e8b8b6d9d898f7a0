// SPDX-License-Identifier: MIT
// Capture mode against supervisord's POutputDispatcher, ticks against
// Supervisor.tick, and the bus's subscribe/notify semantics (events.py).
import { describe, expect, it } from 'vitest';

import { EventBus } from '../../../src/events/bus.js';
import { BEGIN_TOKEN, CaptureSplitter, END_TOKEN, type CaptureOutput } from '../../../src/events/capture.js';
import { Ticker } from '../../../src/events/tick.js';
import type { AnyEvent } from '../../../src/events/types.js';
import { python } from '../../helpers/python.js';
import { lcg as rng } from '../../helpers/rng.js';

function splitRandomly(data: Buffer, rand: () => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; ) {
    const n = 1 + Math.floor(rand() * maxChunk);
    chunks.push(data.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

interface CaptureCase {
  title: string;
  maxbytes: number;
  chunks: Buffer[];
}

const B = (s: string): Buffer => Buffer.from(s);
const wrap = (s: string | Buffer): Buffer => Buffer.concat([BEGIN_TOKEN, Buffer.from(s), END_TOKEN]);

const captureCases: CaptureCase[] = [
  { title: 'no tokens, short reads are held until more than a token length', maxbytes: 100, chunks: [B('ok\n'), B('ok again\n'), B('and a longer line now\n')] },
  { title: 'one read: before, captured, after', maxbytes: 100, chunks: [Buffer.concat([B('before\n'), wrap('inside'), B('after that, some text\n')])] },
  { title: 'two captures in one read', maxbytes: 100, chunks: [Buffer.concat([B('a'.repeat(30)), wrap('one'), B('b'.repeat(30)), wrap('two'), B('c'.repeat(30))])] },
  { title: 'capture larger than maxbytes (BoundIO drops from the front)', maxbytes: 10, chunks: [BEGIN_TOKEN, B('0123456789abcdefghijklmnopqrstuvwxyz'), B('ABCDEFG'), END_TOKEN, B('x'.repeat(30))] },
  { title: 'binary inside a capture', maxbytes: 100, chunks: [wrap(Buffer.from([0xff, 0x00, 0x27, 0xc3])), B('y'.repeat(30))] },
  { title: 'a begin token split at every position', maxbytes: 100, chunks: [B('z'.repeat(25) + '<!--XSUPERV'), B('ISOR:BEGIN-->data'), B('<!--XSUPERVISOR:E'), B('ND-->tail tail tail tail tail')] },
  { title: 'a token split before a short tail waits', maxbytes: 100, chunks: [B('a'.repeat(40) + '<!--'), B('x')] },
];
for (let seed = 1; seed <= 30; seed++) {
  const rand = rng(seed);
  const parts: Buffer[] = [];
  for (let i = 0; i < 6; i++) {
    parts.push(B(`line ${seed}-${i} ${'é'.repeat(Math.floor(rand() * 5))}\n`));
    if (rand() < 0.5) parts.push(wrap(`msg ${seed}-${i} ${'x'.repeat(Math.floor(rand() * 40))}`));
  }
  captureCases.push({ title: `random reads, seed ${seed}`, maxbytes: 1 + Math.floor(rand() * 60), chunks: splitRandomly(Buffer.concat(parts), rand, 40) });
}

const CAPTURE_ORACLE = String.raw`
import base64, json, sys, types
from supervisor import events, loggers
from supervisor.dispatchers import POutputDispatcher

out = []
for case in json.load(sys.stdin):
    events.clear()
    chunks = [base64.b64decode(c) for c in case["chunks"]]
    options = types.SimpleNamespace(loglevel=loggers.LevelsByName.INFO, strip_ansi=False,
                                    getLogger=loggers.getLogger, readfd=lambda fd: chunks.pop(0),
                                    logger=types.SimpleNamespace(debug=lambda *a, **k: None))
    config = types.SimpleNamespace(name="p", options=options, stdout_logfile=None, stdout_logfile_maxbytes=0,
                                   stdout_logfile_backups=0, stdout_syslog=False,
                                   stdout_capture_maxbytes=case["maxbytes"],
                                   stdout_events_enabled=True, stderr_events_enabled=False)
    proc = types.SimpleNamespace(config=config, pid=1, group=None)
    d = POutputDispatcher(proc, events.ProcessCommunicationStdoutEvent, 5)
    reads = []
    def on_log(e):
        reads[-1].append({"kind": "output", "data": base64.b64encode(e.data).decode(),
                          "captured": d.childlog is d.capturelog})
    def on_comm(e):
        reads[-1].append({"kind": "comm", "data": base64.b64encode(e.data).decode()})
    events.subscribe(events.ProcessLogStdoutEvent, on_log)
    events.subscribe(events.ProcessCommunicationStdoutEvent, on_comm)
    for _ in range(len(case["chunks"])):
        reads.append([])
        d.handle_read_event()
    out.append(reads)
print(json.dumps(out))
`;

type Out = { kind: 'output'; data: string; captured: boolean } | { kind: 'comm'; data: string };
const show = (o: CaptureOutput): Out =>
  o.kind === 'output' ? { kind: 'output', data: o.data.toString('base64'), captured: o.captured } : { kind: 'comm', data: o.data.toString('base64') };

describe('CaptureSplitter vs POutputDispatcher capture mode', () => {
  const want = python<Out[][][]>(
    CAPTURE_ORACLE,
    captureCases.map((c) => ({ maxbytes: c.maxbytes, chunks: c.chunks.map((b) => b.toString('base64')) })),
  );

  it.each(captureCases.map((c, i) => [c.title, c, want[i]!] as const))('%s', (_t, c, w) => {
    const s = new CaptureSplitter(c.maxbytes);
    expect(c.chunks.map((chunk) => s.feed(chunk).map(show))).toEqual(w);
  });

  it('end() logs what supervisord would hold back forever (fastvisor only)', () => {
    const s = new CaptureSplitter(100);
    expect(s.feed(B('short\n'))).toEqual([]);
    expect(s.end()).toEqual([{ kind: 'output', data: B('short\n'), captured: false }]);
    const t = new CaptureSplitter(100);
    t.feed(B('x'.repeat(30) + '<!--XSUPER'));
    expect(t.end()).toEqual([{ kind: 'output', data: B('<!--XSUPER'), captured: false }]);
  });

  it('applies the transform (strip_ansi) where _log does, captured data included', () => {
    const s = new CaptureSplitter(100, (d) => Buffer.from(d.toString('latin1').toUpperCase(), 'latin1'));
    const out = s.feed(Buffer.concat([B('a'.repeat(30)), wrap('inner')]));
    expect(out).toEqual([
      { kind: 'output', data: B('A'.repeat(30)), captured: false },
      { kind: 'output', data: B('INNER'), captured: true },
      { kind: 'comm', data: B('INNER') },
    ]);
  });
});

describe('Ticker vs Supervisor.tick', () => {
  const times = [
    1700000001.5, 1700000003, 1700000004.999, 1700000005, 1700000005.2, 1700000009.9, 1700000010.01, 1700000059.5,
    1700000060, 1700000061, 1700003599, 1700003600.5, 1700003605, 1700010000, 1700010000.3, 1700010001,
  ];
  const want = python<Array<Array<[string, number]>>>(
    String.raw`
import json, sys, types
from supervisor import events
from supervisor.supervisord import Supervisor
events.clear()
got = []
events.subscribe(events.TickEvent, lambda e: got[-1].append([events.getEventNameByType(type(e)), e.when]))
fake = types.SimpleNamespace(ticks={})
for now in json.load(sys.stdin):
    got.append([])
    Supervisor.tick(fake, now)
print(json.dumps(got))
`,
    times,
  );

  it('emits the same TICK events with the same when:, never on the first call', () => {
    const t = new Ticker();
    expect(times.map((now) => t.tick(now).map((e) => [e.name, e.when]))).toEqual(want);
    expect(want[0]).toEqual([]);
  });

  it('nextDue is the next 5 s boundary', () => {
    expect(Ticker.nextDue(1700000001.5)).toBe(1700000005);
    expect(Ticker.nextDue(1700000005)).toBe(1700000010);
  });
});

describe('EventBus (events.subscribe / notify / clear)', () => {
  const tick: AnyEvent = { name: 'TICK_5', when: 5 };
  const added: AnyEvent = { name: 'PROCESS_GROUP_ADDED', group: 'g' };

  it('a subscriber gets its type and every subtype, in subscription order', () => {
    const bus = new EventBus();
    const got: string[] = [];
    bus.subscribe('TICK', (e) => got.push(`tick:${e.name}`));
    bus.subscribe('EVENT', (e) => got.push(`event:${e.name}`));
    bus.subscribe('TICK_60', (e) => got.push(`tick60:${e.name}`));
    bus.notify(tick);
    bus.notify(added);
    expect(got).toEqual(['tick:TICK_5', 'event:TICK_5', 'event:PROCESS_GROUP_ADDED']);
  });

  it('a callback subscribed under two matching types is called twice, as in events.py', () => {
    const bus = new EventBus();
    let n = 0;
    const cb = (): void => void n++;
    bus.subscribe('TICK', cb);
    bus.subscribe('TICK_5', cb);
    bus.notify(tick);
    expect(n).toBe(2);
    expect(bus.unsubscribe('TICK', cb)).toBe(true);
    expect(bus.unsubscribe('TICK', cb)).toBe(false);
    bus.notify(tick);
    expect(n).toBe(3);
    bus.clear();
    bus.notify(tick);
    expect(n).toBe(3);
  });

  it('subscribe returns its own undo; changes during notify apply from the next one', () => {
    const bus = new EventBus();
    const got: string[] = [];
    const undoA = bus.subscribe('EVENT', () => {
      got.push('a');
      undoA();
      bus.subscribe('EVENT', () => got.push('c'));
    });
    bus.subscribe('EVENT', () => got.push('b'));
    bus.notify(tick);
    bus.notify(tick);
    expect(got).toEqual(['a', 'b', 'b', 'c']);
  });
});
