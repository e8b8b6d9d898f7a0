// SPDX-License-Identifier: MIT
// The machine against supervisord's own Subprocess (process.py, with the
// DummyOptions of its test suite and a frozen time.time): the same scripts
// must log, emit, spawn and kill the same lines in the same order.
import { describe, expect, it } from 'vitest';

import { FakeClock, type Timer } from '../../../src/process/clock.js';
import { initialStatus, signame, step, type MachineConfig, type MachineEvent, type ProcessStatus } from '../../../src/process/machine.js';
import { python } from '../../helpers/python.js';

type Action =
  | ['start']
  | ['tick']
  | ['advance', number]
  | ['exit', number]
  | ['die', number, boolean]
  | ['exitPid', number, number]
  | ['stop']
  | ['stopAll']
  | ['signal', number]
  | ['stopReport']
  | ['mood', number]
  | ['spawnFails', string];

interface Scenario {
  title: string;
  config: Partial<MachineConfig>;
  actions: Action[];
}

const defaults: MachineConfig = {
  name: 'web',
  autostart: true,
  autorestart: 'unexpected',
  startsecs: 1,
  startretries: 3,
  exitcodes: [0],
  stopsignal: 15,
  stopwaitsecs: 10,
  stopasgroup: false,
  killasgroup: false,
};

// Times stay clear of deadlines by more than the oracle's 100 ms poll step:
// process.py compares with a strict `>` once per loop pass, the machine fires
// at the deadline itself; the order of what happens is the same.
const scenarios: Scenario[] = [
  {
    title: 'STOPPED -> STARTING -> RUNNING -> EXITED -> STARTING (autostart, unexpected exit, no delay)',
    config: {},
    actions: [['tick'], ['advance', 1500], ['exit', 3], ['advance', 1500], ['exit', 0], ['advance', 3000]],
  },
  {
    title: 'STARTING -> BACKOFF -> STARTING … BACKOFF -> FATAL after startretries',
    config: { autostart: false, startsecs: 10 },
    actions: [
      ['start'],
      ['advance', 200],
      ['exit', 1],
      ['advance', 4000],
      ['exit', 1],
      ['advance', 4000],
      ['exit', 0],
      ['advance', 4000],
      ['die', 11, true],
      ['advance', 4000],
    ],
  },
  {
    title: "STARTING -> BACKOFF on spawn errors (spawnerr: can't find command), then FATAL",
    config: { autostart: false, startretries: 1 },
    actions: [['spawnFails', "can't find command 'nope'"], ['spawnFails', "can't find command 'nope'"], ['start'], ['advance', 3000]],
  },
  {
    title: 'RUNNING -> STOPPING -> SIGKILL after stopwaitsecs (killasgroup) -> STOPPED',
    config: { killasgroup: true },
    actions: [['tick'], ['advance', 1500], ['stop'], ['advance', 12000], ['die', 9, false], ['advance', 1000]],
  },
  {
    title: 'stopasgroup: stopsignal to the group; stopped: web (exit status 0) is INFO',
    config: { stopasgroup: true, killasgroup: true, stopsignal: 2 },
    actions: [['tick'], ['advance', 1500], ['stop'], ['advance', 500], ['exit', 0]],
  },
  {
    title: 'BACKOFF -> STOPPED on stop; a later start goes on counting tries',
    config: { autostart: false, startsecs: 5 },
    actions: [
      ['start'], ['advance', 200], ['exit', 1], ['stop'], ['advance', 5000],
      ['start'], ['advance', 200], ['exit', 1], ['advance', 200],
    ],
  },
  {
    title: 'STARTING -> STOPPING -> STOPPED: a stop within startsecs',
    config: { autostart: false, startsecs: 5 },
    actions: [['start'], ['advance', 1000], ['stop'], ['advance', 1000], ['die', 15, false], ['advance', 6000]],
  },
  {
    title: 'stop_all(): BACKOFF -> FATAL, RUNNING -> STOPPING',
    config: { autostart: false, startsecs: 5 },
    actions: [
      ['start'], ['advance', 200], ['exit', 1], ['stopAll'],
      ['start'], ['advance', 6000], ['stopAll'], ['stopAll'], ['advance', 500], ['die', 15, false],
    ],
  },
  {
    title: "supervisord's mood: no restart after an exit while shutting down",
    config: { autorestart: 'true' },
    actions: [['tick'], ['advance', 1500], ['mood', -1], ['exit', 0], ['advance', 3000]],
  },
  {
    title: 'autorestart=true restarts expected and unexpected exits alike',
    config: { autorestart: 'true', exitcodes: [0, 2] },
    actions: [['tick'], ['advance', 1500], ['exit', 2], ['advance', 1500], ['exit', 5], ['advance', 1500]],
  },
  {
    title: 'autorestart=false never restarts; a start does',
    config: { autorestart: 'false' },
    actions: [['tick'], ['advance', 1500], ['exit', 5], ['advance', 3000], ['start'], ['advance', 1500]],
  },
  {
    title: 'process was not running; already running; reaped unknown pid; signals',
    config: { autostart: false },
    actions: [
      ['stop'],
      ['signal', 1],
      ['start'],
      ['start'],
      ['advance', 1500],
      ['start'],
      ['signal', 1],
      ['exitPid', 99, 0],
      ['stop'],
      ['advance', 100],
      ['exit', 0],
      ['stop'],
    ],
  },
  {
    title: 'waiting for web to stop, every 2 seconds',
    config: {},
    actions: [
      ['tick'],
      ['advance', 1500],
      ['stopReport'],
      ['stop'],
      ['stopReport'],
      ['advance', 1000],
      ['stopReport'],
      ['advance', 1500],
      ['stopReport'],
      ['advance', 500],
      ['stopReport'],
      ['die', 15, false],
    ],
  },
  {
    title: 'startsecs=0: RUNNING without waiting, every exit restarts at once',
    config: { startsecs: 0, startretries: 0 },
    actions: [['tick'], ['advance', 100], ['exit', 1], ['advance', 100], ['exit', 1], ['advance', 100]],
  },
];

