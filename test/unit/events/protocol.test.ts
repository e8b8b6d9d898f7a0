// SPDX-License-Identifier: MIT
// The listener stdout reader against supervisord's PEventListenerDispatcher,
// fed the same reads: same listener states, main-log lines and rejections.
import { describe, expect, it } from 'vitest';

import {
  defaultResultHandler,
  ListenerProtocol,
  type ProtocolEffect,
  type ResultHandler,
} from '../../../src/events/protocol.js';
import { EventListenerState } from '../../../src/process/states.js';
import { python } from '../../helpers/python.js';
import { lcg as rng } from '../../helpers/rng.js';

/** 'busy': the pool sent an event; a string or byte array: one read of stdout */
type Step = 'busy' | string | number[];

interface Scenario {
  title: string;
  steps: Step[];
}

const scenarios: Scenario[] = [
  { title: 'READY split across three reads', steps: ['RE', 'AD', 'Y\n'] },
  { title: 'READY, an event, RESULT 2\\nOK in one read', steps: ['READY\n', 'busy', 'RESULT 2\nOK'] },
  { title: 'RESULT header and body split', steps: ['READY\n', 'busy', 'RES', 'ULT 2', '\n', 'O', 'K', 'READY\n'] },
  { title: 'several messages in one read: result then READY', steps: ['READY\n', 'busy', 'RESULT 2\nOKREADY\n'] },
  { title: 'FAIL rejects the event, back to ACKNOWLEDGED', steps: ['READY\n', 'busy', 'RESULT 4\nFAIL', 'READY\n'] },
  { title: 'lower-case ok is not OK', steps: ['READY\n', 'busy', 'RESULT 2\nok'] },
  { title: 'garbage while ACKNOWLEDGED: UNKNOWN, later bytes ignored', steps: ['HELLO!\n', 'READY\n', 'busy', 'RESULT 2\nOK'] },
  { title: 'garbage shorter than READY\\n waits for more', steps: ['HEL', 'LO', 'READY\n'] },
  { title: 'bytes while READY: UNKNOWN', steps: ['READY\n', 'x'] },
  { title: 'READY\\n and spurious bytes in one read', steps: ['READY\nx'] },
  { title: 'READY twice', steps: ['READY\nREADY\n'] },
  { title: 'bad result line: UNKNOWN, event rejected', steps: ['READY\n', 'busy', 'RESULT x\n'] },
  { title: 'bad result line that is not UTF-8', steps: ['READY\n', 'busy', [0x52, 0x45, 0x53, 0x55, 0x4c, 0x54, 0x20, 0xff, 0x0a]] },
  { title: 'a result line without RESULT', steps: ['READY\n', 'busy', 'OK\n'] },
  { title: 'any 7 bytes pass for "RESULT "', steps: ['READY\n', 'busy', 'ABCDEFG2\nOK'] },
  { title: 'CRLF result line', steps: ['READY\r\n'] },
  { title: 'CRLF after RESULT n', steps: ['READY\n', 'busy', 'RESULT 2\r\nOK'] },
  { title: 'int() leniency: spaces, sign, underscores', steps: ['READY\n', 'busy', 'RESULT  +2 \nOK', 'READY\n', 'busy', 'RESULT 0_2\nOK'] },
  { title: 'RESULT 0 alone is settled by the next read', steps: ['READY\n', 'busy', 'RESULT 0\n', 'READY\n'] },
  { title: 'RESULT 0 then READY in one read', steps: ['READY\n', 'busy', 'RESULT 0\nREADY\n'] },
  { title: 'a long result body over many reads', steps: ['READY\n', 'busy', 'RESULT 10\n', 'abc', 'def', 'ghij', 'READY\n'] },
  { title: 'result handler error: UNKNOWN', steps: ['READY\n', 'busy', 'RESULT 4\nBOOM', 'READY\n'] },
  { title: 'a result line never ends: waits', steps: ['READY\n', 'busy', 'RESULT 2', ' and more', ' and more'] },
  { title: 'result body followed by garbage while ACKNOWLEDGED', steps: ['READY\n', 'busy', 'RESULT 2\nOKgarbage\n'] },
  { title: 'data arriving while BUSY before the pool marked it (NUL bytes)', steps: ['READY\n', [0, 0, 0]] },
  { title: 'non-ASCII in READY position', steps: ['RÉADY\n'] },
  { title: 'EOF (empty read) changes nothing', steps: ['REA', '', 'DY\n', 'busy', 'RESULT 2\n', '', 'OK'] },
];

// Random conversations, read in random pieces: 'busy' goes in wherever the
// listener has just become READY (decided by the TS reader; Python checks it).
for (let seed = 1; seed <= 40; seed++) {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let stream = 'READY\n';
  for (let i = 0; i < 8; i++) {
    const body = pick(['OK', 'OK', 'OK', 'FAIL', 'BOOM', 'ok', '', 'OK\n', 'héllo']);
    const line = rand() < 0.05 ? pick(['RESULT x', 'garbage', 'RESULT -0', 'RESULT 1_']) : `RESULT ${Buffer.byteLength(body)}`;
    stream += `${line}${rand() < 0.1 ? '\r' : ''}\n${body}${rand() < 0.9 ? 'READY\n' : 'READY!'}`;
  }
  const bytes = Buffer.from(stream);
  const probe = new ListenerProtocol('probe');
  const steps: Step[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(rand() * 9);
    const chunk = bytes.subarray(i, i + n);
    i += n;
    steps.push([...chunk]);
    probe.feed(chunk, (r) => (r.toString() === 'BOOM' ? 'error' : defaultResultHandler(r)));
    if (probe.state === EventListenerState.READY) {
      steps.push('busy');
      probe.busy();
    }
  }
  scenarios.push({ title: `random conversation, seed ${seed}`, steps });
}

