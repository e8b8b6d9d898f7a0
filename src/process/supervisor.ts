// SPDX-License-Identifier: MIT
// Owns every process group: creates them in priority order, routes the native
// core's exit events to the right process, stops groups in reverse priority
// order on shutdown and reload, and reports state changes to whoever listens
// (the event system, RPC calls waiting for a state). supervisord.py's
// Supervisor, driven by events and timers instead of a 1 s poll loop.
import type { Model, ProcessGroupConfig } from '../config/model.js';
import type { MainLog } from '../log/main-log.js';
import type { IoCore, NativeEvent, SinkFaultEvent, SinkRecoveredEvent } from '../native/index.js';
import type { Clock, Timer } from './clock.js';
import { EventHub } from './event-hub.js';
import { ProcessGroup } from './group.js';
import { decodeWaitStatus, type EmitEffect } from './machine.js';
import { STOPPED_STATES, SupervisorState } from './states.js';
import type { ProcessHost, Subprocess } from './subprocess.js';

export interface StateChange {
  process: Subprocess;
  change: EmitEffect;
}

export interface SupervisorDeps {
  model: Model;
  core: IoCore;
  clock: Clock;
  log: MainLog;
  env: Record<string, string | undefined>;
  serverurl: string | null;
}

/** Every 3 s while shutting down, as supervisord's shutdown_report(). */
const SHUTDOWN_REPORT_MS = 3000;
/** How often a stop in progress looks again at the group it waits for. */
const STOP_POLL_MS = 100;

export class Supervisor {
  mood: SupervisorState = SupervisorState.RUNNING;
  model: Model;
  /** by name; iteration in insertion order, sorted by priority when needed */
  readonly groups = new Map<string, ProcessGroup>();
  private readonly byChild = new Map<number, Subprocess>();
  private readonly stateListeners = new Set<(c: StateChange) => void>();
  private readonly host: ProcessHost;
  private stopping: Promise<void> | null = null;
  /** supervisord's event system: state changes, log and capture events, listener pools */
  readonly events: EventHub;

  constructor(private readonly deps: SupervisorDeps) {
    this.model = deps.model;
    const s = deps.model.supervisord;
    this.host = {
      core: deps.core,
      clock: deps.clock,
      log: deps.log,
      env: deps.env,
      serverurl: deps.serverurl,
      childlogdir: s.childlogdir,
      identifier: s.identifier,
      stripAnsi: s.strip_ansi,
      register: (child, proc) => this.byChild.set(child, proc),
      stateChanged: (proc, change) => {
        this.events.stateChanged(proc, change);
        for (const l of this.stateListeners) l({ process: proc, change });
      },
      route: (proc, channel) => this.events.route(proc, channel),
      spawned: (proc) => this.events.spawned(proc),
    };
    this.events = new EventHub(deps.core, deps.log, s.identifier, (proc) => this.groups.get(proc.groupName));
  }

