// SPDX-License-Identifier: MIT
// Where the daemon meets supervisord's event system: state changes become
// PROCESS_STATE_* events, tapped child output becomes PROCESS_LOG_* and
// (capture mode) PROCESS_COMMUNICATION_* events, [eventlistener:x] pools get
// their listeners' protocol stream and write envelopes to their stdin.
// Only the channels that need it are tapped (route()); every other byte stays
// on the native path from pipe to file.
import { EventBus } from '../events/bus.js';
import { CaptureSplitter } from '../events/capture.js';
import { Ticker } from '../events/tick.js';
import type { AnyEvent } from '../events/types.js';
import type { MainLog } from '../log/main-log.js';
import type { IoCore } from '../native/index.js';
import type { ProcessGroup } from './group.js';
import { GlobalSerial, ListenerPoolCore, type PoolEffect } from './listener-pool-core.js';
import type { EmitEffect } from './machine.js';
import { ProcessState, type ProcessStateName } from './states.js';
import type { Subprocess } from './subprocess.js';

type Channel = 'stdout' | 'stderr';

/** supervisord reads at most this much per read, so one log event never carries more. */
const LOG_EVENT_MAX = 128 * 1024;
/** A listener's stdin was full: try the rest again this soon. */
const STDIN_RETRY_MS = 10;

export interface ChannelRoute {
  /** the bytes come to JS too (events, capture mode, a listener's protocol stream) */
  tap: boolean;
  /** the I/O thread writes them to the log file; false when JS decides what is logged */
  nativeSink: boolean;
}

interface Pool {
  core: ListenerPoolCore;
  undo: () => void;
}

export class EventHub {
  readonly bus = new EventBus();
  private readonly serial = new GlobalSerial();
  private readonly ticker = new Ticker();
  private readonly pools = new Map<string, Pool>();
  private readonly splitters = new Map<Subprocess, Partial<Record<Channel, CaptureSplitter>>>();
  private readonly stdinQueue = new Map<Subprocess, { data: Buffer[]; timer: ReturnType<typeof setTimeout> | null }>();

  constructor(
    private readonly core: IoCore,
    private readonly log: MainLog,
    private readonly identifier: string,
    private readonly groupOf: (proc: Subprocess) => ProcessGroup | undefined,
  ) {}

  notify(event: AnyEvent): void {
    this.bus.notify(event);
  }

  private poolOf(proc: Subprocess): Pool | undefined {
    return this.pools.get(proc.groupName);
  }

  private isListener(proc: Subprocess): boolean {
    return this.pools.has(proc.groupName) && this.groupOf(proc)?.config.kind === 'eventlistener';
  }

  route(proc: Subprocess, channel: Channel): ChannelRoute {
    const c = proc.config;
    if (channel === 'stdout' && this.isListener(proc)) return { tap: true, nativeSink: false };
    const capture = channel === 'stdout' ? c.stdout_capture_maxbytes : c.stderr_capture_maxbytes;
    if (capture > 0) return { tap: true, nativeSink: false };
    const events = channel === 'stdout' ? c.stdout_events_enabled : c.stderr_events_enabled;
    return { tap: events, nativeSink: true };
  }

  /** A group was added: a pool subscribes before PROCESS_GROUP_ADDED goes out. */
  groupAdded(group: ProcessGroup): void {
    if (group.config.kind === 'eventlistener' && group.config.pool) {
      const core = new ListenerPoolCore(
        {
          name: group.name,
          identifier: this.identifier,
          buffer_size: group.config.pool.buffer_size,
          events: group.config.pool.events as ListenerPoolCore['config']['events'],
          listeners: [...group.processes.keys()],
        },
        this.serial,
      );
      const undo = core.subscribe(this.bus, (fx) => this.apply(group, fx));
      this.pools.set(group.name, { core, undo });
    }
    this.notify({ name: 'PROCESS_GROUP_ADDED', group: group.name });
  }

  groupRemoved(group: ProcessGroup): void {
    const pool = this.pools.get(group.name);
    if (pool) {
      pool.undo();
      this.pools.delete(group.name);
    }
    for (const p of group.processes.values()) {
      this.splitters.delete(p);
      this.dropStdin(p);
    }
    this.notify({ name: 'PROCESS_GROUP_REMOVED', group: group.name });
  }

  stateChanged(proc: Subprocess, change: EmitEffect): void {
    this.notify({ name: change.event, processname: proc.name, groupname: proc.groupName, from_state: change.from_state, extra: change.extra });
    const pool = this.poolOf(proc);
    // The state this change entered: a step can pass through several (STARTING -> RUNNING -> EXITED).
    const state = ProcessState[change.event.slice('PROCESS_STATE_'.length) as ProcessStateName];
    if (pool && this.isListener(proc)) this.applyFor(proc, pool.core.listenerProcessState(proc.name, state));
  }

