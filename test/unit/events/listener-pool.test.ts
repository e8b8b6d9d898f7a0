// SPDX-License-Identifier: MIT
// ListenerPoolCore against supervisord's own EventListenerPool (process.py),
// with fake listener processes and the real PEventListenerDispatcher: the same
// scripts must write the same bytes to the same listeners, log the same lines
// and leave the same events buffered. supervisord dispatches once per loop
// pass; the oracle calls transition() on every pool after each step.
import { describe, expect, it } from 'vitest';

import { EventBus } from '../../../src/events/bus.js';
import { parseEventsOption, type AnyEvent } from '../../../src/events/types.js';
import { GlobalSerial, ListenerPoolCore, type PoolEffect } from '../../../src/process/listener-pool-core.js';
import { ProcessState, type ProcessStateName } from '../../../src/process/states.js';
import { python } from '../../helpers/python.js';
import { lcg as rng } from '../../helpers/rng.js';

interface PoolSpec {
  name: string;
  events: string;
  buffer_size: number;
  listeners: string[];
}

/** How Python builds the same event; the TS side gets the matching AnyEvent. */
type EventSpec =
  | { name: 'PROCESS_GROUP_ADDED' | 'PROCESS_GROUP_REMOVED'; group: string }
  | { name: 'TICK_5' | 'TICK_60'; when: number }
  | { name: 'REMOTE_COMMUNICATION'; type: string; data: string }
  | { name: 'PROCESS_LOG_STDOUT'; processname: string; groupname: string; pid: number; data: string }
  | { name: 'PROCESS_STATE_STARTING' | 'PROCESS_STATE_RUNNING' | 'PROCESS_STATE_EXITED'; processname: string; groupname: string; from: ProcessStateName; pid: number };

type Step =
  | ['event', EventSpec]
  | ['spawn', string, string]
  | ['state', string, string, ProcessStateName]
  | ['out', string, string, string]
  | ['exit', string, string]
  | ['epipe', string, string];

interface Scenario {
  title: string;
  pools: PoolSpec[];
  steps: Step[];
  /** EPIPE: supervisord learns of it inside the write, fastvisor after; the lines differ */
  ignoreLog?: boolean;
}

const pool = (name: string, events: string, buffer_size: number, listeners: string[]): PoolSpec => ({ name, events, buffer_size, listeners });
const added = (group: string): ['event', EventSpec] => ['event', { name: 'PROCESS_GROUP_ADDED', group }];
const tick = (when: number): ['event', EventSpec] => ['event', { name: 'TICK_5', when }];
const up = (p: string, l: string): Step[] => [['spawn', p, l], ['state', p, l, 'STARTING'], ['out', p, l, 'READY\n'], ['state', p, l, 'RUNNING']];
const ok = (p: string, l: string): Step => ['out', p, l, 'RESULT 2\nOK'];
const ready = (p: string, l: string): Step => ['out', p, l, 'READY\n'];
const fail = (p: string, l: string): Step => ['out', p, l, 'RESULT 4\nFAIL'];