const ORACLE = String.raw`
import json, sys, types, errno
import supervisor.process as process_module
from supervisor import events
from supervisor.datatypes import RestartUnconditionally, RestartWhenExitUnexpected
from supervisor.options import NotFound, signame
from supervisor.process import Subprocess, ProcessGroupBase
from supervisor.tests.base import DummyOptions, DummyPConfig

T0 = 1700000000
clock = {"ms": 0}
process_module.time = types.SimpleNamespace(time=lambda: T0 + clock["ms"] / 1000.0)

class Logger:
    def __init__(self, lines): self.lines = lines
    def _at(level):
        def log(self, msg, **kw): self.lines.append(level + " " + msg)
        return log
    critical = _at("CRIT"); error = _at("ERRO"); warn = _at("WARN"); info = _at("INFO")
    debug = _at("DEBG"); trace = _at("TRAC"); blather = _at("BLAT")

class Options(DummyOptions):
    def __init__(self, lines):
        DummyOptions.__init__(self)
        self.lines = lines
        self.logger = Logger(lines)
        self.next_pid = 42
        self.outcomes = []
    def check_execv_args(self, filename, argv, st):
        self.lines.append("spawn")
        if self.outcomes:
            raise NotFound(self.outcomes.pop(0))
    def fork(self):
        pid = self.next_pid
        self.next_pid += 1
        return pid
    def kill(self, pid, sig):
        self.lines.append("kill %s %s" % (pid, signame(sig)))

autorestarts = {"true": RestartUnconditionally, "unexpected": RestartWhenExitUnexpected, "false": False}

def run(scenario):
    lines = []
    clock["ms"] = 0
    events.clear()
    def on_event(event):
        payload = event.payload().split(" ", 2)[2]
        lines.append(events.getEventNameByType(event.__class__) + " " + payload)
    events.subscribe(events.ProcessStateEvent, on_event)
    c = scenario["config"]
    options = Options(lines)
    config = DummyPConfig(options, c["name"], "/bin/true", autostart=c["autostart"],
        autorestart=autorestarts[c["autorestart"]], startsecs=c["startsecs"],
        startretries=c["startretries"], stopsignal=c["stopsignal"], stopwaitsecs=c["stopwaitsecs"],
        stopasgroup=c["stopasgroup"], killasgroup=c["killasgroup"], exitcodes=tuple(c["exitcodes"]))
    p = Subprocess(config)
    group = types.SimpleNamespace(processes={"web": p})

    def reap(pid, sts):
        # supervisord.py reap()
        proc = options.pidhistory.get(pid)
        if proc is None:
            lines.append("INFO reaped unknown pid %s (%s)" % (pid, process_module.decode_wait_status(sts)[1]))
        else:
            proc.finish(pid, sts)
            del options.pidhistory[pid]

    for action in scenario["actions"]:
        kind = action[0]
        if kind == "start": p.spawn()
        elif kind == "tick": pass
        elif kind == "advance":
            for _ in range(action[1] // 100):
                clock["ms"] += 100
                p.transition()
            continue
        elif kind == "exit": reap(p.pid, action[1] << 8)
        elif kind == "die": reap(p.pid, action[1] | (0x80 if action[2] else 0))
        elif kind == "exitPid": reap(action[1], action[2] << 8)
        elif kind == "stop": p.stop()
        elif kind == "stopAll": ProcessGroupBase.stop_all(group)
        elif kind == "signal": p.signal(action[1])
        elif kind == "stopReport": p.stop_report()
        elif kind == "mood": options.mood = action[1]
        elif kind == "spawnFails":
            options.outcomes.append(action[1])
            continue
        p.transition()
    return lines

print(json.dumps([run(s) for s in json.load(sys.stdin)]))
`;

