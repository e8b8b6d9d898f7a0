// SPDX-License-Identifier: MIT
// The shapes shared by scenarios (the work), peers (who does it) and the
// runner: a Work is what every peer is asked to run, a PeerSession is one
// peer running it, a TrialResult is what one run measured.

export type ScenarioName = 'bulk' | 'chatty' | 'many' | 'rpc' | 'crashloop' | 'deps' | 'scale';

export interface ProgramSpec {
  /** program name: w0, w1, … (supervisord's [program:wN]) */
  name: string;
  /** argv[0] is an absolute path */
  argv: string[];
  /** its log file; rotated files are log.1, log.2, … */
  log: string;
  /** bytes it writes in total (0 for sleep) */
  expectedBytes: number;
}

export interface Work {
  kind: ScenarioName;
  programs: ProgramSpec[];
  /** holds the programs' logs and nothing else */
  logDir: string;
  /** rotation: 0 = never */
  maxbytes: number;
  backups: number;
  /** rotate_every in seconds, for the peers that rotate by time (fastvisor-gzip); unset: none */
  rotateEverySec?: number;
  /** seconds a program must stay up to count as RUNNING (many) */
  startsecs: number;
  /** TOKEN_VAR's value in every program's environment (see lib/procs.ts) */
  token: string;
  /** a scratch directory for this peer's own files (config, sockets) */
  scratch: string;
  /** how often to stat the logs when a peer cannot say itself that its output is on disk, ms */
  pollMs: number;
  /**
   * More supervisord.conf, for daemon peers: lines added to [supervisord], and
   * whole sections after the programs' (crashloop's [program:c] with numprocs
   * and its [eventlistener]).
   */
  conf?: { supervisord?: string[]; sections?: string[] };
  /**
   * One path every program's output goes to instead of its own log (a FIFO
   * standing for the daemon's stdout, read by a collector): peers that can.
   */
  collect?: string;
}

export interface TrialContext {
  repoRoot: string;
  tmp: string;
  quick: boolean;
  bins: { writer: string; pump: string };
  /** the pm2 CLI, when the runner found one */
  pm2?: string;
  /** --pin: the programs run on CPU 0, the peer's process on CPU 1 (see lib/pin.ts) */
  pin: boolean;
}

/** One peer running one Work. The pid is the process whose CPU and memory are measured. */
export interface PeerSession {
  readonly pid: number;
  /** the unix socket it answers supervisord's XML-RPC on, for peers that are daemons */
  readonly rpcSocket?: string;
  /** Set up and idle, nothing spawned yet: the CPU baseline is read here. */
  ready(timeout: number): Promise<void>;
  /** Start every program; resolves once the peer has spawned them all. */
  go(): Promise<void>;
  /** Every program has exited and all its output is in the log files. */
  finished(timeout: number): Promise<FinishInfo>;
  /** Every program is RUNNING (up for startsecs); what the peer says about itself, when it can. */
  allRunning(timeout: number): Promise<Record<string, unknown> | undefined>;
  /** Orderly stop (programs still running are stopped by the peer itself); kills by pid on timeout. */
  stop(timeout: number): Promise<StopInfo>;
}

export interface FinishInfo {
  /** how completion was seen */
  via: string;
  /** what the peer says about itself (getrusage, counters), when it can */
  self?: Record<string, unknown>;
}

export interface StopInfo {
  /** the peer exited on its own (rather than by our SIGKILL) */
  clean: boolean;
}

export interface PeerDef {
  name: string;
  /** a line for the table's legend */
  describe: string;
  launch(work: Work, ctx: TrialContext): PeerSession;
}

export interface TrialResult {
  scenario: ScenarioName;
  case: string;
  peer: string;
  run: number;
  ok: boolean;
  error?: string;
  /** bulk: go → all bytes on disk; many: launch → all RUNNING; chatty: go → all exited */
  wallSec?: number;
  expectedBytes?: number;
  bytesOnDisk?: number;
  lostBytes?: number;
  /** bytesOnDisk / wallSec / 1e9 */
  throughputGBs?: number;
  /** pump CPU seconds over the measured window */
  cpuSec?: number;
  /** chatty: CPU % of one core over the steady window */
  cpuPct?: number;
  /** bulk, chatty: how long starting every program took the peer (go → all spawned), seconds */
  goSec?: number;
  /** chatty: the steady window, seconds after go */
  window?: [number, number];
  /** VmHWM of the pump process, KiB */
  peakRssKB?: number;
  /** chatty: age of the newest line on disk, sampled in the steady window */
  lagMs?: { p50: number; p99: number; max: number; samples: number };
  /** how long the peer's orderly stop took, seconds */
  stopSec?: number;
  /** rpc: VmRSS of the daemon once every program is RUNNING, KiB */
  rssKB?: number;
  /** rpc: getAllProcessInfo as a client sees it */
  rpc?: RpcMeasure;
  /** crashloop: what the window measured */
  crash?: CrashMeasure;
  /** crashloop's backoff cases: what the window measured */
  backoff?: BackoffMeasure;
  /** processes carrying the trial token still alive after the peer stopped */
  leftover: number;
  via?: string;
  self?: Record<string, unknown>;
  notes: string[];
}