const scenarios: Scenario[] = [
  {
    title: 'startup burst overflows the buffer: the oldest are discarded',
    pools: [pool('lsn', 'EVENT', 3, ['lsn'])],
    steps: [added('a'), added('b'), added('c'), added('d'), added('e'), ...up('lsn', 'lsn'), ok('lsn', 'lsn'), ready('lsn', 'lsn'), ok('lsn', 'lsn'), ready('lsn', 'lsn')],
  },
  {
    title: 'READY during startsecs receives nothing until RUNNING',
    pools: [pool('lsn', 'TICK', 10, ['lsn'])],
    steps: [['spawn', 'lsn', 'lsn'], ['state', 'lsn', 'lsn', 'STARTING'], ready('lsn', 'lsn'), tick(1700000005), tick(1700000010), ['state', 'lsn', 'lsn', 'RUNNING']],
  },
  {
    title: 'FAIL puts the event back at the head; it is sent again first',
    pools: [pool('lsn', 'PROCESS_GROUP', 10, ['lsn'])],
    steps: [...up('lsn', 'lsn'), added('a'), added('b'), added('c'), fail('lsn', 'lsn'), ready('lsn', 'lsn'), ok('lsn', 'lsn'), ready('lsn', 'lsn')],
  },
  {
    title: 'two listeners: the first READY gets it; a FAIL goes to whoever is READY next',
    pools: [pool('lsn', 'EVENT', 10, ['lsn_0', 'lsn_1'])],
    steps: [...up('lsn', 'lsn_0'), ...up('lsn', 'lsn_1'), added('a'), added('b'), added('c'), fail('lsn', 'lsn_0'), ok('lsn', 'lsn_1'), ready('lsn', 'lsn_1'), ready('lsn', 'lsn_0')],
  },
  {
    title: 'a listener dying while BUSY: its event goes back to the head, to the other listener',
    pools: [pool('lsn', 'PROCESS_STATE', 10, ['lsn_0', 'lsn_1'])],
    steps: [
      ...up('lsn', 'lsn_0'),
      ['event', { name: 'PROCESS_STATE_RUNNING', processname: 'web', groupname: 'web', from: 'STARTING', pid: 77 }],
      ['event', { name: 'PROCESS_STATE_RUNNING', processname: 'api', groupname: 'api', from: 'STARTING', pid: 78 }],
      ['state', 'lsn', 'lsn_0', 'EXITED'],
      // finish(): change_state notifies first, then the unanswered event is rejected
      ['event', { name: 'PROCESS_STATE_EXITED', processname: 'lsn_0', groupname: 'lsn', from: 'RUNNING', pid: 100 }],
      ['exit', 'lsn', 'lsn_0'],
      ...up('lsn', 'lsn_1'),
      ok('lsn', 'lsn_1'),
      ready('lsn', 'lsn_1'),
    ],
  },
  {
    title: 'a rebuffered event on a full buffer discards the oldest waiting one',
    pools: [pool('lsn', 'EVENT', 2, ['lsn'])],
    steps: [...up('lsn', 'lsn'), added('a'), added('b'), added('c'), fail('lsn', 'lsn'), ready('lsn', 'lsn')],
  },
  {
    title: 'overlapping events= names buffer a matching event twice (same serial)',
    pools: [pool('lsn', 'PROCESS_STATE,PROCESS_STATE_RUNNING', 10, ['lsn'])],
    steps: [
      ['event', { name: 'PROCESS_STATE_RUNNING', processname: 'web', groupname: 'web', from: 'STARTING', pid: 7 }],
      ['event', { name: 'PROCESS_STATE_STARTING', processname: 'web', groupname: 'web', from: 'STOPPED', pid: 0 }],
      ...up('lsn', 'lsn'),
      ok('lsn', 'lsn'),
      ready('lsn', 'lsn'),
      ok('lsn', 'lsn'),
      ready('lsn', 'lsn'),
    ],
  },
  {
    title: 'two pools share the global serial; an event nobody wants takes none',
    pools: [pool('all', 'EVENT', 10, ['all']), pool('ticks', 'TICK', 10, ['ticks'])],
    steps: [
      ...up('all', 'all'),
      ...up('ticks', 'ticks'),
      added('a'),
      tick(1700000005),
      ['event', { name: 'REMOTE_COMMUNICATION', type: 'note', data: 'hé 🎉' }],
      ok('all', 'all'),
      ready('all', 'all'),
      ok('ticks', 'ticks'),
      ready('ticks', 'ticks'),
      tick(1700000010),
    ],
  },
  {
    title: 'bad result line: UNKNOWN until respawned, the event waits in the buffer',
    pools: [pool('lsn', 'EVENT', 10, ['lsn'])],
    steps: [...up('lsn', 'lsn'), added('a'), ['out', 'lsn', 'lsn', 'RESULT OK\n'], added('b'), ready('lsn', 'lsn'), ['state', 'lsn', 'lsn', 'EXITED'], ['exit', 'lsn', 'lsn'], ...up('lsn', 'lsn')],
  },
  {
    title: "a listener's own state changes go to its pool",
    pools: [pool('lsn', 'PROCESS_STATE', 10, ['lsn'])],
    steps: [
      ['spawn', 'lsn', 'lsn'],
      ['state', 'lsn', 'lsn', 'STARTING'],
      ['event', { name: 'PROCESS_STATE_STARTING', processname: 'lsn', groupname: 'lsn', from: 'STOPPED', pid: 0 }],
      ready('lsn', 'lsn'),
      ['state', 'lsn', 'lsn', 'RUNNING'],
      ['event', { name: 'PROCESS_STATE_RUNNING', processname: 'lsn', groupname: 'lsn', from: 'STARTING', pid: 55 }],
      ok('lsn', 'lsn'),
      ready('lsn', 'lsn'),
    ],
  },
  {
    title: 'log events with non-ASCII and undecodable data',
    pools: [pool('lsn', 'PROCESS_LOG', 10, ['lsn'])],
    steps: [
      ...up('lsn', 'lsn'),
      ['event', { name: 'PROCESS_LOG_STDOUT', processname: 'web', groupname: 'web', pid: 9, data: Buffer.from('héllo\n').toString('base64') }],
      ['event', { name: 'PROCESS_LOG_STDOUT', processname: 'web', groupname: 'web', pid: 9, data: Buffer.from([0xff, 0x27, 0x0a]).toString('base64') }],
      ok('lsn', 'lsn'),
      ready('lsn', 'lsn'),
    ],
  },
  {
    title: 'protocol garbage from a BUSY listener (handler says no), then READY',
    pools: [pool('lsn', 'EVENT', 10, ['lsn'])],
    steps: [...up('lsn', 'lsn'), added('a'), ['out', 'lsn', 'lsn', 'RESULT 3\nYES'], ready('lsn', 'lsn'), ['out', 'lsn', 'lsn', 'RESULT 2\nOKREADY\n'], added('b')],
  },
  {
    title: 'EPIPE on the first listener: the event goes to the next',
    pools: [pool('lsn', 'EVENT', 10, ['lsn_0', 'lsn_1'])],
    steps: [...up('lsn', 'lsn_0'), ...up('lsn', 'lsn_1'), ['epipe', 'lsn', 'lsn_0'], added('a'), added('b'), ok('lsn', 'lsn_1'), ready('lsn', 'lsn_1')],
    ignoreLog: true,
  },
  {
    title: 'EPIPE on the only listener: events stay buffered until it is respawned',
    pools: [pool('lsn', 'EVENT', 10, ['lsn'])],
    steps: [...up('lsn', 'lsn'), ['epipe', 'lsn', 'lsn'], added('a'), added('b'), ['state', 'lsn', 'lsn', 'EXITED'], ['exit', 'lsn', 'lsn'], ...up('lsn', 'lsn')],
    ignoreLog: true,
  },
];