  get log(): MainLog {
    return this.deps.log;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  get core(): IoCore {
    return this.deps.core;
  }

  /**
   * supervisord.py run() + runforever(): every group added (pools subscribe,
   * PROCESS_GROUP_ADDED each), SUPERVISOR_STATE_CHANGE_RUNNING, then the
   * first transition: autostart in priority order.
   */
  start(): void {
    for (const g of this.model.groups) this.addProcessGroup(g, false);
    this.events.notify({ name: 'SUPERVISOR_STATE_CHANGE_RUNNING' });
    for (const g of this.sortedGroups()) g.transition();
  }

  onStateChange(listener: (c: StateChange) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Groups sorted by priority (then name, for a stable order), as supervisord sorts them. */
  sortedGroups(): ProcessGroup[] {
    return [...this.groups.values()].sort((a, b) => a.config.priority - b.config.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  addProcessGroup(config: ProcessGroupConfig, transition = true): boolean {
    if (this.groups.has(config.name)) return false;
    const group = new ProcessGroup(config, this.host);
    this.groups.set(config.name, group);
    this.events.groupAdded(group);
    if (transition) group.transition();
    return true;
  }

  /** False while any of its processes is not stopped (supervisord's STILL_RUNNING). */
  removeProcessGroup(name: string): boolean {
    const group = this.groups.get(name);
    if (!group) return false;
    if (group.unstopped().length) return false;
    group.dispose();
    this.events.groupRemoved(group);
    this.groups.delete(name);
    return true;
  }

  /** The native core's batch: exits go to their process; the rest is logged. */
  handleNative(events: NativeEvent[]): void {
    for (const e of events) {
      switch (e.kind) {
        case 'exit': {
          const proc = this.byChild.get(e.child);
          this.byChild.delete(e.child);
          if (proc) {
            proc.exited(e);
            this.events.exited(proc);
          } else this.log.info(`reaped unknown pid ${e.pid} (${decodeWaitStatus(e)[1]})`);
          break;
        }
        case 'tap': {
          const proc = this.byChild.get(e.child);
          if (proc) this.events.output(proc, e.stream, e.data);
          break;
        }
        case 'tap-dropped':
          this.tapDropped(e.pid, e.stream, e.bytes);
          break;
        case 'orphan':
          this.log.info(`reaped unknown pid ${e.pid} (${decodeWaitStatus(e)[1]})`);
          break;
        case 'sink-fault':
        case 'sink-recovered':
          this.sinkEpisode(e);
          break;
        default:
          break;
      }
    }
  }

  // One line when a log file's fault episode starts (the native side reports
  // each episode once) and one when it ends, saying what happens to the bytes.
  private sinkEpisode(e: SinkFaultEvent | SinkRecoveredEvent): void {
    const file = this.deps.core.sinkPath(e.sink) ?? `#${e.sink}`;
    if (e.kind === 'sink-recovered') {
      if (e.op === 'rotate') this.log.info(`log file ${file}: rotation works again`);
      else this.log.info(`log file ${file}: writable again; ${e.dropped} bytes were dropped meanwhile`);
    } else if (e.op === 'rotate') {
      this.log.warn(`log file ${file}: rotation failed (${e.code}); output still goes to the open file, past its maximum size, and rotation is retried every second`);
    } else if (e.op === 'open') {
      this.log.error(`log file ${file}: cannot open it (${e.code}); output is dropped until it can be opened (tried every second)`);
    } else {
      this.log.error(`log file ${file}: write failed (${e.code}); output is dropped until writing works again`);
    }
  }

  // Only channels that also have a log file can drop tap bytes (their output is
  // on disk; only PROCESS_LOG events are missing). One line a second at most.
  private dropped = { bytes: 0, since: -Infinity };
  private tapDropped(pid: number, stream: string, bytes: number): void {
    this.dropped.bytes += bytes;
    const now = this.deps.clock.now();
    if (now - this.dropped.since < 1000) return;
    this.log.error(
      `${this.dropped.bytes} bytes of output (latest: ${stream} of pid ${pid}) got no PROCESS_LOG events: the event system fell behind; the log files have every byte`,
    );
    this.dropped = { bytes: 0, since: now };
  }

  allProcesses(): Subprocess[] {
    const out: Subprocess[] = [];
    for (const g of this.sortedGroups()) out.push(...g.processes.values());
    return out;
  }

  reopenLogs(): void {
    for (const g of this.groups.values()) g.reopenLogs();
  }

  /** SHUTDOWN or RESTARTING: no more automatic starts, scheduled runs included. */
  setMood(mood: SupervisorState): void {
    this.mood = mood;
    for (const g of this.groups.values()) {
      for (const p of g.processes.values()) {
        p.feed({ kind: 'mood', mood });
        if (mood <= SupervisorState.RESTARTING) p.stopSchedule();
      }
    }
  }

  /**
   * Stops everything, one group at a time from the highest priority number
   * down (ordered_stop_groups_phase_1/2), and resolves when nothing runs.
   * mood is SHUTDOWN or RESTARTING.
   */
  stopAll(mood: SupervisorState): Promise<void> {
    if (this.stopping) return this.stopping;
    this.setMood(mood);
    this.events.notify({ name: 'SUPERVISOR_STATE_CHANGE_STOPPING' });
    const clock = this.deps.clock;
    this.stopping = new Promise<void>((resolve) => {
      const queue = this.sortedGroups();
      // supervisord starts from lastshutdownreport = 0: the first report is at once.
      let lastReport = -Infinity;
      let timer: Timer | null = null;
      let off: (() => void) | null = null;
      const pump = (): void => {
        while (queue.length) {
          const g = queue[queue.length - 1]!;
          g.stopAll();
          if (g.unstopped().length) break;
          queue.pop();
        }
        const unstopped = this.allProcesses().filter((p) => !STOPPED_STATES.includes(p.state));
        if (!unstopped.length) {
          timer?.cancel();
          off?.();
          resolve();
          return;
        }
        const now = clock.now();
        if (now > lastReport + SHUTDOWN_REPORT_MS) {
          this.log.info(`waiting for ${unstopped.map((p) => p.name).join(', ')} to die`);
          lastReport = now;
        }
        timer?.cancel();
        timer = clock.setTimer(now + STOP_POLL_MS, pump);
      };
      // React to each stop at once; the timer covers the reports.
      off = this.onStateChange(() => queueMicrotask(pump));
      pump();
    }).finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  /** Shutdown is over: timers cancelled, files closed. */
  dispose(): void {
    for (const g of this.groups.values()) g.dispose();
    this.groups.clear();
    this.events.dispose();
  }
}