const levels = { critical: 'CRIT', warn: 'WARN', info: 'INFO', debug: 'DEBG' } as const;

function runMachine(config: MachineConfig, actions: Action[]): string[] {
  const clock = new FakeClock();
  const lines: string[] = [];
  const failures: string[] = [];
  let status: ProcessStatus = initialStatus;
  let nextPid = 42;
  let timer: Timer | null = null;
  const queue: MachineEvent[] = [];
  let busy = false;
  const send = (event: MachineEvent): void => {
    queue.push(event);
    if (busy) return;
    busy = true;
    while (queue.length > 0) {
      const result = step(config, status, queue.shift()!, clock.now());
      status = result.status;
      for (const e of result.effects) {
        if (e.kind === 'spawn') {
          lines.push('spawn');
          const failure = failures.shift();
          queue.push(failure === undefined ? { kind: 'spawned', pid: nextPid++ } : { kind: 'spawnFailed', message: failure });
        } else if (e.kind === 'kill') lines.push(`kill ${e.group ? -e.pid : e.pid} ${signame(e.signal)}`);
        else if (e.kind === 'startTimer') {
          timer?.cancel();
          timer = clock.setTimer(e.at, () => send({ kind: 'tick' }));
        } else if (e.kind === 'cancelTimer') timer?.cancel();
        else if (e.kind === 'emit') lines.push(`${e.event} from_state:${e.from_state}${e.extra.map(([k, v]) => ` ${k}:${v}`).join('')}`);
        else if (e.kind === 'log') lines.push(`${levels[e.level]} ${e.message}`);
        else throw new Error(`unexpected effect ${e.kind} for a config without depends_on`);
      }
    }
    busy = false;
  };
  for (const a of actions) {
    switch (a[0]) {
      case 'advance':
        clock.advance(a[1]);
        break;
      case 'exit':
        send({ kind: 'exited', pid: status.pid, code: a[1], signal: null });
        break;
      case 'die':
        send({ kind: 'exited', pid: status.pid, code: null, signal: a[1], coreDumped: a[2] });
        break;
      case 'exitPid':
        send({ kind: 'exited', pid: a[1], code: a[2], signal: null });
        break;
      case 'signal':
        send({ kind: 'signal', signal: a[1] });
        break;
      case 'mood':
        send({ kind: 'mood', mood: a[1] as -1 | 0 | 1 | 2 });
        break;
      case 'spawnFails':
        failures.push(a[1]);
        break;
      default:
        send({ kind: a[0] });
    }
  }
  return lines;
}

describe('the machine and process.py Subprocess, script for script', () => {
  const configs = scenarios.map((s) => ({ ...defaults, ...s.config }));
  const oracle = python<string[][]>(ORACLE, scenarios.map((s, i) => ({ config: configs[i], actions: s.actions })));

  it.each(scenarios.map((s, i) => [s.title, i] as const))('%s', (_title, i) => {
    const got = runMachine(configs[i]!, scenarios[i]!.actions);
    expect(got).toEqual(oracle[i]);
    expect(got.length).toBeGreaterThan(0);
  });
});