// Random scripts over two listeners and a small buffer: every interleaving of
// events, answers, garbage, deaths and respawns the generator happens on.
for (let seed = 1; seed <= 25; seed++) {
  const rand = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const names = ['lsn_0', 'lsn_1'];
  const steps: Step[] = [...up('lsn', 'lsn_0'), ...up('lsn', 'lsn_1')];
  let when = 1700000000;
  for (let i = 0; i < 40; i++) {
    const r = rand();
    const l = pick(names);
    if (r < 0.35) steps.push(rand() < 0.5 ? added(`g${i}`) : tick((when += 5)));
    else if (r < 0.85) steps.push(['out', 'lsn', l, pick(['READY\n', 'READY\n', 'RESULT 2\nOK', 'RESULT 2\nOK', 'RESULT 4\nFAIL', 'RESULT 2\nOKREADY\n', 'RES', 'ULT 2\nOK', 'junk\n'])]);
    else if (r < 0.95) steps.push(['state', 'lsn', l, 'EXITED'], ['exit', 'lsn', l], ...up('lsn', l));
    else steps.push(['state', 'lsn', l, pick(['STOPPING', 'RUNNING'] as const)]);
  }
  scenarios.push({ title: `random script, seed ${seed}`, pools: [pool('lsn', 'EVENT', 4, names)], steps });
}

