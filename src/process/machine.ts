// SPDX-License-Identifier: MIT
// The state machine of one supervised process, rule for rule supervisord's
// process.py Subprocess: (state, event, now) -> next state + effects as data.
// Pure: `now` is Clock.now() (monotonic ms); subprocess.ts carries out the effects.
import { constants } from 'node:os';

import type { ProcessConfig } from '../config/model.js';
import { ProcessState, SupervisorState, processStateName, type ProcessStateName } from './states.js';

export type MachineConfig = Pick<
  ProcessConfig,
  | 'name'
  | 'autostart'
  | 'autorestart'
  | 'startsecs'
  | 'startretries'
  | 'exitcodes'
  | 'stopsignal'
  | 'stopwaitsecs'
  | 'stopasgroup'
  | 'killasgroup'
>;

/**
 * Subprocess's bookkeeping under its own names. Times are Clock.now() ms, and
 * null where process.py uses 0 for "never": a monotonic clock may read 0.
 */
export interface ProcessStatus {
  readonly state: ProcessState;
  /** 0 when there is no child */
  readonly pid: number;
  /** when spawn() last ran: startsecs counts from here, as in process.py */
  readonly laststart: number | null;
  /** when the child was last reaped */
  readonly laststop: number | null;
  readonly laststopreport: number | null;
  /** BACKOFF: the next try may start at; STOPPING: SIGKILL is due at */
  readonly delay: number | null;
  /** tries so far (the `tries` of PROCESS_STATE_STARTING/BACKOFF) */
  readonly backoff: number;
  /** a kill() went out and the child is not reaped yet (sendProcessStdin refuses) */
  readonly killing: boolean;
  /** exit status of the last reaped child; -1 for a signal; null before any or while running */
  readonly exitstatus: number | null;
  readonly spawnerr: string | null;
  /** supervisord's mood (options.mood): automatic starts happen only above RESTARTING */
  readonly mood: SupervisorState;
  /** the deadline the driver has a timer armed for, so the machine can re-arm or cancel it */
  readonly timer: number | null;
}

export const initialStatus: ProcessStatus = {
  state: ProcessState.STOPPED,
  pid: 0,
  laststart: null,
  laststop: null,
  laststopreport: null,
  delay: null,
  backoff: 0,
  killing: false,
  exitstatus: null,
  spawnerr: null,
  mood: SupervisorState.RUNNING,
  timer: null,
};

/**
 * What happens to the process, each the input of one process.py method. The
 * rpc layer checks its faults first (ALREADY_STARTED for RUNNING_STATES,
 * NOT_RUNNING, FAILED for UNKNOWN), as rpcinterface.py does before calling in.
 */
export type MachineEvent =
  /** spawn(): startProcess, or an autostart the caller decides on */
  | { kind: 'start' }
  /** stop(): stopProcess */
  | { kind: 'stop' }
  /** signal(): signalProcess */
  | { kind: 'signal'; signal: number }
  /** ProcessGroup.stop_all(), the shutdown path: like stop, but BACKOFF gives up */
  | { kind: 'stopAll' }
  /** supervisord's mood changed (SHUTDOWN, RESTARTING): no more automatic starts */
  | { kind: 'mood'; mood: SupervisorState }
  /** stop_report(): stopProcess(wait=True) polls it while it waits */
  | { kind: 'stopReport' }
  /** the spawn effect forked: _spawn_as_parent() */
  | { kind: 'spawned'; pid: number }
  /**
   * The spawn effect failed in the parent, before or at fork: get_execv_args,
   * make_dispatchers, fork (spawnerr text such as `can't find command 'x'`).
   * A child that fails after fork (setuid, chdir, exec) is, as in supervisord,
   * `spawned` followed by `exited` with code 127.
   */
  | { kind: 'spawnFailed'; message: string }
  /** the child was reaped: finish() */
  | { kind: 'exited'; pid: number; code: number | null; signal: number | null; coreDumped?: boolean }
  /** a kill effect failed; code is the errno name, message the error text */
  | { kind: 'killFailed'; purpose: KillPurpose; code: string; message: string }
  /** time passed (a timer fired, or the driver looks in: once when the process is created, for autostart): transition() */
  | { kind: 'tick' };

