// SPDX-License-Identifier: MIT
// The state machine of one supervised process, rule for rule supervisord's
// process.py Subprocess: (state, event, now) -> next state + effects as data.
// Pure: `now` is Clock.now() (monotonic ms), `random` the jitter's dice;
// subprocess.ts carries out the effects. fastvisor's backoff options
// (backoff*, restart_delay, startretries=forever) change the waits only when
// set: with their defaults every line and event is 4.2.5's.
import { constants } from 'node:os';

import type { FastvisorProgramOptions, ProcessConfig } from '../config/model.js';
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
> & {
  /** fastvisor's backoff options; absent (or all at their defaults): supervisord's waits */
  readonly fastvisor?: BackoffOptions;
  /**
   * depends_on (fastvisor): a start first waits in STARTING, without a child,
   * until the driver answers `dependenciesMet` (or `dependencyFailed`).
   */
  readonly dependsOn?: boolean;
  /**
   * ready=notify or ready=log: (fastvisor): STARTING becomes RUNNING on a
   * `ready` event, and startsecs is the deadline for it (0: no deadline).
   * Absent or 'startsecs': supervisord's rule.
   */
  readonly readyBy?: 'startsecs' | 'signal';
};

/** The fastvisor-only options that shape the waits between starts. */
export type BackoffOptions = Pick<
  FastvisorProgramOptions,
  'backoff' | 'backoff_initial' | 'backoff_max' | 'backoff_jitter' | 'backoff_reset_after' | 'restart_delay'
>;

/** The defaults (fastvisor-options.ts): with these, every wait is supervisord's. */
export const defaultBackoff: Readonly<BackoffOptions> = {
  backoff: 'linear',
  backoff_initial: 1,
  backoff_max: 300,
  backoff_jitter: 0,
  backoff_reset_after: 600,
  restart_delay: 0,
};