const ORACLE = String.raw`
import base64, errno, json, sys, types
import supervisor.process as P
from supervisor import events
from supervisor.dispatchers import PEventListenerDispatcher, default_handler
from supervisor.states import ProcessStates

class Log:
    def __init__(self, rec): self.rec = rec
    def debug(self, m): self.rec["log"].append(["debug", m])
    def warn(self, m): self.rec["log"].append(["warn", m])
    def error(self, m): self.rec["log"].append(["error", m])
    def info(self, m): self.rec["log"].append(["info", m])

class Listener:
    def __init__(self, name, options, group, rec):
        self.config = types.SimpleNamespace(name=name, options=options, stdout_logfile=None)
        self.group = group
        self.state = ProcessStates.STOPPED
        self.listener_state = None
        self.event = None
        self.pid = 0
        self.epipe = False
        self.rec = rec
    def transition(self): pass
    def write(self, chars):
        if self.epipe:
            raise OSError(errno.EPIPE, "broken pipe")
        self.rec["writes"].append([self.config.name, base64.b64encode(chars).decode()])

def proc(name, group):
    g = types.SimpleNamespace(config=types.SimpleNamespace(name=group)) if group is not None else None
    return types.SimpleNamespace(config=types.SimpleNamespace(name=name), group=g)

def make_event(s):
    cls = getattr(events.EventTypes, s["name"])
    n = s["name"]
    if n.startswith("PROCESS_GROUP_"): return cls(s["group"])
    if n.startswith("TICK_"): return cls(s["when"], None)
    if n == "REMOTE_COMMUNICATION": return cls(s["type"], s["data"])
    if n == "PROCESS_LOG_STDOUT": return cls(proc(s["processname"], s["groupname"]), s["pid"], base64.b64decode(s["data"]))
    p = proc(s["processname"], s["groupname"])
    p.pid = s["pid"]; p.backoff = 0
    return cls(p, getattr(ProcessStates, s["from"]), True)

out = []
for sc in json.load(sys.stdin):
    events.clear()
    P.GlobalSerial.serial = -1
    rec = {"writes": [], "log": []}
    options = types.SimpleNamespace(identifier="supervisor", logger=Log(rec), strip_ansi=False)
    pools, procs = [], {}
    for ps in sc["pools"]:
        pconfigs = []
        for lname in ps["listeners"]:
            def make(group, lname=lname):
                p = Listener(lname, options, group, rec)
                procs[(ps["name"], lname)] = p
                return p
            pconfigs.append(types.SimpleNamespace(name=lname, make_process=make))
        names = set(x.strip().upper() for x in ps["events"].split(","))
        gconfig = types.SimpleNamespace(name=ps["name"], options=options, priority=-1, process_configs=pconfigs,
                                        buffer_size=ps["buffer_size"], result_handler=default_handler,
                                        pool_events=[getattr(events.EventTypes, x) for x in names])
        pools.append(P.EventListenerPool(gconfig))
    trace = []
    for step in sc["steps"]:
        rec["writes"] = []; rec["log"] = []
        kind = step[0]
        if kind == "event":
            events.notify(make_event(step[1]))
        else:
            p = procs[(step[1], step[2])]
            if kind == "spawn":
                p.dispatcher = PEventListenerDispatcher(p, "stdout", 7)
                p.epipe = False  # a new process, a new stdin
            elif kind == "state":
                p.state = getattr(ProcessStates, step[3])
            elif kind == "out":
                p.dispatcher.state_buffer += step[3].encode()
                p.dispatcher.handle_listener_state_change()
            elif kind == "exit":
                if p.event is not None:
                    events.notify(events.EventRejectedEvent(p, p.event))
                    p.event = None
            elif kind == "epipe":
                p.epipe = True
        for pool in pools:
            pool.transition()
        trace.append({"writes": rec["writes"], "log": rec["log"],
                      "buffers": {pool.config.name: [e.serial for e in pool.event_buffer] for pool in pools},
                      "states": {"%s/%s" % k: v.listener_state for k, v in procs.items()}})
    out.append(trace)
print(json.dumps(out))
`;

interface Observed {
  writes: Array<[string, string]>;
  log: Array<[string, string]>;
  buffers: Record<string, number[]>;
  states: Record<string, number | null>;
}

function toEvent(s: EventSpec): AnyEvent {
  switch (s.name) {
    case 'PROCESS_GROUP_ADDED':
    case 'PROCESS_GROUP_REMOVED':
      return { name: s.name, group: s.group };
    case 'TICK_5':
    case 'TICK_60':
      return { name: s.name, when: s.when };
    case 'REMOTE_COMMUNICATION':
      return { name: s.name, type: s.type, data: s.data };
    case 'PROCESS_LOG_STDOUT':
      return { name: s.name, processname: s.processname, groupname: s.groupname, pid: s.pid, data: Buffer.from(s.data, 'base64') };
    default: {
      const extra: Array<[string, number]> =
        s.name === 'PROCESS_STATE_STARTING' ? [['tries', 0]] : s.name === 'PROCESS_STATE_EXITED' ? [['expected', 1], ['pid', s.pid]] : [['pid', s.pid]];
      return { name: s.name, processname: s.processname, groupname: s.groupname, from_state: s.from, extra };
    }
  }
}