  /** After a successful spawn, before any of its output. */
  spawned(proc: Subprocess): void {
    const c = proc.config;
    const s: Partial<Record<Channel, CaptureSplitter>> = {};
    if (c.stdout_capture_maxbytes > 0 && !this.isListener(proc)) s.stdout = new CaptureSplitter(c.stdout_capture_maxbytes);
    if (c.stderr_capture_maxbytes > 0) s.stderr = new CaptureSplitter(c.stderr_capture_maxbytes);
    this.splitters.set(proc, s);
    this.dropStdin(proc);
    const pool = this.poolOf(proc);
    if (pool && this.isListener(proc)) pool.core.listenerSpawned(proc.name);
  }

  /** Tapped bytes of one read. */
  output(proc: Subprocess, channel: Channel, data: Buffer): void {
    const pool = this.poolOf(proc);
    if (channel === 'stdout' && pool && this.isListener(proc)) {
      proc.sink('stdout')?.write(data);
      this.applyFor(proc, pool.core.listenerOutput(proc.name, data));
      return;
    }
    const eventsOn = channel === 'stdout' ? proc.config.stdout_events_enabled : proc.config.stderr_events_enabled;
    const splitter = this.splitters.get(proc)?.[channel];
    if (!splitter) {
      // The native side wrote the file already; only the events are left.
      if (eventsOn) this.logEvents(proc, channel, data);
      return;
    }
    for (const o of splitter.feed(data)) {
      if (o.kind === 'output') {
        if (!o.captured) proc.sink(channel)?.write(o.data);
        if (eventsOn && o.data.length) this.logEvents(proc, channel, o.data);
      } else {
        this.log.debug(`'${proc.name}' ${channel} emitted a comm event`);
        this.notify({
          name: channel === 'stdout' ? 'PROCESS_COMMUNICATION_STDOUT' : 'PROCESS_COMMUNICATION_STDERR',
          processname: proc.name,
          groupname: proc.groupName,
          pid: proc.pid,
          data: o.data,
        });
      }
    }
  }

  private logEvents(proc: Subprocess, channel: Channel, data: Buffer): void {
    for (let i = 0; i < data.length; i += LOG_EVENT_MAX) {
      this.notify({
        name: channel === 'stdout' ? 'PROCESS_LOG_STDOUT' : 'PROCESS_LOG_STDERR',
        processname: proc.name,
        groupname: proc.groupName,
        pid: proc.pid,
        data: data.subarray(i, i + LOG_EVENT_MAX),
      });
    }
  }

  /** After the exit's state change went out: an unanswered event goes back to the pool. */
  exited(proc: Subprocess): void {
    this.dropStdin(proc);
    const pool = this.poolOf(proc);
    if (pool && this.isListener(proc)) this.applyFor(proc, pool.core.listenerExited(proc.name));
  }

  tick(nowSeconds: number): void {
    for (const e of this.ticker.tick(nowSeconds)) this.notify(e);
  }

  private applyFor(proc: Subprocess, fx: PoolEffect[]): void {
    const group = this.groupOf(proc);
    if (group) this.apply(group, fx);
  }

  private apply(group: ProcessGroup, fx: PoolEffect[]): void {
    for (const e of fx) {
      if (e.kind === 'log') {
        this.log[e.level](e.message);
        continue;
      }
      const proc = group.processes.get(e.listener);
      if (proc) this.writeStdin(group, proc, e.data);
    }
  }

  // Every byte must reach the listener, in order; the native stdin buffer is
  // bounded, so what does not fit waits here.
  private writeStdin(group: ProcessGroup, proc: Subprocess, data: Buffer): void {
    const q = this.stdinQueue.get(proc);
    if (q) {
      q.data.push(data);
      return;
    }
    this.flushStdin(group, proc, [data]);
  }

  private flushStdin(group: ProcessGroup, proc: Subprocess, pending: Buffer[]): void {
    while (pending.length) {
      const r = proc.child ? this.core.writeStdin(proc.child, pending[0]!) : 'closed';
      if (r === 'ok') {
        pending.shift();
        continue;
      }
      if (r === 'closed') {
        this.stdinQueue.delete(proc);
        const pool = this.pools.get(group.name);
        if (pool) this.apply(group, pool.core.writeFailed(proc.name));
        return;
      }
      // full: look again soon
      const entry = { data: pending, timer: null as ReturnType<typeof setTimeout> | null };
      entry.timer = setTimeout(() => {
        this.stdinQueue.delete(proc);
        this.flushStdin(group, proc, entry.data);
      }, STDIN_RETRY_MS);
      this.stdinQueue.set(proc, entry);
      return;
    }
    this.stdinQueue.delete(proc);
  }

  private dropStdin(proc: Subprocess): void {
    const q = this.stdinQueue.get(proc);
    if (q?.timer) clearTimeout(q.timer);
    this.stdinQueue.delete(proc);
  }

  dispose(): void {
    for (const p of this.pools.values()) p.undo();
    this.pools.clear();
    for (const q of this.stdinQueue.values()) if (q.timer) clearTimeout(q.timer);
    this.stdinQueue.clear();
    this.bus.clear();
  }
}