const ORACLE = String.raw`
import base64, json, sys, types
from supervisor import events
from supervisor.dispatchers import PEventListenerDispatcher, default_handler

class Log:
    def __init__(self): self.lines = []
    def debug(self, m): self.lines.append(["debug", m])
    def warn(self, m): self.lines.append(["warn", m])
    def info(self, m): pass

def handler(event, result):
    if result == b"BOOM":
        raise ValueError("boom")
    default_handler(event, result)

out = []
for steps in json.load(sys.stdin):
    events.clear()
    rejected = []
    events.subscribe(events.EventRejectedEvent, lambda e: rejected.append(e.event))
    log = Log()
    opts = types.SimpleNamespace(logger=log, strip_ansi=False)
    group = types.SimpleNamespace(config=types.SimpleNamespace(result_handler=handler))
    proc = types.SimpleNamespace(config=types.SimpleNamespace(name="lsn", options=opts, stdout_logfile=None), group=group)
    d = PEventListenerDispatcher(proc, "stdout", 7)
    trace = []
    for i, step in enumerate(steps):
        log.lines = []
        del rejected[:]
        if step == "busy":
            proc.listener_state = 20
            proc.event = "event%d" % i
        else:
            d.state_buffer += base64.b64decode(step)
            d.handle_listener_state_change()
        trace.append({"state": proc.listener_state, "log": log.lines, "rejected": len(rejected),
                      "holding": proc.event is not None})
    out.append(trace)
print(json.dumps(out))
`;

interface Observed {
  state: number;
  log: Array<[string, string]>;
  rejected: number;
  holding: boolean;
}

const handler: ResultHandler = (r) => (r.toString() === 'BOOM' ? 'error' : defaultResultHandler(r));

function run(steps: Step[]): Observed[] {
  const p = new ListenerProtocol('lsn');
  let holding = false;
  return steps.map((step) => {
    let fx: ProtocolEffect[] = [];
    if (step === 'busy') {
      p.busy();
      holding = true;
    } else {
      fx = p.feed(typeof step === 'string' ? Buffer.from(step) : Buffer.from(step), handler);
    }
    let rejected = 0;
    for (const e of fx) {
      if (e.kind === 'reject' && holding) rejected++;
      if (e.kind === 'release') holding = false;
    }
    return {
      state: p.state,
      log: fx.flatMap((e) => (e.kind === 'log' ? [[e.level, e.message] as [string, string]] : [])),
      rejected,
      holding,
    };
  });
}

describe('ListenerProtocol vs PEventListenerDispatcher', () => {
  const want = python<Observed[][]>(
    ORACLE,
    scenarios.map((s) => s.steps.map((st) => (st === 'busy' ? 'busy' : Buffer.from(st as string).toString('base64')))),
  );

  it.each(scenarios.map((s, i) => [s.title, s, want[i]!] as const))('%s', (_t, s, w) => {
    expect(run(s.steps)).toEqual(w);
  });
});

describe('ListenerProtocol', () => {
  it('starts ACKNOWLEDGED and says READY only for exactly READY\\n', () => {
    const p = new ListenerProtocol('l');
    expect(p.state).toBe(EventListenerState.ACKNOWLEDGED);
    p.feed(Buffer.from('READY\n'));
    expect(p.state).toBe(EventListenerState.READY);
  });

  it('logs the UNKNOWN warning in supervisord words', () => {
    const p = new ListenerProtocol('l');
    const fx = p.feed(Buffer.from('nope!!'));
    expect(fx).toContainEqual({
      kind: 'log',
      level: 'warn',
      message:
        'l: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol',
    });
  });

  // supervisord recurses without end on a negative length (RecursionError,
  // the channel is closed and the event stranded); here it is a bad line.
  it('a negative RESULT length is a bad result line (supervisord: RecursionError)', () => {
    const p = new ListenerProtocol('l');
    p.feed(Buffer.from('READY\n'));
    p.busy();
    const fx = p.feed(Buffer.from('RESULT -1\nOK'));
    expect(p.state).toBe(EventListenerState.UNKNOWN);
    expect(fx).toContainEqual({ kind: 'log', level: 'warn', message: "l: bad result line: 'RESULT -1'" });
    expect(fx).toContainEqual({ kind: 'reject' });
  });

  it('holds partial input without deciding', () => {
    const p = new ListenerProtocol('l');
    p.feed(Buffer.from('READY\n'));
    p.busy();
    expect(p.feed(Buffer.from('RESULT 4\nFA'))).toEqual([]);
    expect(p.pending).toBe(2);
    expect(p.state).toBe(EventListenerState.BUSY);
  });
});
