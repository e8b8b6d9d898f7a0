// SPDX-License-Identifier: MIT
// supervisord's event types (supervisor/events.py EventTypes), their hierarchy,
// the events= option's names, and each event's payload as Python renders it.
// A leaf: like states.py it imports nothing but the state names.
import type { ProcessStateName } from '../process/states.js';

/**
 * Every name in events.py's EventTypes with its supertype (the Python base
 * class), in EventTypes' order. EVENT is the root; the abstract ones
 * (EVENT, PROCESS_STATE, PROCESS_LOG, …) are only ever subscribed to.
 */
export const EVENT_TYPE_PARENTS = {
  EVENT: null,
  PROCESS_STATE: 'EVENT',
  PROCESS_STATE_STOPPED: 'PROCESS_STATE',
  PROCESS_STATE_EXITED: 'PROCESS_STATE',
  PROCESS_STATE_STARTING: 'PROCESS_STATE',
  PROCESS_STATE_STOPPING: 'PROCESS_STATE',
  PROCESS_STATE_BACKOFF: 'PROCESS_STATE',
  PROCESS_STATE_FATAL: 'PROCESS_STATE',
  PROCESS_STATE_RUNNING: 'PROCESS_STATE',
  PROCESS_STATE_UNKNOWN: 'PROCESS_STATE',
  PROCESS_COMMUNICATION: 'EVENT',
  PROCESS_COMMUNICATION_STDOUT: 'PROCESS_COMMUNICATION',
  PROCESS_COMMUNICATION_STDERR: 'PROCESS_COMMUNICATION',
  PROCESS_LOG: 'EVENT',
  PROCESS_LOG_STDOUT: 'PROCESS_LOG',
  PROCESS_LOG_STDERR: 'PROCESS_LOG',
  REMOTE_COMMUNICATION: 'EVENT',
  SUPERVISOR_STATE_CHANGE: 'EVENT',
  SUPERVISOR_STATE_CHANGE_RUNNING: 'SUPERVISOR_STATE_CHANGE',
  SUPERVISOR_STATE_CHANGE_STOPPING: 'SUPERVISOR_STATE_CHANGE',
  TICK: 'EVENT',
  TICK_5: 'TICK',
  TICK_60: 'TICK',
  TICK_3600: 'TICK',
  PROCESS_GROUP: 'EVENT',
  PROCESS_GROUP_ADDED: 'PROCESS_GROUP',
  PROCESS_GROUP_REMOVED: 'PROCESS_GROUP',
  // fastvisor only: healthcheck= verdicts (only programs with a health check send them)
  PROCESS_HEALTH: 'EVENT',
  PROCESS_HEALTH_HEALTHY: 'PROCESS_HEALTH',
  PROCESS_HEALTH_UNHEALTHY: 'PROCESS_HEALTH',
} as const;

export type EventTypeName = keyof typeof EVENT_TYPE_PARENTS;
export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPE_PARENTS) as EventTypeName[];

/** The subtype chain of a name, itself first, EVENT last (Python's MRO, minus object). */
export function eventTypeChain(name: EventTypeName): EventTypeName[] {
  const chain: EventTypeName[] = [];
  for (let t: EventTypeName | null = name; t !== null; t = EVENT_TYPE_PARENTS[t]) chain.push(t);
  return chain;
}

/** isinstance(event, EventTypes.<type>): what events.notify() dispatches on. */
export function isEventOfType(name: EventTypeName, type: EventTypeName): boolean {
  for (let t: EventTypeName | null = name; t !== null; t = EVENT_TYPE_PARENTS[t]) if (t === type) return true;
  return false;
}

export function isEventTypeName(s: string): s is EventTypeName {
  return Object.hasOwn(EVENT_TYPE_PARENTS, s);
}

/**
 * `events=` of an [eventlistener:x] section → the types the pool subscribes to
 * (options.py process_groups_from_parser): a comma list, each item stripped and
 * upper-cased, duplicates dropped. Throws with supervisord's text, to which the
 * config loader adds nothing (the ValueError is raised outside
 * processes_from_section, so there is no "in section" suffix).
 *
 * Overlapping names (PROCESS_STATE,PROCESS_STATE_EXITED) are kept: supervisord
 * subscribes the pool once per name, so such a pool buffers a matching event
 * once per name it matches. The pool core reproduces that, see
 * listener-pool-core.ts.
 *
 * supervisord keeps the names in a Python set, so with several unknown names
 * which one it reports depends on the hash seed; here it is the first listed.
 */
