// SPDX-License-Identifier: MIT
// The event listener protocol, pure: the envelope supervisord writes to a
// listener's stdin (process.py _eventEnvelope) and the reader of its stdout
// (dispatchers.py PEventListenerDispatcher.handle_listener_state_change).
import { EventListenerState, getEventListenerStateDescription } from '../process/states.js';
import { decodeChildData, payloadLength } from './types.js';

export const READY_FOR_EVENTS_TOKEN = Buffer.from('READY\n');
export const RESULT_TOKEN_START = Buffer.from('RESULT ');

export interface EnvelopeFields {
  /** [supervisord] identifier (options.identifier, default 'supervisor'), the `server:` token */
  identifier: string;
  serial: number;
  pool: string;
  poolSerial: number;
  eventName: string;
  /** the Python str of event.payload() (types.ts payload()) */
  payload: string;
}

/**
 * The envelope as Python's str. `len:` is len(payload) in code points, while
 * the wire carries UTF-8: a non-ASCII payload has more bytes than `len:` says.
 */
export function envelopeText(f: EnvelopeFields): string {
  return (
    `ver:3.0 server:${f.identifier} serial:${f.serial} pool:${f.pool} poolserial:${f.poolSerial} ` +
    `eventname:${f.eventName} len:${payloadLength(f.payload)}\n${f.payload}`
  );
}

/** The bytes written to the listener's stdin (process.py: process.write(as_bytes(envelope))). */
export function eventEnvelope(f: EnvelopeFields): Buffer {
  return Buffer.from(envelopeText(f), 'utf8');
}

/** What a result handler decides (dispatchers.py handle_result's three outcomes). */
export type ResultVerdict = 'processed' | 'rejected' | 'error';
export type ResultHandler = (result: Buffer) => ResultVerdict;

const OK = Buffer.from('OK');
/** dispatchers.py default_handler: exactly `OK` acknowledges; anything else (FAIL, ok, OK\n) rejects. */
export const defaultResultHandler: ResultHandler = (result) => (result.equals(OK) ? 'processed' : 'rejected');

export type ProtocolLogLevel = 'debug' | 'warn';

/** In the order supervisord does them; the pool carries them out (listener-pool-core.ts). */
export type ProtocolEffect =
  | { kind: 'log'; level: ProtocolLogLevel; message: string }
  /** notify(EventRejectedEvent(process, process.event)): the in-flight event goes back to its pool */
  | { kind: 'reject' }
  /** process.event = None: the listener holds no event any more */
  | { kind: 'release' };

const EMPTY = Buffer.alloc(0);

// int(bytes) of Python: ASCII whitespace around an optionally signed decimal
// with single underscores between digits ("2\r" from a CRLF listener is 2).
const PY_INT = /^[ \t\n\v\f\r]*([+-]?)([0-9](?:_?[0-9])*)[ \t\n\v\f\r]*$/;

function pyInt(b: Buffer): number | null {
  const m = PY_INT.exec(b.toString('latin1'));
  if (!m) return null;
  const n = Number(m[2]!.replaceAll('_', ''));
  return m[1] === '-' ? -n : n;
}

/**
 * One listener's stdout reader and its listener state. A new one per spawn:
 * supervisord makes a new PEventListenerDispatcher, starting ACKNOWLEDGED.
 */
export class ListenerProtocol {
  state: EventListenerState = EventListenerState.ACKNOWLEDGED;
  private buffer: Buffer = EMPTY;
  private result: Buffer = EMPTY;
  private resultlen: number | null = null;

  constructor(readonly name: string) {}

  /** _dispatchEvent: an event was written, a RESULT is owed. Silent, as process.py sets it directly. */
  busy(): void {
    this.state = EventListenerState.BUSY;
  }

  /** Bytes held while waiting for a full token, line or result body. */
  get pending(): number {
    return this.buffer.length + this.result.length;
  }

