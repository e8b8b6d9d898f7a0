// SPDX-License-Identifier: MIT
// The pure part of an [eventlistener:x] pool (process.py EventListenerPool):
// its event buffer, serials, choice of listener, rebuffering. No processes, no
// time: the daemon feeds what happened and carries out the returned effects.
import type { EventBus } from '../events/bus.js';
import {
  defaultResultHandler,
  eventEnvelope,
  ListenerProtocol,
  type ResultHandler,
} from '../events/protocol.js';
import { payload, type AnyEvent, type EventTypeName } from '../events/types.js';
import { EventListenerState, ProcessState } from './states.js';

export type PoolEffect =
  /** write these bytes to the listener's stdin, all of them (supervisord buffers without bound) */
  | { kind: 'write'; listener: string; data: Buffer }
  /** a main-log line, supervisord's words and level */
  | { kind: 'log'; level: 'debug' | 'warn' | 'error'; message: string };

// sys.maxsize on 64-bit CPython, where new_serial wraps. Numbers past 2^53 are
// not exact, but at a million events a second that is 285 years away.
const MAXINT = 2 ** 63 - 1;

/**
 * process.py GlobalSerial: one per daemon, shared by every pool. An event gets
 * its serial from the first pool that buffers it; events no pool wants use none.
 */
export class GlobalSerial {
  private serial = -1;
  private readonly serials = new WeakMap<AnyEvent, number>();

  /** The event's serial, given it now if it has none (new_serial(GlobalSerial)). */
  assign(event: AnyEvent): number {
    let s = this.serials.get(event);
    if (s === undefined) {
      if (this.serial === MAXINT) this.serial = -1;
      s = ++this.serial;
      this.serials.set(event, s);
    }
    return s;
  }

  /** The event's serial, or undefined if no pool has buffered it yet. */
  get(event: AnyEvent): number | undefined {
    return this.serials.get(event);
  }
}

export interface ListenerPoolConfig {
  /** the pool (group) name: `pool:` and the log lines */
  name: string;
  /** [supervisord] identifier, the envelope's `server:` */
  identifier: string;
  /** >= 1 (options.py rejects less) */
  buffer_size: number;
  /** parseEventsOption(events=) */
  events: readonly EventTypeName[];
  /** process names, in the group's order (numprocs order): the first READY one gets the event */
  listeners: readonly string[];
  /** result_handler=; only supervisord's default exists here */
  resultHandler?: ResultHandler;
}

interface Listener {
  name: string;
  /** the Subprocess state; only RUNNING listeners get events (past startsecs) */
  state: ProcessState;
  /** None until the first spawn, like Subprocess.listener_state */
  protocol: ListenerProtocol | null;
  /** process.event: what it was sent and has not answered */
  event: AnyEvent | null;
  /** its stdin failed (EPIPE): skip it until it is spawned again */
  stdinClosed: boolean;
}

export class ListenerPoolCore {
  private readonly buffer: AnyEvent[] = [];
  /** events the full buffer discarded since the pool was made (/metrics) */
  discarded = 0;
  private serial = -1;
  // event.pool_serials[pool] of process.py, per event object.
  private readonly poolSerials = new WeakMap<AnyEvent, number>();
  private readonly listeners = new Map<string, Listener>();
  private readonly handler: ResultHandler;

  constructor(
    readonly config: ListenerPoolConfig,
    private readonly globalSerial: GlobalSerial,
  ) {
    this.handler = config.resultHandler ?? defaultResultHandler;
    for (const name of config.listeners) {
      this.listeners.set(name, { name, state: ProcessState.STOPPED, protocol: null, event: null, stdinClosed: false });
    }
  }

  /**
   * _subscribe: accept() for each events= type. A type listed twice over
   * (PROCESS_STATE and PROCESS_STATE_EXITED) buffers a matching event twice,
   * as supervisord does. Effects of accepted events go to sink. Returns the
   * unsubscribe to call before the pool is removed (before_remove).
   */
  subscribe(bus: EventBus, sink: (effects: PoolEffect[]) => void): () => void {
    const undo = this.config.events.map((type) => bus.subscribe(type, (e) => sink(this.accept(e))));
    return () => undo.forEach((u) => u());
  }

  /** _acceptEvent, then a dispatch if a listener can take it. */
  accept(event: AnyEvent): PoolEffect[] {
    const fx: PoolEffect[] = [];
    this.acceptEvent(event, false, fx);
    this.dispatchIfCapable(fx);
    return fx;
  }

  /**
   * The listener was spawned: supervisord makes a new stdout dispatcher, so it
   * is ACKNOWLEDGED (waiting for READY) with no event. Call before its output.
   */
  listenerSpawned(name: string): void {
    const l = this.listener(name);
    l.protocol = new ListenerProtocol(name);
    l.event = null;
    l.stdinClosed = false;
  }

  /** Every change of the listener's process state (feed RUNNING after startsecs, etc.). */
  listenerProcessState(name: string, state: ProcessState): PoolEffect[] {
    this.listener(name).state = state;
    const fx: PoolEffect[] = [];
    this.dispatchIfCapable(fx);
    return fx;
  }

