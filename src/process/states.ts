// SPDX-License-Identifier: MIT
// supervisord's state codes and names (supervisor/states.py), numbers pinned by
// test/unit/process/states.test.ts. A leaf: like states.py, it imports nothing.

export const ProcessState = {
  STOPPED: 0,
  STARTING: 10,
  RUNNING: 20,
  BACKOFF: 30,
  STOPPING: 40,
  EXITED: 100,
  FATAL: 200,
  UNKNOWN: 1000,
} as const;
export type ProcessStateName = keyof typeof ProcessState;
export type ProcessState = (typeof ProcessState)[ProcessStateName];

export const SupervisorState = {
  FATAL: 2,
  RUNNING: 1,
  RESTARTING: 0,
  SHUTDOWN: -1,
} as const;
export type SupervisorStateName = keyof typeof SupervisorState;
export type SupervisorState = (typeof SupervisorState)[SupervisorStateName];

export const EventListenerState = {
  READY: 10,
  BUSY: 20,
  ACKNOWLEDGED: 30,
  UNKNOWN: 40,
} as const;
export type EventListenerStateName = keyof typeof EventListenerState;
export type EventListenerState = (typeof EventListenerState)[EventListenerStateName];

// The groupings rpcinterface.py and supervisorctl decide by, in states.py's order.
/** getProcessInfo-level "stopped": stopProcess(wait) is done, remove_process_group is allowed. */
export const STOPPED_STATES: readonly ProcessState[] = [
  ProcessState.STOPPED,
  ProcessState.EXITED,
  ProcessState.FATAL,
  ProcessState.UNKNOWN,
];
/** startProcess answers ALREADY_STARTED and stopProcess acts on these (BACKOFF included). */
export const RUNNING_STATES: readonly ProcessState[] = [
  ProcessState.RUNNING,
  ProcessState.BACKOFF,
  ProcessState.STARTING,
];
/** signalProcess acts on these (STOPPING included, BACKOFF not: it has no pid). */
export const SIGNALLABLE_STATES: readonly ProcessState[] = [
  ProcessState.RUNNING,
  ProcessState.STARTING,
  ProcessState.STOPPING,
];

function namesByCode<N extends string>(states: Record<N, number>): Map<number, N> {
  return new Map(Object.entries(states).map(([name, code]) => [code as number, name as N]));
}
const processNames = namesByCode(ProcessState);
const supervisorNames = namesByCode(SupervisorState);
const listenerNames = namesByCode(EventListenerState);

// Like states.py, an unknown code has no name (Python's None).
export function getProcessStateDescription(code: number): ProcessStateName | undefined {
  return processNames.get(code);
}
export function getSupervisorStateDescription(code: number): SupervisorStateName | undefined {
  return supervisorNames.get(code);
}
export function getEventListenerStateDescription(code: number): EventListenerStateName | undefined {
  return listenerNames.get(code);
}

/** getProcessStateDescription for a code the type system already vouches for. */
export function processStateName(state: ProcessState): ProcessStateName {
  return processNames.get(state)!;
}
