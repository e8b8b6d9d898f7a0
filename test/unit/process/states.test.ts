// SPDX-License-Identifier: MIT
// The state codes, names and groupings against supervisord's own states.py.
import { describe, expect, it } from 'vitest';

import {
  EventListenerState,
  getEventListenerStateDescription,
  getProcessStateDescription,
  getSupervisorStateDescription,
  ProcessState,
  processStateName,
  RUNNING_STATES,
  SIGNALLABLE_STATES,
  STOPPED_STATES,
  SupervisorState,
} from '../../../src/process/states.js';
import { python } from '../../helpers/python.js';

interface PyStates {
  process: Record<string, number>;
  supervisor: Record<string, number>;
  listener: Record<string, number>;
  stopped: number[];
  running: number[];
  signallable: number[];
  names: Record<string, string | null>;
}

const py = python<PyStates>(
  `import json, sys
from supervisor.states import (ProcessStates, SupervisorStates, EventListenerStates,
    STOPPED_STATES, RUNNING_STATES, SIGNALLABLE_STATES, getProcessStateDescription)
def codes(c): return {k: v for k, v in vars(c).items() if not k.startswith('__')}
print(json.dumps({
  "process": codes(ProcessStates), "supervisor": codes(SupervisorStates),
  "listener": codes(EventListenerStates),
  "stopped": list(STOPPED_STATES), "running": list(RUNNING_STATES),
  "signallable": list(SIGNALLABLE_STATES),
  "names": {str(c): getProcessStateDescription(c) for c in json.load(sys.stdin)},
}))`,
  [0, 10, 20, 30, 40, 100, 200, 1000, 5, -1],
);

describe('states.py', () => {
  it('ProcessStates: STOPPED 0 … UNKNOWN 1000', () => {
    expect(ProcessState).toEqual(py.process);
  });

  it('SupervisorStates: FATAL 2, RUNNING 1, RESTARTING 0, SHUTDOWN -1', () => {
    expect(SupervisorState).toEqual(py.supervisor);
  });

  it('EventListenerStates: READY 10, BUSY 20, ACKNOWLEDGED 30, UNKNOWN 40', () => {
    expect(EventListenerState).toEqual(py.listener);
  });

  it('STOPPED_STATES, RUNNING_STATES and SIGNALLABLE_STATES, in order', () => {
    expect(STOPPED_STATES).toEqual(py.stopped);
    expect(RUNNING_STATES).toEqual(py.running);
    expect(SIGNALLABLE_STATES).toEqual(py.signallable);
  });

  it('getProcessStateDescription, with None for a code it does not know', () => {
    for (const [code, name] of Object.entries(py.names)) {
      expect(getProcessStateDescription(Number(code))).toBe(name ?? undefined);
    }
    expect(processStateName(ProcessState.BACKOFF)).toBe('BACKOFF');
  });

  it('getSupervisorStateDescription and getEventListenerStateDescription', () => {
    expect(getSupervisorStateDescription(-1)).toBe('SHUTDOWN');
    expect(getSupervisorStateDescription(7)).toBeUndefined();
    expect(getEventListenerStateDescription(30)).toBe('ACKNOWLEDGED');
  });
});