/** startretries=forever (or -1): BACKOFF never gives up. Other negatives keep supervisord's meaning. */
export const FOREVER = -1;

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
  /** when the first failed try of this `backoff` count was (fastvisor's description) */
  readonly backoffSince: number | null;
  /**
   * BACKOFF is waiting out restart_delay after an exit from RUNNING (fastvisor),
   * not a failed start: no tries counted, no FATAL at the end.
   */
  readonly restartWait: boolean;
  /** exits from RUNNING that waited restart_delay since the count last started over (backoff_reset_after, a stop or start by hand) */
  readonly restarts: number;
  /** when the first of those exits was */
  readonly restartsSince: number | null;
  /** when the current BACKOFF wait began */
  readonly waitFrom: number | null;
  /** a kill() went out and the child is not reaped yet (sendProcessStdin refuses) */
  readonly killing: boolean;
  /** STARTING without a child: waiting for depends_on (fastvisor) */
  readonly waiting: boolean;
  /** STOPPING because it was not ready within startsecs: the exit is a failed start (BACKOFF) */
  readonly readyMissed: boolean;
  /** STOPPING for a restart (health check, watchdog, a dependency's restart): start again once stopped */
  readonly restarting: boolean;
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
  backoffSince: null,
  restartWait: false,
  restarts: 0,
  restartsSince: null,
  waitFrom: null,
  killing: false,
  waiting: false,
  readyMissed: false,
  restarting: false,
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
  /**
   * the child was reaped: finish(). cause (fastvisor) replaces the decoded
   * status in the lines, e.g. `killed by the OOM killer (memory_max 512MB)`.
   */
  | { kind: 'exited'; pid: number; code: number | null; signal: number | null; coreDumped?: boolean; cause?: string; oomKilled?: boolean }
  /** a kill effect failed; code is the errno name, message the error text */
  | { kind: 'killFailed'; purpose: KillPurpose; code: string; message: string }
  /** time passed (a timer fired, or the driver looks in: once when the process is created, for autostart): transition() */
  | { kind: 'tick' }
  /** depends_on holds now: a waiting start goes ahead (fastvisor) */
  | { kind: 'dependenciesMet' }
  /** a dependency cannot come up (FATAL, exited): a waiting start fails (fastvisor) */
  | { kind: 'dependencyFailed'; message: string }
  /** the child said it is ready (sd_notify READY=1, a matching output line): STARTING -> RUNNING (fastvisor) */
  | { kind: 'ready'; how: string }
  /** stop, then start again (health check, watchdog, restart_dependents; fastvisor) */
  | { kind: 'restart'; reason: string };

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
  /**
   * depends_on: ask whether the dependencies hold; answer with dependenciesMet
   * or dependencyFailed, now or later. pull: start the ones that are down
   * (a start by hand or autostart; not an automatic restart).
   */
  | { kind: 'awaitDependencies'; pull: boolean }
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
  /** this step's exit was an OOM kill in the program's cgroup (fastvisor): `oom_killed:1` in the payload */
  oomKilled = false;

  constructor(
    readonly config: MachineConfig,
    readonly s: Mutable<ProcessStatus>,
    readonly now: number,
    /** uniform in [0, 1): the jitter of a wait scheduled in this step */
    readonly random: number,
  ) {}

  log(level: LogLevel, message: string): void {
    this.effects.push({ kind: 'log', level, message });
  }

  // process.py change_state(): entering BACKOFF is what counts a try and sets
  // the delay (1 s, 2 s, 3 s ...; fastvisor's backoff rule when its options
  // are in use); the event payload is rendered now, before finish() clears
  // the pid. A restart_delay wait has set its own delay and counts no try.
  changeState(to: ProcessState, expected = true): void {
    const from = this.s.state;
    if (to === from) return;
    this.s.state = to;
    if (to === ProcessState.BACKOFF) {
      this.s.waitFrom = this.now;
      if (!this.s.restartWait) {
        this.s.backoff += 1;
        if (this.s.backoff === 1) this.s.backoffSince = this.now;
        this.s.delay = this.now + retryWait(this.config, this.s.backoff, this.random);
      }
    }
    const extra: Array<readonly [string, number]> = [];
    if (to === ProcessState.STARTING || to === ProcessState.BACKOFF) extra.push(['tries', this.s.backoff]);
    else if (to === ProcessState.EXITED) extra.push(['expected', expected ? 1 : 0], ['pid', this.s.pid]);
    // fastvisor (programs with a cgroup): the exit was the OOM killer's; listeners
    // that split on spaces and colons read one more key.
    if (this.oomKilled && (to === ProcessState.EXITED || to === ProcessState.BACKOFF || to === ProcessState.STOPPED)) extra.push(['oom_killed', 1]);
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
// transition()'s `self.backoff <= self.config.startretries`, or forever.
const retriesLeft = (config: MachineConfig, backoff: number): boolean =>
  config.startretries === FOREVER || backoff <= config.startretries;

const BACKOFF_KEYS = Object.keys(defaultBackoff) as Array<keyof BackoffOptions>;

/**
 * Whether fastvisor's backoff rules apply: startretries=forever, or any backoff
 * option off its default. Otherwise every wait, line and event is 4.2.5's
 * (no backoff_max cap on supervisord's 1 s, 2 s, 3 s … either).
 */
export function backoffInUse(config: MachineConfig): boolean {
  if (config.startretries === FOREVER) return true;
  const f = config.fastvisor;
  return f !== undefined && BACKOFF_KEYS.some((k) => f[k] !== defaultBackoff[k]);
}

/**
 * The n-th wait (n >= 1) in ms from a base in seconds: n x base (linear) or
 * base x 2^(n-1) (exponential), at most backoff_max, then shortened by up to
 * backoff_jitter at random: x (1 - jitter x random), random in [0, 1).
 */
export function backoffWait(f: BackoffOptions, n: number, base: number, random: number): number {
  const grown = f.backoff === 'exponential' ? base * 2 ** (n - 1) : n * base;
  const r = Math.min(Math.max(random, 0), 1);
  return secs(Math.min(grown, f.backoff_max)) * (1 - f.backoff_jitter * r);
}

// The wait before try n+1 after n failed tries: supervisord's n seconds, or the backoff rule.
function retryWait(config: MachineConfig, n: number, random: number): number {
  if (!backoffInUse(config)) return n * 1000;
  const f = config.fastvisor ?? defaultBackoff;
  return backoffWait(f, n, f.backoff_initial, random);
}

/** "0.05 s", "31.7 s", "2 min", "1.5 h", "2 d": a wait or a span for people. */
export function humanDuration(ms: number): string {
  const trim = (x: number, places: number): string => String(Number(x.toFixed(places)));
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${trim(s, 2)} s`;
  if (s < 100) return `${trim(s, 1)} s`;
  if (s < 3600) return `${trim(s / 60, 1)} min`;
  if (s < 172800) return `${trim(s / 3600, 1)} h`;
  return `${trim(s / 86400, 1)} d`;
}

const times = (n: number): string => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);

// The main log's line for a retry that will come, with fastvisor's options only.
function announceRetry(w: Work): void {
  const { s, config } = w;
  if (!backoffInUse(config) || !moodAllowsStarts(w) || !retriesLeft(config, s.backoff) || s.delay === null) return;
  const rule = (config.fastvisor ?? defaultBackoff).backoff;
  w.log('info', `waiting ${humanDuration(s.delay - w.now)} before starting '${config.name}' again (attempt ${s.backoff + 1}, ${rule} backoff)`);
}

// A stop or start by hand ends a run of restart_delay waits: the next exit waits restart_delay again.
function forgetRestarts(s: Mutable<ProcessStatus>): void {
  s.restartWait = false;
  s.restarts = 0;
  s.restartsSince = null;
}

function nothing(): void {}

// spawn(), up to the fork: the parent-side checks and the fork itself are the
// spawn effect, which answers with `spawned` or `spawnFailed`. With depends_on
// (fastvisor) the process first waits in STARTING for its dependencies; `pull`
// says whether they may be started for it (by hand, autostart) or only waited
// for (autorestart, a retry).
function spawn(w: Work, pull = false): void {
  const s = w.s;
  s.killing = false;
  s.spawnerr = null;
  s.exitstatus = null;
  s.laststart = w.now;
  s.restartWait = false;
  s.readyMissed = false;
  s.restarting = false;
  if (w.config.dependsOn && !s.waiting) {
    s.waiting = true;
    w.changeState(ProcessState.STARTING);
    w.effects.push({ kind: 'awaitDependencies', pull });
    return;
  }
  s.waiting = false;
  w.changeState(ProcessState.STARTING);
  w.effects.push({ kind: 'spawn' });
}

// startProcess (or a start fed directly in BACKOFF, which rpc refuses with
// ALREADY_STARTED): spawn() at once, cancelling any wait.
function startByHand(w: Work): void {
  forgetRestarts(w.s);
  spawn(w, true);
}

// STARTING, waiting -> STARTING with a child: the dependencies hold (fastvisor).
function dependenciesMet(w: Work): void {
  if (w.s.waiting) spawn(w);
}

// STARTING, waiting -> FATAL: a dependency cannot come up (fastvisor). No try
// was made, so no BACKOFF: retrying could not help until someone acts.
function dependencyFailed(w: Work, e: EventOf<'dependencyFailed'>): void {
  if (!w.s.waiting) return;
  w.s.waiting = false;
  w.s.spawnerr = e.message;
  giveUp(w);
  w.log('info', `gave up: ${w.config.name} entered FATAL state, ${e.message}`);
}

// STARTING -> RUNNING on the child's word (fastvisor's ready=notify / ready=log:).
function becameReady(w: Work, e: EventOf<'ready'>): void {
  const s = w.s;
  if (w.config.readyBy !== 'signal' || !s.pid || s.killing) return;
  s.delay = null;
  s.backoff = 0;
  w.changeState(ProcessState.RUNNING);
  w.log('info', `success: ${w.config.name} entered RUNNING state, ${e.how}`);
}

// A stop that starts the process again once it is down (fastvisor): health
// checks, the watchdog, a dependency's restart.
function restart(w: Work, e: EventOf<'restart'>): void {
  const s = w.s;
  if (!s.pid || s.killing) return;
  w.log('warn', `restarting ${w.config.name}: ${e.reason}`);
  stop(w);
  if (s.killing) s.restarting = true;
}

// STARTING while waiting for dependencies: a stop just ends the wait (fastvisor).
function stopWaiting(w: Work): boolean {
  if (!w.s.waiting) return false;
  w.s.waiting = false;
  w.log('info', `stopped: ${w.config.name} (was waiting for its dependencies)`);
  w.changeState(ProcessState.STOPPED);
  return true;
}

function stopInStarting(w: Work): void {
  if (!stopWaiting(w)) stop(w);
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
  w.s.restarting = false;
  w.s.readyMissed = false;
  forgetRestarts(w.s);
  kill(w, w.config.stopsignal);
}

// stop_all() in BACKOFF: a failed start gives up (FATAL, as supervisord); a
// restart_delay wait (fastvisor) is a process that ran, so it just stops.
function stopAllInBackoff(w: Work): void {
  if (w.s.restartWait) stop(w);
  else giveUp(w);
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
  w.s.restartWait = false;
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
  const [es, decoded] = decodeWaitStatus(e);
  const msg = e.cause ?? decoded;
  w.oomKilled = e.oomKilled === true;
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
    if (s.readyMissed) {
      // Not ready within startsecs (fastvisor): a failed try, as an early exit is.
      s.readyMissed = false;
      s.exitstatus = null;
      // STOPPING -> BACKOFF
      w.changeState(ProcessState.BACKOFF);
      w.log('warn', `exited: ${w.config.name} (${msg}; not ready in time)`);
      announceRetry(w);
      return;
    }
    s.exitstatus = es;
    w.changeState(ProcessState.STOPPED);
    w.log(w.config.exitcodes.includes(es) ? 'info' : 'warn', `stopped: ${w.config.name} (${msg})`);
    if (s.restarting) {
      s.restarting = false;
      // STOPPED -> STARTING: the second half of a restart (fastvisor)
      if (moodAllowsStarts(w)) spawn(w);
    }
  });
}

// finish() for a child that was not being stopped: too quickly (before
// startsecs) is a failed try whatever the exit code; otherwise RUNNING -> EXITED.
function exitedOnItsOwn(w: Work, e: EventOf<'exited'>): void {
  reaped(w, e, (es, msg) => {
    const { s, config } = w;
    // With ready=notify / ready=log: (fastvisor) an exit before the child said
    // it is ready is a failed start too, whenever it comes.
    const tooQuickly =
      (s.laststart !== null && w.now < startDeadline(config, s.laststart)) ||
      (config.readyBy === 'signal' && s.state === ProcessState.STARTING);
    if (tooQuickly) {
      s.exitstatus = null;
      s.spawnerr = 'Exited too quickly (process log may have details)';
      // STARTING -> BACKOFF
      w.changeState(ProcessState.BACKOFF);
      w.log('warn', `exited: ${config.name} (${msg}; not expected)`);
      announceRetry(w);
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
  announceRetry(w);
}

// EXITED -> BACKOFF (fastvisor, restart_delay > 0): wait before the
// autorestart. The n-th exit from RUNNING in a row waits restart_delay grown
// by the backoff rule; a run of backoff_reset_after or more starts the count
// over. BACKOFF because the process is meant to run: stopProcess and stop all
// cancel the wait, startProcess answers ALREADY_STARTED, no new state code.
function waitToRestart(w: Work, f: BackoffOptions): void {
  const { s, config } = w;
  const exitAt = s.laststop ?? w.now;
  // How long the run that just ended was RUNNING: from startsecs after the spawn to the exit.
  const ran = s.laststart !== null ? exitAt - startDeadline(config, s.laststart) : 0;
  if (s.restarts === 0 || ran >= secs(f.backoff_reset_after)) {
    s.restarts = 0;
    s.restartsSince = exitAt;
  }
  s.restarts += 1;
  s.delay = w.now + backoffWait(f, s.restarts, f.restart_delay, w.random);
  s.restartWait = true;
  w.changeState(ProcessState.BACKOFF);
  w.log('info', `waiting ${humanDuration(s.delay - w.now)} before restarting '${config.name}' (restart ${s.restarts}, ${f.backoff} backoff)`);
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
    if (w.s.laststart === null && w.config.autostart && moodAllowsStarts(w)) spawn(w, true);
  },
  starting(w: Work): void {
    const { s, config } = w;
    // STARTING -> RUNNING once the child has stayed up startsecs. process.py
    // has `>` on a 1 s poll loop; a timer fires at the deadline itself.
    if (s.pid && config.readyBy === 'signal') {
      // ready=notify / ready=log: (fastvisor): startsecs is the deadline for
      // the child's word; missing it is a failed start (BACKOFF once reaped).
      if (!s.killing && config.startsecs > 0 && s.laststart !== null && w.now >= startDeadline(config, s.laststart)) {
        w.log('warn', `${config.name} was not ready within ${config.startsecs} seconds (startsecs)`);
        s.spawnerr = `not ready within ${config.startsecs} seconds (startsecs)`;
        s.readyMissed = true;
        kill(w, config.stopsignal);
      }
      return;
    }
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
    if (s.restartWait) {
      // BACKOFF -> STARTING: restart_delay is over (fastvisor)
      if (moodAllowsStarts(w) && s.delay !== null && w.now >= s.delay) spawn(w);
      return;
    }
    if (moodAllowsStarts(w) && retriesLeft(config, s.backoff) && s.delay !== null && w.now >= s.delay) {
      // BACKOFF -> STARTING
      spawn(w);
    } else if (!retriesLeft(config, s.backoff)) {
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
    // not in exitcodes. No delay (backoff only guards the way to RUNNING),
    // unless fastvisor's restart_delay is set.
    const unexpected = s.exitstatus === null || !config.exitcodes.includes(s.exitstatus);
    if (config.autorestart === 'true' || (config.autorestart === 'unexpected' && unexpected)) {
      // EXITED -> BACKOFF with restart_delay (fastvisor)
      const f = config.fastvisor;
      if (f && f.restart_delay > 0) waitToRestart(w, f);
      else spawn(w);
    }
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
    start: startByHand,
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
    dependenciesMet: nothing,
    dependencyFailed: nothing,
    ready: nothing,
    restart: nothing,
  },
  [ProcessState.STARTING]: {
    start: alreadyRunning,
    // STARTING -> STOPPING: stop() (no success line, no RUNNING); waiting for depends_on -> STOPPED
    stop: stopInStarting,
    signal: signal,
    // STARTING -> STOPPING: stop_all()
    stopAll: stopInStarting,
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
    // fastvisor: depends_on, readiness, restarts
    dependenciesMet: dependenciesMet,
    dependencyFailed: dependencyFailed,
    ready: becameReady,
    restart: restart,
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
    dependenciesMet: nothing,
    dependencyFailed: nothing,
    ready: nothing,
    // RUNNING -> STOPPING -> STOPPED -> STARTING (fastvisor)
    restart: restart,
  },
  [ProcessState.BACKOFF]: {
    // BACKOFF -> STARTING: spawn(); rpc answers ALREADY_STARTED first, so only transition() gets here
    start: startByHand,
    // BACKOFF -> STOPPED: kill()
    stop: stop,
    // signal() with no pid: "wasn't running"
    signal: signal,
    // BACKOFF -> FATAL: stop_all() gives up, without the "gave up" line;
    // BACKOFF -> STOPPED for a restart_delay wait (fastvisor)
    stopAll: stopAllInBackoff,
    mood: setMood,
    stopReport: nothing,
    spawned: nothing,
    spawnFailed: nothing,
    // no child: "reaped unknown pid"
    exited: reapedUnknown,
    killFailed: killFailed,
    // BACKOFF -> STARTING after the delay, BACKOFF -> FATAL past startretries
    // (never with startretries=forever, nor after a restart_delay wait): transition()
    tick: tick.backoff,
    dependenciesMet: nothing,
    dependencyFailed: nothing,
    ready: nothing,
    restart: nothing,
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
    dependenciesMet: nothing,
    dependencyFailed: nothing,
    ready: nothing,
    restart: nothing,
  },
  [ProcessState.EXITED]: {
    // EXITED -> STARTING: spawn()
    start: startByHand,
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
    // EXITED -> STARTING: autorestart, transition(); EXITED -> BACKOFF with restart_delay (fastvisor)
    tick: tick.exited,
    dependenciesMet: nothing,
    dependencyFailed: nothing,
    ready: nothing,
    restart: nothing,
  },
  [ProcessState.FATAL]: {
    // FATAL -> STARTING: spawn()
    start: startByHand,
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
    dependenciesMet: nothing,
    dependencyFailed: nothing,
    ready: nothing,
    restart: nothing,
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
    dependenciesMet: nothing,
    dependencyFailed: nothing,
    ready: nothing,
    restart: nothing,
  },
};

// The one deadline each state waits for; none means no timer.
function deadline(config: MachineConfig, s: ProcessStatus): number | null {
  switch (s.state) {
    case ProcessState.STARTING:
      if (config.readyBy === 'signal' && (config.startsecs <= 0 || s.killing)) return null;
      return s.pid && s.laststart !== null ? startDeadline(config, s.laststart) : null;
    case ProcessState.BACKOFF:
      return s.mood > SupervisorState.RESTARTING && (s.restartWait || retriesLeft(config, s.backoff)) ? s.delay : null;
    case ProcessState.STOPPING:
      return s.delay;
    default:
      return null;
  }
}

const TICK: EventOf<'tick'> = { kind: 'tick' };

/**
 * One event. `random` (uniform in [0, 1), Math.random() in the driver) is the
 * jitter of any wait this step schedules; tests pass fixed values.
 */
export function step(config: MachineConfig, status: ProcessStatus, event: MachineEvent, now: number, random = 0): Step {
  const w = new Work(config, { ...status }, now, random);
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
  /** BACKOFF waiting out restart_delay (fastvisor): no start failed, so no "unknown error" */
  restartWait?: boolean;
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
    case ProcessState.BACKOFF:
      // After an expected exit there is no error to show; backoffNote() says the rest.
      if (info.restartWait) return info.spawnerr;
      return info.spawnerr || `unknown error (try "tail ${info.name}")`;
    case ProcessState.FATAL:
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
  const description = interpretProcessInfo({
    name: config.name,
    state: status.state,
    start,
    stop,
    now: nowSecs,
    pid: status.pid,
    spawnerr,
    restartWait: status.restartWait,
  });
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

/**
 * fastvisor's note to the description of a process waiting in BACKOFF, with
 * its backoff options in use: `exited 3 times in 2 min; next start in 32 s`
 * (a restart_delay wait) or `failed to start twice in 1.5 s; next start in 4 s`.
 * null otherwise, so the description stays supervisord's.
 */
export function backoffNote(config: MachineConfig, status: ProcessStatus, now: number): string | null {
  if (status.state !== ProcessState.BACKOFF || !backoffInUse(config)) return null;
  const [what, n, since] = status.restartWait
    ? ['exited', status.restarts, status.restartsSince]
    : ['failed to start', status.backoff, status.backoffSince];
  const span = n > 1 && since !== null && status.waitFrom !== null ? ` in ${humanDuration(status.waitFrom - since)}` : '';
  const head = `${what} ${times(n)}${span}`;
  const next = deadline(config, status);
  return next === null ? head : `${head}; next start in ${humanDuration(next - now)}`;
}