  /** One read of the listener's stdout (the protocol stream; also goes to its stdout_logfile). */
  listenerOutput(name: string, chunk: Uint8Array): PoolEffect[] {
    const l = this.listener(name);
    const fx: PoolEffect[] = [];
    if (l.protocol === null) return fx;
    for (const e of l.protocol.feed(chunk, this.handler)) {
      if (e.kind === 'log') fx.push(e);
      else if (e.kind === 'reject') this.handleRejected(l, fx);
      else l.event = null;
    }
    this.dispatchIfCapable(fx);
    return fx;
  }

  /**
   * The listener died (Subprocess.finish). Feed its last output first (finish
   * drains the pipes), then this: an event it held unanswered goes back to
   * the head of the buffer. Call it before listenerSpawned() of the next
   * instance, which forgets what the dead one held: an autorestart can spawn
   * in the same step as the exit (EXITED -> STARTING).
   */
  listenerExited(name: string): PoolEffect[] {
    const l = this.listener(name);
    const fx: PoolEffect[] = [];
    this.handleRejected(l, fx);
    this.dispatchIfCapable(fx);
    return fx;
  }

  /**
   * A 'write' effect failed because the listener's stdin is gone (EPIPE).
   * supervisord learns that during the write and offers the event to the
   * next listener; here the write already happened as data, so undo it: the
   * listener is READY again but skipped until respawned, the event goes back
   * to the head of the buffer.
   */
  writeFailed(name: string): PoolEffect[] {
    const l = this.listener(name);
    const fx: PoolEffect[] = [];
    l.stdinClosed = true;
    const event = l.event;
    if (event !== null && l.protocol?.state === EventListenerState.BUSY) {
      l.protocol.state = EventListenerState.READY;
      l.event = null;
      fx.push({
        kind: 'log',
        level: 'debug',
        message: `epipe occurred while sending event ${this.globalSerial.get(event)!} to listener ${name}, listener state unchanged`,
      });
      this.acceptEvent(event, true, fx);
    }
    this.dispatchIfCapable(fx);
    return fx;
  }

  /** Subprocess.listener_state: null before the first spawn. */
  listenerState(name: string): EventListenerState | null {
    return this.listener(name).protocol?.state ?? null;
  }

  /** The buffered events, oldest first (for tests and introspection). */
  get buffered(): readonly AnyEvent[] {
    return this.buffer;
  }

  /** The global serial of an event this pool has buffered (undefined for others it never saw). */
  serialOf(event: AnyEvent): number | undefined {
    return this.globalSerial.get(event);
  }

  private listener(name: string): Listener {
    const l = this.listeners.get(name);
    if (!l) throw new Error(`no listener ${name} in pool ${this.config.name}`);
    return l;
  }

  // handle_rejected: the event a listener of ours held goes back, to the head.
  private handleRejected(l: Listener, fx: PoolEffect[]): void {
    if (l.event === null) return;
    const event = l.event;
    l.event = null;
    this.acceptEvent(event, true, fx);
  }

  private acceptEvent(event: AnyEvent, head: boolean, fx: PoolEffect[]): void {
    const serial = this.globalSerial.assign(event);
    if (!this.poolSerials.has(event)) {
      if (this.serial === MAXINT) this.serial = -1;
      this.poolSerials.set(event, ++this.serial);
    } else {
      fx.push({
        kind: 'log',
        level: 'debug',
        message: `rebuffering event ${serial} for pool ${this.config.name} (buf size=${this.buffer.length}, max=${this.config.buffer_size})`,
      });
    }
    if (this.buffer.length >= this.config.buffer_size && this.buffer.length > 0) {
      // the oldest goes, even when the newcomer is a rebuffered event bound for the head
      const discarded = this.buffer.shift()!;
      this.discarded += 1;
      fx.push({
        kind: 'log',
        level: 'error',
        message: `pool ${this.config.name} event buffer overflowed, discarding event ${this.globalSerial.get(discarded)!}`,
      });
    }
    if (head) this.buffer.unshift(event);
    else this.buffer.push(event);
  }

  private canTake(l: Listener): boolean {
    return l.state === ProcessState.RUNNING && l.protocol?.state === EventListenerState.READY && !l.stdinClosed;
  }

  // transition(): dispatch only when some listener can take an event, so an
  // idle pool does not log "rebuffering" for every event it buffers.
  private dispatchIfCapable(fx: PoolEffect[]): void {
    for (const l of this.listeners.values()) {
      if (this.canTake(l)) {
        this.dispatch(fx);
        return;
      }
    }
  }

  private dispatch(fx: PoolEffect[]): void {
    while (this.buffer.length > 0) {
      const event = this.buffer.shift()!;
      if (!this.dispatchEvent(event, fx)) {
        // no listener free: back to the head, and stop for now
        this.acceptEvent(event, true, fx);
        break;
      }
    }
  }

  private dispatchEvent(event: AnyEvent, fx: PoolEffect[]): boolean {
    for (const l of this.listeners.values()) {
      if (!this.canTake(l)) continue;
      const serial = this.globalSerial.get(event)!;
      const data = eventEnvelope({
        identifier: this.config.identifier,
        serial,
        pool: this.config.name,
        poolSerial: this.poolSerials.get(event)!,
        eventName: event.name,
        payload: payload(event),
      });
      fx.push({ kind: 'write', listener: l.name, data });
      l.protocol!.busy();
      l.event = event;
      fx.push({ kind: 'log', level: 'debug', message: `event ${serial} sent to listener ${l.name}` });
      return true;
    }
    return false;
  }
}