export type EventKind = MachineEvent['kind'];
export type KillPurpose = 'kill' | 'signal';
/** MainLog method names, so a driver can call mainLog[level](message). */
export type LogLevel = 'critical' | 'warn' | 'info' | 'debug';

export interface EmitEffect {
  kind: 'emit';
  event: `PROCESS_STATE_${ProcessStateName}`;
  from_state: ProcessStateName;
  /** change_state()'s flag; on the wire only in PROCESS_STATE_EXITED's `expected:` */
  expected: boolean;
  /** payload fields after processname, groupname and from_state, in events.py's order, rendered at the change */
  extra: ReadonlyArray<readonly [string, number]>;
}

/**
 * Carry these out in order. Events that arise meanwhile (the spawn's result,
 * a kill failure) are fed after the last effect of this step, not in between.
 */
export type Effect =
  | { kind: 'spawn' }
  /** send signal to pid, or to its process group (-pid) when group */
  | { kind: 'kill'; pid: number; signal: number; group: boolean; purpose: KillPurpose }
  /** one timer per process: replaces any armed one; feed `tick` when it fires */
  | { kind: 'startTimer'; at: number }
  | { kind: 'cancelTimer' }
  | EmitEffect
  | { kind: 'log'; level: LogLevel; message: string };

export interface Step {
  readonly status: ProcessStatus;
  readonly effects: readonly Effect[];
  /** what kill()/signal() return in process.py: an error string for FAILED, or null */
  readonly error: string | null;
}

// options.py signame(): the SIG name, or "signal N". Where Linux has aliases
// Python's signal module settles on these.
const preferredAliases = ['SIGABRT', 'SIGPOLL', 'SIGCHLD'];
const signalNames = new Map<number, string>();
for (const [name, n] of Object.entries(constants.signals)) {
  if (!signalNames.has(n) || preferredAliases.includes(name)) signalNames.set(n, name);
}
if (process.platform === 'linux') {
  // glibc's SIGRTMIN/SIGRTMAX, which Python exposes and Node does not.
  signalNames.set(34, 'SIGRTMIN');
  signalNames.set(64, 'SIGRTMAX');
}

export function signame(sig: number): string {
  return signalNames.get(sig) ?? `signal ${sig}`;
}

