// SPDX-License-Identifier: MIT
// Where the daemon meets supervisord's event system: state changes become
// PROCESS_STATE_* events, tapped child output becomes PROCESS_LOG_* and
// (capture mode) PROCESS_COMMUNICATION_* events, [eventlistener:x] pools get
// their listeners' protocol stream and write envelopes to their stdin.
// Only the channels that need it are tapped (route()); every other byte stays
// on the native path from pipe to file.
import { EventBus } from '../events/bus.js';
import { CaptureSplitter, type CaptureOutput } from '../events/capture.js';
import { Ticker } from '../events/tick.js';
import { decodeChildData, pyBytesRepr, type AnyEvent } from '../events/types.js';
import { LogLevel, type MainLog } from '../log/main-log.js';
import type { IoCore } from '../native/index.js';
import type { ProcessGroup } from './group.js';
import { GlobalSerial, ListenerPoolCore, type PoolEffect } from './listener-pool-core.js';
import type { EmitEffect } from './machine.js';
import { pyRepr } from './py-repr.js';
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
  /**
   * strip_ansi may apply: not to a listener's protocol stream, which
   * supervisord parses raw (a RESULT body with an escape would lose sync).
   */
  raw?: boolean;
}

const DAEMON_SERIAL = new GlobalSerial();

interface Pool {
  core: ListenerPoolCore;
  undo: () => void;
}

export class EventHub {
  readonly bus = new EventBus();
  // process.py's GlobalSerial is a module-level singleton: serials go on
  // across a SIGHUP restart, which builds a new hub.
  private readonly serial = DAEMON_SERIAL;
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

  /** Each listener pool's buffered events and the events its full buffer discarded (/metrics). */
  poolFigures(): Array<{ pool: string; buffered: number; discarded: number }> {
    return [...this.pools].map(([pool, { core }]) => ({ pool, buffered: core.buffered.length, discarded: core.discarded }));
  }

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
    if (channel === 'stdout' && this.isListener(proc)) return { tap: true, nativeSink: false, raw: true };
    const capture = channel === 'stdout' ? c.stdout_capture_maxbytes : c.stderr_capture_maxbytes;
    if (capture > 0) return { tap: true, nativeSink: false };
    const events = channel === 'stdout' ? c.stdout_events_enabled : c.stderr_events_enabled;
    // loglevel=debug copies every read into the main log, as supervisord does.
    return { tap: events || this.logOutput, nativeSink: true };
  }

  /** loglevel <= debug: supervisord copies child output into the main log (log_to_mainlog). */
  private get logOutput(): boolean {
    return this.log.level <= LogLevel.DEBG;
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
    // No child: this change is its exit. Its last output comes first.
    if (proc.child === 0) this.flushCapture(proc);
    this.notify({ name: change.event, processname: proc.name, groupname: proc.groupName, from_state: change.from_state, extra: change.extra });
    const pool = this.poolOf(proc);
    if (!pool || !this.isListener(proc)) return;
    // The state this change entered: a step can pass through several (STARTING -> RUNNING -> EXITED).
    const state = ProcessState[change.event.slice('PROCESS_STATE_'.length) as ProcessStateName];
    const fx: PoolEffect[] = [];
    // An exit (Subprocess.finish) of a listener: an event it
    // held unanswered goes back to the head of the buffer now, after the exit's
    // own state event and before an autorestart spawns the next listener,
    // which the same step may do (EXITED -> STARTING).
    if (proc.child === 0) fx.push(...pool.core.listenerExited(proc.name));
    fx.push(...pool.core.listenerProcessState(proc.name, state));
    this.applyFor(proc, fx);
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
      // PEventListenerDispatcher formats the bytes with %s: b'READY\n'
      if (this.logOutput) this.log.debug(`${pyRepr(proc.name)} stdout output:\n${pyBytesRepr(data)}`);
      proc.sink('stdout')?.write(data, proc.pid);
      this.applyFor(proc, pool.core.listenerOutput(proc.name, data));
      return;
    }
    const splitter = this.splitters.get(proc)?.[channel];
    if (!splitter) {
      // The native side wrote the file already; only the main log and events are left.
      if (this.logOutput) this.logToMain(proc, channel, data);
      if (channel === 'stdout' ? proc.config.stdout_events_enabled : proc.config.stderr_events_enabled) this.logEvents(proc, channel, data);
      return;
    }
    this.captured(proc, channel, splitter.feed(data));
  }

  private captured(proc: Subprocess, channel: Channel, outputs: CaptureOutput[]): void {
    const eventsOn = channel === 'stdout' ? proc.config.stdout_events_enabled : proc.config.stderr_events_enabled;
    for (const o of outputs) {
      if (o.kind === 'output') {
        if (!o.captured) proc.writeLog(channel, o.data, proc.pid);
        if (this.logOutput && o.data.length) this.logToMain(proc, channel, o.data);
        if (eventsOn && o.data.length) this.logEvents(proc, channel, o.data);
      } else {
        this.notify({
          name: channel === 'stdout' ? 'PROCESS_COMMUNICATION_STDOUT' : 'PROCESS_COMMUNICATION_STDERR',
          processname: proc.name,
          groupname: proc.groupName,
          pid: proc.pid,
          data: o.data,
        });
        this.log.debug(`${pyRepr(proc.name)} ${channel} emitted a comm event`);
      }
    }
  }

  /**
   * The child is gone and its pipes were drained (the native side reports an
   * exit after the last byte): what capture mode held back waiting for a
   * token is logged. supervisord 4.2.5 loses it (a last read no longer than
   * a token, or a token's first bytes at the very end).
   */
  private flushCapture(proc: Subprocess): void {
    const s = this.splitters.get(proc);
    if (!s) return;
    this.splitters.delete(proc);
    for (const channel of ['stdout', 'stderr'] as const) {
      const splitter = s[channel];
      if (splitter) this.captured(proc, channel, splitter.end());
    }
  }

  // dispatchers.py POutputDispatcher._log, log_to_mainlog
  private logToMain(proc: Subprocess, channel: Channel, data: Buffer): void {
    this.log.debug(`${pyRepr(proc.name)} ${channel} output:\n${decodeChildData(data)}`);
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

  /**
   * After the exit's state changes went out. stateChanged() has already done
   * both things (it sees the exit as a change with no child); kept for a
   * caller that reports an exit without one.
   */
  exited(proc: Subprocess): void {
    this.flushCapture(proc);
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