function run(sc: Scenario): Observed[] {
  const bus = new EventBus();
  const serials = new GlobalSerial();
  const epipe = new Set<string>();
  let rec: Observed;
  const pools = new Map<string, ListenerPoolCore>();
  // Carry out effects as a daemon would: a write to a dead stdin comes back as writeFailed.
  const apply = (p: ListenerPoolCore, fx: PoolEffect[]): void => {
    for (const e of fx) {
      if (e.kind === 'log') rec.log.push([e.level, e.message]);
      else if (epipe.has(`${p.config.name}/${e.listener}`)) apply(p, p.writeFailed(e.listener));
      else rec.writes.push([e.listener, e.data.toString('base64')]);
    }
  };
  for (const ps of sc.pools) {
    const p = new ListenerPoolCore(
      { name: ps.name, identifier: 'supervisor', buffer_size: ps.buffer_size, events: parseEventsOption(ps.events, `eventlistener:${ps.name}`), listeners: ps.listeners },
      serials,
    );
    p.subscribe(bus, (fx) => apply(p, fx));
    pools.set(ps.name, p);
  }
  const trace: Observed[] = [];
  for (const step of sc.steps) {
    rec = { writes: [], log: [], buffers: {}, states: {} };
    if (step[0] === 'event') bus.notify(toEvent(step[1]));
    else {
      const p = pools.get(step[1])!;
      const l = step[2];
      if (step[0] === 'spawn') {
        p.listenerSpawned(l);
        epipe.delete(`${step[1]}/${l}`);
      } else if (step[0] === 'state') apply(p, p.listenerProcessState(l, ProcessState[step[3]]));
      else if (step[0] === 'out') apply(p, p.listenerOutput(l, Buffer.from(step[3])));
      else if (step[0] === 'exit') apply(p, p.listenerExited(l));
      else epipe.add(`${step[1]}/${l}`);
    }
    for (const [name, p] of pools) {
      rec.buffers[name] = p.buffered.map((e) => p.serialOf(e)!);
      for (const l of p.config.listeners) rec.states[`${name}/${l}`] = p.listenerState(l);
    }
    trace.push(rec);
  }
  return trace;
}

describe('ListenerPoolCore vs EventListenerPool', () => {
  const want = python<Observed[][]>(
    ORACLE,
    scenarios.map((s) => ({ pools: s.pools, steps: s.steps })),
  );

  it.each(scenarios.map((s, i) => [s.title, s, want[i]!] as const))('%s', (_t, sc, w) => {
    const got = run(sc);
    if (sc.ignoreLog) {
      const strip = (t: Observed[]): Array<Omit<Observed, 'log'>> => t.map(({ log: _log, ...rest }) => rest);
      expect(strip(got)).toEqual(strip(w));
    } else {
      expect(got).toEqual(w);
    }
  });
});

describe('ListenerPoolCore', () => {
  const make = (buffer_size = 10, listeners = ['l']): ListenerPoolCore =>
    new ListenerPoolCore({ name: 'p', identifier: 'my-host', buffer_size, events: ['EVENT'], listeners }, new GlobalSerial());

  it('writes the envelope with server: from the identifier', () => {
    const p = make();
    p.listenerSpawned('l');
    p.listenerProcessState('l', ProcessState.RUNNING);
    p.listenerOutput('l', Buffer.from('READY\n'));
    const fx = p.accept({ name: 'SUPERVISOR_STATE_CHANGE_RUNNING' });
    expect(fx[0]).toEqual({
      kind: 'write',
      listener: 'l',
      data: Buffer.from('ver:3.0 server:my-host serial:0 pool:p poolserial:0 eventname:SUPERVISOR_STATE_CHANGE_RUNNING len:0\n'),
    });
  });

  it('logs the overflow in supervisord words, at error level', () => {
    const p = make(1);
    p.accept({ name: 'TICK_5', when: 5 });
    expect(p.accept({ name: 'TICK_5', when: 10 })).toEqual([
      { kind: 'log', level: 'error', message: 'pool p event buffer overflowed, discarding event 0' },
    ]);
  });

  it('a listener that never spawned has no listener state and gets nothing', () => {
    const p = make();
    expect(p.listenerState('l')).toBeNull();
    expect(p.listenerProcessState('l', ProcessState.RUNNING)).toEqual([]);
    expect(p.accept({ name: 'TICK_5', when: 5 })).toEqual([]);
    expect(p.buffered).toHaveLength(1);
  });

  it('unsubscribes (before_remove)', () => {
    const bus = new EventBus();
    const p = new ListenerPoolCore(
      { name: 'p', identifier: 's', buffer_size: 10, events: ['TICK', 'PROCESS_GROUP'], listeners: [] },
      new GlobalSerial(),
    );
    const undo = p.subscribe(bus, () => {});
    bus.notify({ name: 'TICK_60', when: 60 });
    expect(p.buffered).toHaveLength(1);
    undo();
    expect(bus.size).toBe(0);
    bus.notify({ name: 'TICK_60', when: 120 });
    expect(p.buffered).toHaveLength(1);
  });
});