/** options.py decode_wait_status(): [exitstatus, message]; a signal death is -1. */
export function decodeWaitStatus(e: { code: number | null; signal: number | null; coreDumped?: boolean }): [number, string] {
  if (e.code !== null) {
    const es = e.code & 0xffff;
    return [es, `exit status ${es}`];
  }
  if (e.signal !== null) return [-1, `terminated by ${signame(e.signal)}${e.coreDumped ? ' (core dumped)' : ''}`];
  // The raw wait status is not kept once decoded; supervisord prints it here.
  return [-1, 'unknown termination cause 0x0000'];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Work {
  readonly effects: Effect[] = [];
  error: string | null = null;

  constructor(
    readonly config: MachineConfig,
    readonly s: Mutable<ProcessStatus>,
    readonly now: number,
  ) {}

  log(level: LogLevel, message: string): void {
    this.effects.push({ kind: 'log', level, message });
  }

  // process.py change_state(): entering BACKOFF is what counts a try and sets
  // the delay (1 s, 2 s, 3 s ...); the event payload is rendered now, before
  // finish() clears the pid.
  changeState(to: ProcessState, expected = true): void {
    const from = this.s.state;
    if (to === from) return;
    this.s.state = to;
    if (to === ProcessState.BACKOFF) {
      this.s.backoff += 1;
      this.s.delay = this.now + this.s.backoff * 1000;
    }
    const extra: Array<readonly [string, number]> = [];
    if (to === ProcessState.STARTING || to === ProcessState.BACKOFF) extra.push(['tries', this.s.backoff]);
    else if (to === ProcessState.EXITED) extra.push(['expected', expected ? 1 : 0], ['pid', this.s.pid]);
    else if (to === ProcessState.RUNNING || to === ProcessState.STOPPING || to === ProcessState.STOPPED) {
      extra.push(['pid', this.s.pid]);
    }
    const name = processStateName(to);
    this.effects.push({ kind: 'emit', event: `PROCESS_STATE_${name}`, from_state: processStateName(from), expected, extra });
  }
}

type EventOf<K extends EventKind> = Extract<MachineEvent, { kind: K }>;
type Transition<K extends EventKind> = (w: Work, e: EventOf<K>) => void;
type Row = { [K in EventKind]: Transition<K> };

const secs = (n: number): number => n * 1000;
// The shortest interval between two SIGKILLs to a process that is not yet reaped.
const MIN_KILL_REPEAT_MS = 1000;
// One expression for the timer and both checks: with fractional ms,
// `now - laststart >= x` and `now >= laststart + x` can round apart.
const startDeadline = (config: MachineConfig, laststart: number): number => laststart + secs(config.startsecs);
const moodAllowsStarts = (w: Work): boolean => w.s.mood > SupervisorState.RESTARTING;

function nothing(): void {}

// spawn(), up to the fork: the parent-side checks and the fork itself are the
// spawn effect, which answers with `spawned` or `spawnFailed`.
function spawn(w: Work): void {
  const s = w.s;
  s.killing = false;
  s.spawnerr = null;
  s.exitstatus = null;
  s.laststart = w.now;
  w.changeState(ProcessState.STARTING);
  w.effects.push({ kind: 'spawn' });
}

// spawn() with a live pid only warns.
function alreadyRunning(w: Work): void {
  w.log('warn', `process '${w.config.name}' already running`);
}

// kill(): BACKOFF has no child, so "killing" it just stops the retries.
function kill(w: Work, sig: number): void {
  const { s, config } = w;
  if (s.state === ProcessState.BACKOFF) {
    w.log('debug', `Attempted to kill ${config.name}, which is in BACKOFF state.`);
    // BACKOFF -> STOPPED (backoff is kept: a later start goes on counting tries)
    w.changeState(ProcessState.STOPPED);
    return;
  }
  if (!s.pid) {
    notRunning(w, `attempted to kill ${config.name} with sig ${signame(sig)} but it wasn't running`);
    return;
  }
  // The first signal follows stopasgroup; once STOPPING it is the SIGKILL, which follows killasgroup.
  const group = s.state === ProcessState.STOPPING ? config.killasgroup : config.stopasgroup;
  w.log('debug', `killing ${config.name} (pid ${s.pid}) ${group ? 'process group ' : ''}with signal ${signame(sig)}`);
  s.killing = true;
  // stopwaitsecs <= 0 (supervisord accepts both): SIGKILL at once, but then
  // wait for the exit like any other kill. A zero delay would re-send SIGKILL
  // on every tick, a busy loop that starves the daemon; supervisord's own 1 s
  // select timeout paces it, so SIGKILL repeats at most once a second here too.
  const wait = secs(config.stopwaitsecs);
  s.delay = w.now + (sig === constants.signals.SIGKILL ? Math.max(wait, MIN_KILL_REPEAT_MS) : Math.max(wait, 0));
  // RUNNING/STARTING/STOPPING -> STOPPING
  w.changeState(ProcessState.STOPPING);
  w.effects.push({ kind: 'kill', pid: s.pid, signal: sig, group, purpose: 'kill' });
}

function notRunning(w: Work, message: string): void {
  w.log('debug', message);
  w.error = message;
}

// stop(): the administrative stop.
function stop(w: Work): void {
  w.s.laststopreport = null;
  kill(w, w.config.stopsignal);
}

// signal(): a signal that is not meant to stop (signalProcess); never to the group.
function signal(w: Work, e: EventOf<'signal'>): void {
  const { s, config } = w;
  if (!s.pid) {
    notRunning(w, `attempted to send ${config.name} sig ${signame(e.signal)} but it wasn't running`);
    return;
  }
  w.log('debug', `sending ${config.name} (pid ${s.pid}) sig ${signame(e.signal)}`);
  w.effects.push({ kind: 'kill', pid: s.pid, signal: e.signal, group: false, purpose: 'signal' });
}

// give_up(): BACKOFF -> FATAL
function giveUp(w: Work): void {
  w.s.delay = null;
  w.s.backoff = 0;
  w.changeState(ProcessState.FATAL);
}

// The error branches of kill()/signal(), after the fact: the effect ran after the step.
function killFailed(w: Work, e: EventOf<'killFailed'>): void {
  const { s, config } = w;
  if (e.code === 'ESRCH') {
    // Not an error: the child died on its own and its exit comes through finish().
    const just = e.purpose === 'kill' ? 'just' : 'just now';
    w.log('debug', `unable to signal ${config.name} (pid ${s.pid}), it probably ${just} exited on its own: ${e.message}`);
    return;
  }
  const message =
    e.purpose === 'kill'
      ? `unknown problem killing ${config.name} (${s.pid}):${e.message}`
      : `unknown problem sending sig ${config.name} (${s.pid}):${e.message}`;
  w.log('critical', message);
  // any -> UNKNOWN
  w.changeState(ProcessState.UNKNOWN);
  if (e.purpose === 'kill') {
    s.killing = false;
    s.delay = null;
  }
  w.error = message;
}

function setMood(w: Work, e: EventOf<'mood'>): void {
  w.s.mood = e.mood;
}

// stop_report(): at most every 2 s, and only while someone waits on stopProcess.
function stopReport(w: Work): void {
  const s = w.s;
  if (s.laststopreport === null || w.now > s.laststopreport + 2000) {
    w.log('info', `waiting for ${w.config.name} to stop`);
    s.laststopreport = w.now;
  }
}

// An exit that is not this machine's child: supervisord.py reap()'s line for
// a pid missing from pidhistory. Nothing changes.
function reapedUnknown(w: Work, e: EventOf<'exited'>): void {
  w.log('info', `reaped unknown pid ${e.pid} (${decodeWaitStatus(e)[1]})`);
}

// finish()'s frame; the pid goes to 0 after the branch has emitted it.
function reaped(w: Work, e: EventOf<'exited'>, branch: (es: number, msg: string) => void): void {
  if (!w.s.pid || e.pid !== w.s.pid) {
    reapedUnknown(w, e);
    return;
  }
  const [es, msg] = decodeWaitStatus(e);
  w.s.laststop = w.now;
  branch(es, msg);
  w.s.pid = 0;
}

// finish(), `if self.killing`: STOPPING -> STOPPED. A death by the stop
// signal is exit status -1, not in exitcodes, so the line is a WARN.
function exitedWhileStopping(w: Work, e: EventOf<'exited'>): void {
  reaped(w, e, (es, msg) => {
    const s = w.s;
    s.killing = false;
    s.delay = null;
    s.exitstatus = es;
    w.changeState(ProcessState.STOPPED);
    w.log(w.config.exitcodes.includes(es) ? 'info' : 'warn', `stopped: ${w.config.name} (${msg})`);
  });
}

// finish() for a child that was not being stopped: too quickly (before
// startsecs) is a failed try whatever the exit code; otherwise RUNNING -> EXITED.
function exitedOnItsOwn(w: Work, e: EventOf<'exited'>): void {
  reaped(w, e, (es, msg) => {
    const { s, config } = w;
    const tooQuickly = s.laststart !== null && w.now < startDeadline(config, s.laststart);
    if (tooQuickly) {
      s.exitstatus = null;
      s.spawnerr = 'Exited too quickly (process log may have details)';
      // STARTING -> BACKOFF
      w.changeState(ProcessState.BACKOFF);
      w.log('warn', `exited: ${config.name} (${msg}; not expected)`);
      return;
    }
    s.delay = null;
    s.backoff = 0;
    s.exitstatus = es;
    // STARTING -> RUNNING: startsecs passed but the tick that says so has not come yet.
    if (s.state === ProcessState.STARTING) w.changeState(ProcessState.RUNNING);
    if (config.exitcodes.includes(es)) {
      // RUNNING -> EXITED
      w.changeState(ProcessState.EXITED, true);
      w.log('info', `exited: ${config.name} (${msg}; expected)`);
    } else {
      s.spawnerr = `Bad exit code ${es}`;
      // RUNNING -> EXITED
      w.changeState(ProcessState.EXITED, false);
      w.log('warn', `exited: ${config.name} (${msg}; not expected)`);
    }
  });
}

// finish() in UNKNOWN: process.py fails an assertion here. Record the exit and
// stay UNKNOWN, which supervisord has no way out of short of removing the group.
function exitedWhileUnknown(w: Work, e: EventOf<'exited'>): void {
  reaped(w, e, (es, msg) => {
    const s = w.s;
    s.killing = false;
    s.delay = null;
    s.exitstatus = es;
    const expected = w.config.exitcodes.includes(es);
    w.log(expected ? 'info' : 'warn', `exited: ${w.config.name} (${msg}; ${expected ? 'expected' : 'not expected'})`);
  });
}

// _spawn_as_parent()
function spawned(w: Work, e: EventOf<'spawned'>): void {
  w.s.pid = e.pid;
  w.log('info', `spawned: '${w.config.name}' with pid ${e.pid}`);
  w.s.spawnerr = null;
}

// spawn()'s early returns: record_spawnerr(), then STARTING -> BACKOFF.
function spawnFailed(w: Work, e: EventOf<'spawnFailed'>): void {
  w.s.spawnerr = e.message;
  w.log('info', `spawnerr: ${e.message}`);
  w.changeState(ProcessState.BACKOFF);
}

function refuse(message: (w: Work) => string): (w: Work) => void {
  return (w) => {
    w.error = message(w);
  };
}

// The time-driven half of transition(), one function per state.
const tick = {
  stopped(w: Work): void {
    // STOPPED -> STARTING: autostart, once: `not self.laststart`
    if (w.s.laststart === null && w.config.autostart && moodAllowsStarts(w)) spawn(w);
  },
  starting(w: Work): void {
    const { s, config } = w;
    // STARTING -> RUNNING once the child has stayed up startsecs. process.py
    // has `>` on a 1 s poll loop; a timer fires at the deadline itself.
    if (s.pid && s.laststart !== null && w.now >= startDeadline(config, s.laststart)) {
      s.delay = null;
      s.backoff = 0;
      w.changeState(ProcessState.RUNNING);
      w.log(
        'info',
        `success: ${config.name} entered RUNNING state, process has stayed up for > than ${config.startsecs} seconds (startsecs)`,
      );
    }
  },
  backoff(w: Work): void {
    const { s, config } = w;
    if (moodAllowsStarts(w) && s.backoff <= config.startretries && s.delay !== null && w.now >= s.delay) {
      // BACKOFF -> STARTING
      spawn(w);
    } else if (s.backoff > config.startretries) {
      // BACKOFF -> FATAL: startretries+1 attempts in all
      giveUp(w);
      w.log('info', `gave up: ${config.name} entered FATAL state, too many start retries too quickly`);
    }
  },
  stopping(w: Work): void {
    const { s, config } = w;
    if (s.delay !== null && w.now >= s.delay) {
      // STOPPING -> STOPPING: SIGKILL after stopwaitsecs, and again every
      // stopwaitsecs (kill() re-arms delay) until the child is reaped.
      w.log('warn', `killing '${config.name}' (${s.pid}) with SIGKILL`);
      kill(w, constants.signals.SIGKILL);
    }
  },
  exited(w: Work): void {
    const { s, config } = w;
    if (!moodAllowsStarts(w)) return;
    // EXITED -> STARTING: autorestart=true, or unexpected with the exit status
    // not in exitcodes. No delay: backoff only guards the way to RUNNING.
    const unexpected = s.exitstatus === null || !config.exitcodes.includes(s.exitstatus);
    if (config.autorestart === 'true' || (config.autorestart === 'unexpected' && unexpected)) spawn(w);
  },
};

const unknownState = (w: Work): string => `${w.config.name} is in an unknown process state`;

/**
 * The rules: every state x event. Cells cite the process.py function they
 * follow. After each event but a tick, the new state's tick cell runs once:
 * supervisord's main loop runs transition() after every reap() and RPC.
 */
export const transitions: Record<ProcessState, Row> = {
  [ProcessState.STOPPED]: {
    // STOPPED -> STARTING: spawn()
    start: spawn,
    // kill() with no pid: "wasn't running"
    stop: stop,
    signal: signal,
    stopAll: nothing,
    mood: setMood,
    stopReport: nothing,
    // spawn is synchronous in the driver: spawned/spawnFailed only ever follow a
    // spawn effect, in STARTING.
    spawned: nothing,
    spawnFailed: nothing,
    // no child: "reaped unknown pid"
    exited: reapedUnknown,
    killFailed: killFailed,
    tick: tick.stopped,
  },
  [ProcessState.STARTING]: {
    start: alreadyRunning,
    // STARTING -> STOPPING: stop() (no success line, no RUNNING)
    stop: stop,
    signal: signal,
    // STARTING -> STOPPING: stop_all()
    stopAll: stop,
    mood: setMood,
    stopReport: nothing,
    spawned: spawned,
    // STARTING -> BACKOFF: spawn() failed before the fork
    spawnFailed: spawnFailed,
    // STARTING -> BACKOFF (too quickly), or STARTING -> RUNNING -> EXITED: finish()
    exited: exitedOnItsOwn,
    killFailed: killFailed,
    // STARTING -> RUNNING: transition()
    tick: tick.starting,
  },
  [ProcessState.RUNNING]: {
    start: alreadyRunning,
    // RUNNING -> STOPPING: stop()
    stop: stop,
    signal: signal,
    // RUNNING -> STOPPING: stop_all()
    stopAll: stop,
    mood: setMood,
    stopReport: nothing,
    spawned: nothing,
    spawnFailed: nothing,
    // RUNNING -> EXITED: finish()
    exited: exitedOnItsOwn,
    killFailed: killFailed,
    tick: nothing,
  },
  [ProcessState.BACKOFF]: {
    // BACKOFF -> STARTING: spawn(); rpc answers ALREADY_STARTED first, so only transition() gets here
    start: spawn,
    // BACKOFF -> STOPPED: kill()
    stop: stop,
    // signal() with no pid: "wasn't running"
    signal: signal,
    // BACKOFF -> FATAL: stop_all() gives up, without the "gave up" line
    stopAll: giveUp,
    mood: setMood,
    stopReport: nothing,
    spawned: nothing,
    spawnFailed: nothing,
    // no child: "reaped unknown pid"
    exited: reapedUnknown,
    killFailed: killFailed,
    // BACKOFF -> STARTING after the delay, BACKOFF -> FATAL past startretries: transition()
    tick: tick.backoff,
  },
  [ProcessState.STOPPING]: {
    start: alreadyRunning,
    // STOPPING -> STOPPING: kill() again; the signal follows killasgroup now and
    // stopwaitsecs starts over. rpc answers NOT_RUNNING first.
    stop: stop,
    signal: signal,
    // stop_all() leaves STOPPING alone
    stopAll: nothing,
    mood: setMood,
    stopReport: stopReport,
    spawned: nothing,
    spawnFailed: nothing,
    // STOPPING -> STOPPED: finish() with killing
    exited: exitedWhileStopping,
    killFailed: killFailed,
    // SIGKILL after stopwaitsecs: transition()
    tick: tick.stopping,
  },
  [ProcessState.EXITED]: {
    // EXITED -> STARTING: spawn()
    start: spawn,
    stop: stop,
    signal: signal,
    stopAll: nothing,
    mood: setMood,
    stopReport: nothing,
    spawned: nothing,
    spawnFailed: nothing,
    // no child: "reaped unknown pid"
    exited: reapedUnknown,
    killFailed: killFailed,
    // EXITED -> STARTING: autorestart, transition()
    tick: tick.exited,
  },
  [ProcessState.FATAL]: {
    // FATAL -> STARTING: spawn()
    start: spawn,
    stop: stop,
    signal: signal,
    stopAll: nothing,
    mood: setMood,
    stopReport: nothing,
    spawned: nothing,
    spawnFailed: nothing,
    // no child: "reaped unknown pid"
    exited: reapedUnknown,
    killFailed: killFailed,
    tick: nothing,
  },
  [ProcessState.UNKNOWN]: {
    // rpc refuses UNKNOWN (FAILED, NOT_RUNNING) before it gets here; process.py
    // would fail an assertion in spawn(), kill() and signal().
    start: refuse(unknownState),
    stop: refuse(unknownState),
    signal: refuse(unknownState),
    stopAll: nothing,
    mood: setMood,
    stopReport: nothing,
    spawned: nothing,
    spawnFailed: nothing,
    exited: exitedWhileUnknown,
    killFailed: killFailed,
    tick: nothing,
  },
};

// The one deadline each state waits for; none means no timer.
function deadline(config: MachineConfig, s: ProcessStatus): number | null {
  switch (s.state) {
    case ProcessState.STARTING:
      return s.pid && s.laststart !== null ? startDeadline(config, s.laststart) : null;
    case ProcessState.BACKOFF:
      return s.mood > SupervisorState.RESTARTING && s.backoff <= config.startretries ? s.delay : null;
    case ProcessState.STOPPING:
      return s.delay;
    default:
      return null;
  }
}

const TICK: EventOf<'tick'> = { kind: 'tick' };

export function step(config: MachineConfig, status: ProcessStatus, event: MachineEvent, now: number): Step {
  const w = new Work(config, { ...status }, now);
  (transitions[status.state][event.kind] as Transition<EventKind>)(w, event as never);
  if (event.kind !== 'tick') transitions[w.s.state].tick(w, TICK);
  // A tick at or past the armed deadline means that timer is spent.
  if (event.kind === 'tick' && w.s.timer !== null && now >= w.s.timer) w.s.timer = null;
  const at = deadline(config, w.s);
  if (at !== w.s.timer) {
    w.effects.push(at === null ? { kind: 'cancelTimer' } : { kind: 'startTimer', at });
    w.s.timer = at;
  }
  return { status: w.s, effects: w.effects, error: w.error };
}

const MAXINT = 2 ** 31 - 1;
// xmlrpc.py capped_int(): XML-RPC ints are 32-bit.
function cappedInt(x: number): number {
  return Math.max(-MAXINT - 1, Math.min(MAXINT, Math.trunc(x)));
}

/** The fields _interpretProcessInfo() reads. */
export interface InfoForDescription {
  name: string;
  state: ProcessState;
  start: number;
  stop: number;
  now: number;
  pid: number;
  spawnerr: string;
}

// str(datetime.timedelta(seconds=n)): "0:01:05", "1 day, 2:03:04", "3 days, 0:00:00".
function timedelta(total: number): string {
  const days = Math.floor(total / 86400);
  const rest = total - days * 86400;
  const h = Math.floor(rest / 3600);
  const m = Math.floor((rest % 3600) / 60);
  const sec = rest % 60;
  const hms = `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return days ? `${days} day${Math.abs(days) === 1 ? '' : 's'}, ${hms}` : hms;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// strftime('%b %d %I:%M %p') of time.localtime(epochSeconds), C locale.
function stoppedAt(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const hour12 = d.getHours() % 12 || 12;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${two(d.getDate())} ${two(hour12)}:${two(d.getMinutes())} ${d.getHours() < 12 ? 'AM' : 'PM'}`;
}

/** rpcinterface.py _interpretProcessInfo(): the `description` of getProcessInfo and `status`. */
export function interpretProcessInfo(info: InfoForDescription): string {
  switch (info.state) {
    case ProcessState.RUNNING: {
      // gmtime() drops the fractions; a clock set back shows 0:00:00.
      const uptime = Math.max(0, Math.trunc(info.now) - Math.trunc(info.start));
      return `pid ${info.pid}, uptime ${timedelta(uptime)}`;
    }
    case ProcessState.FATAL:
    case ProcessState.BACKOFF:
      return info.spawnerr || `unknown error (try "tail ${info.name}")`;
    case ProcessState.STOPPED:
    case ProcessState.EXITED:
      // Started but never reaped (stopped from BACKOFF) formats stop=0: the epoch.
      return info.start ? stoppedAt(info.stop) : 'Not started';
    default:
      return '';
  }
}

export interface ProcessInfoFields {
  start: number;
  stop: number;
  now: number;
  state: ProcessState;
  statename: ProcessStateName;
  spawnerr: string;
  exitstatus: number;
  pid: number;
  description: string;
}

/**
 * getProcessInfo's fields that come from the machine (name, group and the
 * logfiles come from the config). Monotonic times become epoch seconds
 * relative to the wall clock now: uptimes stay right when the clock steps.
 */
export function processInfo(
  config: Pick<MachineConfig, 'name'>,
  status: ProcessStatus,
  now: number,
  wall: number,
): ProcessInfoFields {
  const epoch = (t: number | null): number => (t === null ? 0 : cappedInt((wall - (now - t)) / 1000));
  const start = epoch(status.laststart);
  const stop = epoch(status.laststop);
  const nowSecs = cappedInt(wall / 1000);
  const spawnerr = status.spawnerr ?? '';
  // No object spreads: getAllProcessInfo builds this for every process on every call.
  const description = interpretProcessInfo({ name: config.name, state: status.state, start, stop, now: nowSecs, pid: status.pid, spawnerr });
  return {
    start,
    stop,
    now: nowSecs,
    state: status.state,
    statename: processStateName(status.state),
    spawnerr,
    exitstatus: status.exitstatus ?? 0,
    pid: status.pid,
    description,
  };
}