export function parseEventsOption(value: string, section: string): EventTypeName[] {
  // datatypes.list_of_strings: '' → [], else split(',') and strip() each,
  // so ' , ' yields an empty name, reported as "Unknown event type  in …".
  const names = value === '' ? [] : value.split(',').map((x) => pyStrip(x).toUpperCase());
  const unique = [...new Set(names)];
  if (unique.length === 0) throw new Error(`[${section}] section requires an "events" line`);
  for (const n of unique) if (!isEventTypeName(n)) throw new Error(`Unknown event type ${n} in [${section}] events`);
  return unique as EventTypeName[];
}

// str.strip() with no argument strips Unicode whitespace, like JS trim(), but
// also \x1c-\x1f (which JS keeps) and not \ufeff (which JS strips).
function pyStrip(s: string): string {
  const ws = (c: string): boolean => /[\s\x1c-\x1f\x85]/u.test(c) && c !== '\ufeff';
  let a = 0;
  let b = s.length;
  while (a < b && ws(s[a]!)) a++;
  while (b > a && ws(s[b - 1]!)) b--;
  return s.slice(a, b);
}

export type ProcessStateEventName = `PROCESS_STATE_${ProcessStateName}`;

/**
 * A process changed state (process.py change_state). The extra values are
 * rendered at the transition, as events.py does eagerly: [['tries', n]] for
 * STARTING/BACKOFF, [['expected', 0|1], ['pid', n]] for EXITED, [['pid', n]]
 * for RUNNING/STOPPING/STOPPED, none for FATAL/UNKNOWN. The machine's 'emit'
 * effect carries exactly these (its `event`, `from_state` and `extra`).
 */
export interface ProcessStateEvent {
  readonly name: ProcessStateEventName;
  readonly processname: string;
  /** '' when the process has no group (events.py: group None) */
  readonly groupname: string;
  readonly from_state: string;
  readonly extra: ReadonlyArray<readonly [string, number]>;
}

/** One read of a child's stdout/stderr, sent when *_events_enabled (dispatchers.py _log). */
export interface ProcessLogEvent {
  readonly name: 'PROCESS_LOG_STDOUT' | 'PROCESS_LOG_STDERR';
  readonly processname: string;
  readonly groupname: string;
  readonly pid: number;
  /** the bytes as read (after strip_ansi), decoded only when the payload is built */
  readonly data: Uint8Array;
}

/** What a child wrote between the capture tokens (dispatchers.py toggle_capturemode). */
export interface ProcessCommunicationEvent {
  readonly name: 'PROCESS_COMMUNICATION_STDOUT' | 'PROCESS_COMMUNICATION_STDERR';
  readonly processname: string;
  readonly groupname: string;
  readonly pid: number;
  readonly data: Uint8Array;
}

/**
 * sendRemoteCommEvent(type, data). On Python 3 rpcinterface's
 * `isinstance(x, unicode)` tests compat's own str subclass, so both stay str
 * and reach the payload as sent (no b'' around them). A non-string XML-RPC
 * value must be rendered with Python's str() by the caller.
 */
export interface RemoteCommunicationEvent {
  readonly name: 'REMOTE_COMMUNICATION';
  readonly type: string;
  readonly data: string;
}

export interface SupervisorStateChangeEvent {
  readonly name: 'SUPERVISOR_STATE_CHANGE_RUNNING' | 'SUPERVISOR_STATE_CHANGE_STOPPING';
}

export interface TickEvent {
  readonly name: 'TICK_5' | 'TICK_60' | 'TICK_3600';
  /** epoch seconds, aligned to the period (supervisord.py timeslice) */
  readonly when: number;
}

export interface ProcessGroupEvent {
  readonly name: 'PROCESS_GROUP_ADDED' | 'PROCESS_GROUP_REMOVED';
  readonly group: string;
}