  /**
   * One read of the listener's stdout. Everything in the chunk is decided
   * before anything is dispatched, as in supervisord, where dispatch comes
   * later in the loop pass: `READY\nxyz` makes the listener UNKNOWN.
   * An empty chunk (EOF) changes nothing, as in supervisord.
   */
  feed(data: Uint8Array, handler: ResultHandler = defaultResultHandler): ProtocolEffect[] {
    const fx: ProtocolEffect[] = [];
    if (data.length > 0) this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : Buffer.from(data);
    // handle_listener_state_change recurses "til its too short"; a loop here.
    for (;;) {
      if (this.buffer.length === 0) return fx;
      switch (this.state) {
        case EventListenerState.UNKNOWN:
          // a fatal state: everything is discarded until the listener is restarted
          this.buffer = EMPTY;
          return fx;
        case EventListenerState.ACKNOWLEDGED:
          if (this.buffer.length < READY_FOR_EVENTS_TOKEN.length) return fx;
          if (this.buffer.subarray(0, READY_FOR_EVENTS_TOKEN.length).equals(READY_FOR_EVENTS_TOKEN)) {
            this.change(EventListenerState.READY, fx);
            this.buffer = this.buffer.subarray(READY_FOR_EVENTS_TOKEN.length);
          } else {
            this.change(EventListenerState.UNKNOWN, fx);
            this.buffer = EMPTY;
          }
          fx.push({ kind: 'release' });
          continue;
        case EventListenerState.READY:
          // the process sent some spurious data, be strict about it
          this.change(EventListenerState.UNKNOWN, fx);
          this.buffer = EMPTY;
          fx.push({ kind: 'release' });
          return fx;
        case EventListenerState.BUSY:
          if (this.resultlen === null) {
            const pos = this.buffer.indexOf(0x0a);
            if (pos === -1) return fx;
            const line = this.buffer.subarray(0, pos);
            this.buffer = this.buffer.subarray(pos + 1);
            // supervisord slices off 7 bytes without checking they are "RESULT ".
            const n = pyInt(line.subarray(RESULT_TOKEN_START.length));
            // A negative length sends supervisord into endless recursion, which
            // closes the listener's stdout and strands the event until the
            // listener dies; here it is a bad result line like any other.
            if (n === null || n < 0) {
              fx.push({ kind: 'log', level: 'warn', message: `${this.name}: bad result line: '${decodeChildData(line)}'` });
              this.change(EventListenerState.UNKNOWN, fx);
              this.buffer = EMPTY;
              fx.push({ kind: 'reject' }, { kind: 'release' });
              return fx;
            }
            this.resultlen = n;
            // Like supervisord, the body is looked at only if more bytes are
            // already here: a bare "RESULT 0\n" is settled by the next read.
          } else {
            let needed = this.resultlen - this.result.length;
            if (needed) {
              const take = this.buffer.subarray(0, needed);
              this.result = this.result.length ? Buffer.concat([this.result, take]) : Buffer.from(take);
              this.buffer = this.buffer.subarray(take.length);
              needed = this.resultlen - this.result.length;
            }
            if (!needed) {
              this.handleResult(this.result, handler, fx);
              fx.push({ kind: 'release' });
              this.result = EMPTY;
              this.resultlen = null;
            }
          }
          continue;
      }
    }
  }

  private handleResult(result: Buffer, handler: ResultHandler, fx: ProtocolEffect[]): void {
    const verdict = handler(result);
    if (verdict === 'processed') {
      fx.push({ kind: 'log', level: 'debug', message: `${this.name}: event was processed` });
      this.change(EventListenerState.ACKNOWLEDGED, fx);
    } else if (verdict === 'rejected') {
      fx.push({ kind: 'log', level: 'warn', message: `${this.name}: event was rejected` });
      this.change(EventListenerState.ACKNOWLEDGED, fx);
      fx.push({ kind: 'reject' });
    } else {
      fx.push({ kind: 'log', level: 'warn', message: `${this.name}: event caused an error` });
      this.change(EventListenerState.UNKNOWN, fx);
      fx.push({ kind: 'reject' });
    }
  }

  // _change_listener_state
  private change(to: EventListenerState, fx: ProtocolEffect[]): void {
    const from = this.state;
    fx.push({
      kind: 'log',
      level: 'debug',
      message: `${this.name}: ${getEventListenerStateDescription(from)} -> ${getEventListenerStateDescription(to)}`,
    });
    this.state = to;
    if (to === EventListenerState.UNKNOWN) {
      fx.push({
        kind: 'log',
        level: 'warn',
        message:
          `${this.name}: has entered the UNKNOWN state and will no longer receive events, ` +
          'this usually indicates the process violated the eventlistener protocol',
      });
    }
  }
}
