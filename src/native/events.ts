// SPDX-License-Identifier: MIT
// Decodes one batch from the I/O thread (a Float64Array of fixed-size records
// plus a Buffer holding tap bytes and notify datagrams) into typed events. Layout: native/events.h.
import { errnoName } from './errors.js';

export type Stream = 'stdout' | 'stderr';

export interface ExitEvent {
  kind: 'exit';
  child: number;
  pid: number;
  /** exit status, or null when a signal ended the process (or the status was lost) */
  code: number | null;
  signal: number | null;
  coreDumped: boolean;
  /** wall-clock ms when the I/O thread saw the exit */
  time: number;
}
export interface EofEvent { kind: 'eof'; child: number; pid: number; stream: Stream; time: number }
export type SinkOp = 'write' | 'open' | 'rotate';
export interface SinkFaultEvent { kind: 'sink-fault'; sink: number; errno: number; code: string; op: SinkOp; time: number }
/** op 'rotate': rotation works again (nothing was dropped); otherwise writing works again after `dropped` bytes were lost. */
export interface SinkRecoveredEvent { kind: 'sink-recovered'; sink: number; op: SinkOp; dropped: number; time: number }
export interface TapEvent { kind: 'tap'; child: number; stream: Stream; data: Buffer; time: number }
export interface TapDroppedEvent { kind: 'tap-dropped'; child: number; pid: number; stream: Stream; bytes: number; time: number }
export interface OrphanEvent { kind: 'orphan'; pid: number; code: number | null; signal: number | null; time: number }
export interface StdinClosedEvent { kind: 'stdin-closed'; child: number; pid: number; errno: number; code: string; time: number }
/** An asynchronous spawn (spawnAsync) ran its program; comes before any other event of that child. */
export interface SpawnedEvent { kind: 'spawned'; request: number; pid: number; child: number; time: number }
/** An asynchronous spawn failed; pid is set when it failed after fork (the child is already reaped). */
export interface SpawnFailedEvent { kind: 'spawn-failed'; request: number; pid: number | undefined; errno: number; stage: number; time: number }

/**
 * A datagram on a notify socket (openNotify). pid: the sender's pid from SCM_CREDENTIALS (Linux), 0 where the
 * OS does not say. A datagram may still arrive for a socket just closed (it was already in the batch): ignore
 * unknown sockets.
 */
export interface NotifyEvent { kind: 'notify'; socket: number; pid: number; data: Buffer; time: number }

export type NativeEvent =
  | ExitEvent
  | EofEvent
  | SinkFaultEvent
  | SinkRecoveredEvent
  | TapEvent
  | TapDroppedEvent
  | OrphanEvent
  | StdinClosedEvent
  | SpawnedEvent
  | SpawnFailedEvent
  | NotifyEvent;

const FIELDS = 8;
const sinkOps: Record<number, SinkOp> = { 1: 'write', 2: 'open', 3: 'rotate' };

function stream(n: number): Stream {
  return n === 2 ? 'stderr' : 'stdout';
}

export function decodeEvents(records: Float64Array, data: Buffer): NativeEvent[] {
  const out: NativeEvent[] = [];
  for (let i = 0; i + FIELDS <= records.length; i += FIELDS) {
    const kind = records[i]!;
    const id = records[i + 1]!;
    const pid = records[i + 2]!;
    const s = records[i + 3]!;
    const a = records[i + 4]!;
    const b = records[i + 5]!;
    const c = records[i + 6]!;
    const time = records[i + 7]!;
    switch (kind) {
      case 1: {
        const signalled = b !== 0;
        out.push({ kind: 'exit', child: id, pid, code: signalled || a < 0 ? null : a, signal: signalled ? b : null, coreDumped: c === 1, time });
        break;
      }
      case 2:
        out.push({ kind: 'eof', child: id, pid, stream: stream(s), time });
        break;
      case 3:
        out.push({ kind: 'sink-fault', sink: id, errno: a, code: errnoName(a), op: sinkOps[b] ?? 'write', time });
        break;
      case 4:
        out.push({ kind: 'sink-recovered', sink: id, op: sinkOps[b] ?? 'write', dropped: c, time });
        break;
      case 5:
        // subarray shares the batch's buffer: one allocation per batch, not per chunk.
        out.push({ kind: 'tap', child: id, stream: stream(s), data: data.subarray(a, a + b), time });
        break;
      case 6:
        out.push({ kind: 'tap-dropped', child: id, pid, stream: stream(s), bytes: c, time });
        break;
      case 7:
        out.push({ kind: 'orphan', pid, code: b !== 0 ? null : a, signal: b !== 0 ? b : null, time });
        break;
      case 8:
        out.push({ kind: 'stdin-closed', child: id, pid, errno: a, code: errnoName(a), time });
        break;
      case 9:
        out.push({ kind: 'spawned', request: id, pid, child: a, time });
        break;
      case 10:
        out.push({ kind: 'spawn-failed', request: id, pid: pid > 0 ? pid : undefined, errno: a, stage: b, time });
        break;
      case 11:
        out.push({ kind: 'notify', socket: id, pid, data: data.subarray(a, a + b), time });
        break;
      default:
        // A newer addon than this file: skip what we can't read rather than crash.
        break;
    }
  }
  return out;
}