/**
 * fastvisor: a process's health check changed its verdict. Payload in
 * supervisord's style: `processname:web groupname:web pid:42 from_health:healthy
 * failures:3` and, after a newline, the last check's detail (`HTTP 503`).
 */
export interface ProcessHealthEvent {
  readonly name: 'PROCESS_HEALTH_HEALTHY' | 'PROCESS_HEALTH_UNHEALTHY';
  readonly processname: string;
  readonly groupname: string;
  readonly pid: number;
  readonly from_health: string;
  readonly failures: number;
  readonly detail: string;
}

/** An event instance. Its identity matters: serials are attached per object (see listener-pool-core.ts). */
export type AnyEvent =
  | ProcessStateEvent
  | ProcessLogEvent
  | ProcessCommunicationEvent
  | RemoteCommunicationEvent
  | SupervisorStateChangeEvent
  | TickEvent
  | ProcessGroupEvent
  | ProcessHealthEvent;

export type ConcreteEventName = AnyEvent['name'];

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * compat.as_string(data) for child bytes, with events.py's fallback: strict
 * UTF-8 (a BOM kept, like Python's 'utf8' codec), else `Undecodable: b'…'`.
 * WHATWG's fatal decoder and CPython reject the same inputs (overlongs,
 * surrogates, code points past U+10FFFF, truncated sequences).
 */
export function decodeChildData(data: Uint8Array): string {
  try {
    return utf8.decode(data);
  } catch {
    return `Undecodable: ${pyBytesRepr(data)}`;
  }
}

/** repr(bytes) as CPython writes it: b'…', or b"…" when only ' occurs. */
export function pyBytesRepr(data: Uint8Array): string {
  let single = false;
  let double = false;
  for (const b of data) {
    if (b === 0x27) single = true;
    else if (b === 0x22) double = true;
  }
  const quote = single && !double ? 0x22 : 0x27;
  let out = quote === 0x22 ? 'b"' : "b'";
  for (const b of data) {
    if (b === quote || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b < 0x20 || b >= 0x7f) out += '\\x' + b.toString(16).padStart(2, '0');
    else out += String.fromCharCode(b);
  }
  return out + (quote === 0x22 ? '"' : "'");
}

/** event.payload() of events.py, as the Python str (see payloadLength for `len:`). */
export function payload(event: AnyEvent): string {
  switch (event.name) {
    case 'PROCESS_LOG_STDOUT':
    case 'PROCESS_LOG_STDERR': {
      const channel = event.name === 'PROCESS_LOG_STDOUT' ? 'stdout' : 'stderr';
      return `processname:${event.processname} groupname:${event.groupname} pid:${event.pid} channel:${channel}\n${decodeChildData(event.data)}`;
    }
    case 'PROCESS_COMMUNICATION_STDOUT':
    case 'PROCESS_COMMUNICATION_STDERR':
      return `processname:${event.processname} groupname:${event.groupname} pid:${event.pid}\n${decodeChildData(event.data)}`;
    case 'REMOTE_COMMUNICATION':
      return `type:${event.type}\n${event.data}`;
    case 'SUPERVISOR_STATE_CHANGE_RUNNING':
    case 'SUPERVISOR_STATE_CHANGE_STOPPING':
      return '';
    case 'TICK_5':
    case 'TICK_60':
    case 'TICK_3600':
      return `when:${event.when}`;
    case 'PROCESS_GROUP_ADDED':
    case 'PROCESS_GROUP_REMOVED':
      return `groupname:${event.group}\n`;
    case 'PROCESS_HEALTH_HEALTHY':
    case 'PROCESS_HEALTH_UNHEALTHY':
      return `processname:${event.processname} groupname:${event.groupname} pid:${event.pid} from_health:${event.from_health} failures:${event.failures}\n${event.detail}`;
    default: {
      const fields: Array<readonly [string, string | number]> = [
        ['processname', event.processname],
        ['groupname', event.groupname],
        ['from_state', event.from_state],
        ...event.extra,
      ];
      return fields.map(([k, v]) => `${k}:${v}`).join(' ');
    }
  }
}

/**
 * Python's len() of a str: code points, so a surrogate pair counts once. The
 * envelope's `len:` is this, not the UTF-8 byte count (supervisord's quirk,
 * which Python listeners reading a text stdin depend on).
 */
export function payloadLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}
