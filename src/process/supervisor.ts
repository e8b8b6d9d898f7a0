// SPDX-License-Identifier: MIT
// Owns every process group: creates them in priority order, routes the native
// core's exit events to the right process, stops groups in reverse priority
// order on shutdown and reload, and reports state changes to whoever listens
// (the event system, RPC calls waiting for a state). supervisord.py's
// Supervisor, driven by events and timers instead of a 1 s poll loop.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Model, ProcessGroupConfig } from '../config/model.js';
import type { MainLog } from '../log/main-log.js';
import { SYSLOG_SINK, type IoCore, type NativeEvent, type SinkFaultEvent, type SinkRecoveredEvent } from '../native/index.js';
import type { Clock, Timer } from './clock.js';
import { wantsCgroup } from './cgroup-plan.js';
import { Cgroups } from './cgroups.js';
import { DependencyGate } from './dependency-gate.js';
import { EventHub } from './event-hub.js';
import { FcgiSocket } from './fcgi-sockets.js';
import type { CheckChild } from './health-command.js';
import type { HealthStatus } from './health.js';
import { ProcessGroup } from './group.js';
import { decodeWaitStatus, processInfo, type EmitEffect } from './machine.js';
import { ProcessStats, type ProcessFigures } from './stats.js';
import { ProcessState, STOPPED_STATES, SupervisorState } from './states.js';
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
  /** a process's cgroup memory (memory.current), where it has a cgroup: the figures show it instead of RSS */
  memoryCurrent?: (proc: Subprocess) => number | null;
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
  private lexical: Array<[ProcessGroup, Subprocess]> | null = null;
  private readonly byChild = new Map<number, Subprocess>();
  /** health check commands and other helper children: exit and output go to their handler */
  private readonly helpers = new Map<number, CheckChild>();
  /** ready=notify: socket id -> its process */
  private readonly notifySockets = new Map<number, Subprocess>();
  /** ready=notify: the directory of the sockets, made at the first one */
  private notifyDir: string | null = null;
  private notifySeq = 0;
  /** depends_on (fastvisor) */
  readonly dependencies: DependencyGate;
  private readonly stateListeners = new Set<(c: StateChange) => void>();
  private readonly host: ProcessHost;
  private stopping: Promise<void> | null = null;
  /** supervisord's event system: state changes, log and capture events, listener pools */
  readonly events: EventHub;
  /** the one source of per-process figures (stats.ts), read on demand */
  readonly stats: ProcessStats;

  constructor(private readonly deps: SupervisorDeps) {
    this.model = deps.model;
    // A process in a cgroup with the memory controller reports the cgroup's memory (its whole tree).
    this.stats = new ProcessStats({ memoryCurrent: deps.memoryCurrent ?? ((proc) => proc.cgroupMemory()) });
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
      childLogFormat: s.child_log_format,
      register: (child, proc) => this.byChild.set(child, proc),
      stateChanged: (proc, change) => {
        this.events.stateChanged(proc, change);
        for (const l of this.stateListeners) l({ process: proc, change });
      },
      route: (proc, channel) => this.events.route(proc, channel),
      spawned: (proc) => this.events.spawned(proc),
      awaitDependencies: (proc, pull) => this.dependencies.request(proc, pull),
      dependencyNote: (proc) => this.dependencies.note(proc),
      healthChanged: (proc, now, before) => this.healthChanged(proc, now, before),
      notifySocketPath: () => this.notifySocketPath(),
      notifyRoute: (socket, proc) => {
        if (proc) this.notifySockets.set(socket, proc);
        else this.notifySockets.delete(socket);
      },
      adopt: (child, handler) => this.helpers.set(child, handler),
      cgroups: new Cgroups(deps.log, s.cgroup_root),
    };
    this.dependencies = new DependencyGate(
      (key) => {
        const colon = key.indexOf(':');
        return this.groups.get(key.slice(0, colon))?.processes.get(key.slice(colon + 1));
      },
      deps.log,
      () => this.mood,
    );
    this.onStateChange(({ process, change }) => this.dependencies.changed(process, change.from_state));
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
    // cgroups: detected (and named in the log) at start when any program uses
    // them; on v2 a daemon alone in its cgroup steps into a leaf first, so
    // limits can work under its own cgroup (before any child is spawned there).
    const procs = this.model.groups.flatMap((g) => g.processes);
    if (procs.some((p) => wantsCgroup(p.fastvisor.cgroup, p.fastvisor.kill_mode))) {
      this.host.cgroups.layout();
      if (procs.some((p) => Object.values(p.fastvisor.cgroup).some((v) => v !== null))) this.host.cgroups.leaveOwnCgroup();
    }
    for (const g of this.model.groups) this.addProcessGroup(g, false);
    this.dependencies.rebuild(this.allProcesses());
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

  /**
   * supervisord makes its groups before it opens its HTTP servers, and an
   * fcgi-program's group makes (and closes) its socket then: the daemon's
   * start-up calls this at that point. Throws FcgiSocketError.
   */
  probeFcgiSockets(): void {
    for (const g of this.model.groups) if (g.kind === 'fcgi-program' && g.socket) FcgiSocket.probe(g.socket, this.log);
  }

  /** transition false: start-up, whose sockets probeFcgiSockets() tried. Throws FcgiSocketError (the group is not added). */
  addProcessGroup(config: ProcessGroupConfig, transition = true): boolean {
    if (this.groups.has(config.name)) return false;
    if (transition && config.kind === 'fcgi-program' && config.socket) FcgiSocket.probe(config.socket, this.log);
    const group = new ProcessGroup(config, this.host);
    this.groups.set(config.name, group);
    this.lexical = null;
    this.events.groupAdded(group);
    if (transition) {
      this.dependencies.rebuild(this.allProcesses());
      group.transition();
    }
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
    this.lexical = null;
    this.dependencies.rebuild(this.allProcesses());
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
            this.stats.forget(e.pid);
            proc.exited(e);
            this.events.exited(proc);
            break;
          }
          const helper = this.helpers.get(e.child);
          this.helpers.delete(e.child);
          if (helper) helper.exited(e);
          else this.log.info(`reaped unknown pid ${e.pid} (${decodeWaitStatus(e)[1]})`);
          break;
        }
        case 'tap': {
          const proc = this.byChild.get(e.child);
          if (proc) {
            proc.sawOutput(e.stream, e.data);
            this.events.output(proc, e.stream, e.data);
          } else this.helpers.get(e.child)?.output(e.data);
          break;
        }
        case 'notify':
          this.notifySockets.get(e.socket)?.notifyDatagram(e.data, e.pid);
          break;
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
    if (e.sink === SYSLOG_SINK) return this.syslogEpisode(e);
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

  // The syslog socket's episodes: missing (no syslog daemon), full (it does
  // not read), or a message too big. The child never waits and its file
  // copy is complete; only syslog's copy loses lines, counted here.
  private syslogEpisode(e: SinkFaultEvent | SinkRecoveredEvent): void {
    const where = `syslog socket ${this.deps.core.syslogPath()}`;
    if (e.kind === 'sink-recovered') {
      this.log.info(`${where}: takes messages again; ${e.dropped} messages were dropped meanwhile`);
    } else if (e.code === 'EAGAIN') {
      this.log.error(`${where}: full (the syslog daemon is not reading); messages are dropped until it takes them again`);
    } else if (e.code === 'EMSGSIZE') {
      this.log.error(`${where}: a message was too long for it (EMSGSIZE) and was dropped`);
    } else {
      this.log.error(`${where}: cannot send to it (${e.code}); messages are dropped until it can be reached (tried every second)`);
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

  // A health verdict changed: an event for listeners, a line in the main log,
  // and dependents waiting for `healthy` look again.
  private healthChanged(proc: Subprocess, now: HealthStatus, before: HealthStatus): void {
    if (now.health === 'healthy' || now.health === 'unhealthy') {
      const detail = now.lastDetail ?? '';
      if (now.health === 'healthy') this.log.info(`health: ${proc.name} is healthy${detail ? ` (${detail})` : ''}`);
      else this.log.warn(`health: ${proc.name} is unhealthy after ${now.failures} failed checks${detail ? ` (${detail})` : ''}`);
      this.events.notify({
        name: now.health === 'healthy' ? 'PROCESS_HEALTH_HEALTHY' : 'PROCESS_HEALTH_UNHEALTHY',
        processname: proc.name,
        groupname: proc.groupName,
        pid: proc.pid,
        from_health: before.health,
        failures: now.failures,
        detail,
      });
    }
    this.dependencies.changed(proc);
  }

  // One private directory for the notify sockets, short paths (sun_path is
  // 104-108 bytes): /tmp/fastvisor-notify-XXXXXX/N.sock. Searchable by all, so
  // a child running as another user reaches its socket, which is its own (0600).
  private notifySocketPath(): string {
    if (!this.notifyDir) {
      this.notifyDir = mkdtempSync(join(tmpdir(), 'fastvisor-notify-'));
      try {
        // mkdtemp makes it 0700
        chmodSync(this.notifyDir, 0o711);
      } catch {
        // a child as another user then cannot reach it: its spawn reports that
      }
    }
    this.notifySeq += 1;
    return join(this.notifyDir, `${this.notifySeq}.sock`);
  }

  /**
   * /readyz: the autostart processes that are not up, one line each
   * (`web: STARTING, waiting for db to be healthy (health starting)`). Up is
   * RUNNING and, with a health check, healthy; a one-shot that EXITED as
   * expected and is not restarted counts as up (its job is done). Scheduled
   * programs are never waited for.
   */
  notReady(): string[] {
    const out: string[] = [];
    const now = this.clock.now();
    const wall = this.clock.wall();
    for (const p of this.allProcesses()) {
      const c = p.config;
      if (!c.autostart || c.fastvisor.schedule !== null) continue;
      const health = p.health;
      if (p.state === ProcessState.RUNNING && (health === null || health === 'healthy')) continue;
      const done = p.state === ProcessState.EXITED && c.autorestart !== 'true' && p.status.exitstatus !== null && c.exitcodes.includes(p.status.exitstatus);
      if (done) continue;
      const info = processInfo(c, p.status, now, wall);
      const description = p.describe(info.description, now, wall);
      out.push(`${p.groupName === p.name ? p.name : `${p.groupName}:${p.name}`}: ${info.statename}${description ? `, ${description}` : ''}`);
    }
    return out;
  }

  /** Every process's figures now, in allProcesses() order. */
  figures(procs: Iterable<Subprocess> = this.allProcesses()): ProcessFigures[] {
    return this.stats.readAll(procs, this.clock.now(), this.clock.wall());
  }

  /**
   * Every process by group name, then process name: getAllProcessInfo's order,
   * which clients poll. Kept until a group comes or goes (a group's processes
   * never change: groups come and go whole). The caller must not change it.
   */
  lexicalProcesses(): ReadonlyArray<[ProcessGroup, Subprocess]> {
    if (this.lexical) return this.lexical;
    const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const order: Array<[ProcessGroup, Subprocess]> = [];
    for (const g of [...this.groups.values()].sort(byName)) for (const p of [...g.processes.values()].sort(byName)) order.push([g, p]);
    this.lexical = order;
    return order;
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
      // depends_on (fastvisor): a process stops only once its dependents have
      // stopped. A group whose only unstopped processes are held back that
      // way does not hold up the groups after it (their dependents may be
      // there); without depends_on this is supervisord's group-by-group order.
      const mayStop = (p: Subprocess): boolean => this.dependencies.mayStop(p);
      const pump = (): void => {
        for (let i = queue.length - 1; i >= 0; i--) {
          const g = queue[i]!;
          g.stopAll(mayStop);
          const unstopped = g.unstopped();
          if (!unstopped.length) {
            queue.splice(i, 1);
            continue;
          }
          if (unstopped.some(mayStop)) break;
        }
        // shutdown_report() walks supervisord's process_groups dict: insertion order, which is
        // priority order at start, then groups added by update (a changed one is re-added) at the end.
        // A group leaves the queue once all its processes have stopped, and nothing starts again
        // during a shutdown, so while the queue is not empty the walk over every process waits for
        // the report: one walk per pump made a shutdown of N one-process groups cost N² (0.7 s at 2000).
        const now = clock.now();
        const reportDue = now > lastReport + SHUTDOWN_REPORT_MS;
        const unstopped = queue.length && !reportDue ? null : [...this.groups.values()].flatMap((g) => g.unstopped());
        // Stopped, but a cgroup still empties (its killed processes are on their way out): a moment more.
        const cgroupsPending = unstopped?.length === 0 && this.allProcesses().some((p) => p.cgroupPending);
        if (unstopped?.length === 0 && !cgroupsPending) {
          timer?.cancel();
          off?.();
          resolve();
          return;
        }
        if (unstopped?.length && reportDue) {
          this.log.info(`waiting for ${unstopped.map((p) => p.name).join(', ')} to die`);
          lastReport = now;
        }
        timer?.cancel();
        timer = clock.setTimer(now + STOP_POLL_MS, pump);
      };
      // React to stops at once, the timer covers the reports. One pump for
      // all the changes of a batch: a pump walks every process, so one per
      // change made a shutdown of N processes cost N² (seconds at 2000).
      let pumpQueued = false;
      off = this.onStateChange(() => {
        if (pumpQueued) return;
        pumpQueued = true;
        queueMicrotask(() => {
          pumpQueued = false;
          pump();
        });
      });
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
    this.lexical = null;
    this.events.dispose();
    if (this.notifyDir) rmSync(this.notifyDir, { recursive: true, force: true });
    this.notifyDir = null;
  }
}