export interface RpcMeasure {
  /** processes in each answer */
  processes: number;
  /** bytes of one answer */
  responseBytes: number;
  /** one call at a time on one keep-alive connection: request sent → last byte received, ms */
  latencyMs: { p50: number; p99: number; calls: number };
  /** calls completed per second, one connection, one call at a time */
  rateSerial: number;
  /** calls completed per second with `concurrency` connections each keeping one call in flight */
  rateConcurrent: number;
  concurrency: number;
  /** daemon CPU ms per call over the concurrent window */
  cpuMsPerCall?: number;
}

export interface CrashMeasure {
  programs: number;
  /** the measured window, seconds (after start-up and warm-up) */
  windowSec: number;
  /** CPU-saturating busy loops running during the whole trial */
  burners: number;
  /** the 1-minute load average as the window began (the trial's own busy loops and programs included) */
  loadAvg1: number;
  /** 'spawned:' lines for the crash-loop programs in the daemon's main log, timestamped inside the window */
  spawns: number;
  restartsPerSec: number;
  /** at the window's end: getAllProcessInfo entries RUNNING whose pid is alive (not a zombie) */
  aliveAtEnd?: number;
  /** that getAllProcessInfo answer: c_NNN entries by statename */
  statesAtEnd?: Record<string, number>;
  /** at the window's end, from /proc: children of the daemon other than the listener */
  childrenAtEnd: number;
  /** supervisor.getState every 100 ms over the unix socket during the window, ms */
  getStateMs: { p50: number; p99: number; max: number; calls: number; censored: number };
  /** PROCESS_STATE events, by the pool serials (poolserial:) the listener saw in the window */
  events: {
    /** events the listener received in the window */
    received: number;
    /** received / window: what the daemon and the listener got through */
    deliveredPerSec: number;
    /** pool serials the daemon gave out between the first and the last received: what it generated for the pool */
    generated: number;
    lost: number;
    lostPct: number;
    /** 'event buffer overflowed, discarding event' lines in the main log inside the window */
    overflowLogged: number;
    /** 'spawned:' + 'success:' + 'exited:' lines for the crash-loop programs in the window (3 events a cycle) */
    loggedTransitions: number;
  };
  /** the daemon's CPU over the window, % of one core (all its threads) */
  daemonCpuPct?: number;
  /** time its threads spent runnable on a run queue, not running, % of the window (summed over threads) */
  daemonRunqWaitPct?: number;
}

/**
 * crashloop's backoff cases: programs that fail every start (BACKOFF, forever)
 * with exponential waits at their cap; no listener, no busy loops, no RPC
 * client during the window: the daemon's own cost and how its restarts are
 * spread over time.
 */
export interface BackoffMeasure {
  programs: number;
  /** backoff_jitter, % */
  jitterPct: number;
  /** backoff_max, seconds */
  capSec: number;
  /** the measured window, seconds */
  windowSec: number;
  /** from the last program's first 'spawned:' line to the window's start, seconds */
  warmupSec: number;
  /** 'spawned:' lines for the programs in the main log, timestamped inside the window */
  spawns: number;
  restartsPerSec: number;
  /**
   * The sum over programs of 1 / (each one's mean interval between its spawns
   * in the window): the steady rate, free of how many in-step bursts happen to
   * fall inside the window (with 0% jitter the count moves in steps of N)
   */
  restartsPerSecByPeriod?: number;
  /** the daemon's CPU over the window, % of one core (all its threads) */
  daemonCpuPct?: number;
  /** daemon CPU ms over the window per spawn in it */
  cpuMsPerRestart?: number;
  /** time its threads spent runnable on a run queue, not running, % of the window */
  daemonRunqWaitPct?: number;
  /** the spawns by bucketMs buckets of the window (from its start) */
  bucketMs: number;
  peakPerBucket: number;
  meanPerBucket: number;
  /** peakPerBucket / meanPerBucket: 1 is perfectly flat */
  peakOverMean: number;
  /** the spawns by whole seconds of the window: min, max, and coefficient of variation (population stddev / mean) */
  perSec: { min: number; max: number; cv: number };
}
