// SPDX-License-Identifier: MIT
// Which child output comes to JS at all (EventHub.route): only a channel with
// *_events_enabled, capture mode, an event listener's stdout (the protocol),
// or every channel at loglevel=debug (supervisord copies output into the main
// log then). Every other byte goes from pipe to file on the I/O thread.
import { describe, expect, it } from 'vitest';

import type { ProcessConfig } from '../../../src/config/model.js';
import { LogLevel, MainLog } from '../../../src/log/main-log.js';
import type { IoCore } from '../../../src/native/index.js';
import { EventHub } from '../../../src/process/event-hub.js';
import type { ProcessGroup } from '../../../src/process/group.js';
import type { Subprocess } from '../../../src/process/subprocess.js';

type Cfg = Pick<ProcessConfig, 'name' | 'stdout_events_enabled' | 'stderr_events_enabled' | 'stdout_capture_maxbytes' | 'stderr_capture_maxbytes'>;

function proc(name: string, over: Partial<Cfg> = {}, group = name): Subprocess {
  const config: Cfg = {
    name,
    stdout_events_enabled: false,
    stderr_events_enabled: false,
    stdout_capture_maxbytes: 0,
    stderr_capture_maxbytes: 0,
    ...over,
  };
  return { name, groupName: group, config } as unknown as Subprocess;
}

function hub(level: number, groups: ProcessGroup[] = []): EventHub {
  const byName = new Map(groups.map((g) => [g.name, g]));
  const h = new EventHub({} as IoCore, new MainLog(level, []), 'supervisor', (p) => byName.get(p.groupName));
  for (const g of groups) h.groupAdded(g);
  return h;
}

function listenerGroup(name: string, listener: Subprocess): ProcessGroup {
  return {
    name,
    config: { name, kind: 'eventlistener', priority: -1, processes: [], pool: { buffer_size: 10, events: ['PROCESS_STATE'] } },
    processes: new Map([[listener.name, listener]]),
  } as unknown as ProcessGroup;
}

const untapped = { tap: false, nativeSink: true };

describe('EventHub.route: what is tapped', () => {
  it('a plain channel is not tapped: the I/O thread writes it, JS never sees it', () => {
    const h = hub(LogLevel.INFO);
    expect(h.route(proc('p'), 'stdout')).toEqual(untapped);
    expect(h.route(proc('p'), 'stderr')).toEqual(untapped);
  });

  it('*_events_enabled taps that channel only; the file is still written natively', () => {
    const h = hub(LogLevel.INFO);
    expect(h.route(proc('p', { stdout_events_enabled: true }), 'stdout')).toEqual({ tap: true, nativeSink: true });
    expect(h.route(proc('p', { stdout_events_enabled: true }), 'stderr')).toEqual(untapped);
    expect(h.route(proc('p', { stderr_events_enabled: true }), 'stderr')).toEqual({ tap: true, nativeSink: true });
    expect(h.route(proc('p', { stderr_events_enabled: true }), 'stdout')).toEqual(untapped);
  });

  it('capture mode: JS decides what reaches the file', () => {
    const h = hub(LogLevel.INFO);
    expect(h.route(proc('p', { stdout_capture_maxbytes: 100 }), 'stdout')).toEqual({ tap: true, nativeSink: false });
    expect(h.route(proc('p', { stdout_capture_maxbytes: 100 }), 'stderr')).toEqual(untapped);
    expect(h.route(proc('p', { stderr_capture_maxbytes: 100 }), 'stderr')).toEqual({ tap: true, nativeSink: false });
  });

  it("an event listener's stdout is the protocol stream; its stderr is a plain channel", () => {
    const l = proc('l');
    const h = hub(LogLevel.INFO, [listenerGroup('l', l)]);
    expect(h.route(l, 'stdout')).toEqual({ tap: true, nativeSink: false, raw: true });
    expect(h.route(l, 'stderr')).toEqual(untapped);
    // a listener's stdout is never in capture mode (EventListenerConfig.make_dispatchers)
    h.dispose();
  });

  it('loglevel=debug taps every channel (log_to_mainlog), still written natively', () => {
    const h = hub(LogLevel.DEBG);
    expect(h.route(proc('p'), 'stdout')).toEqual({ tap: true, nativeSink: true });
    expect(h.route(proc('p'), 'stderr')).toEqual({ tap: true, nativeSink: true });
    expect(hub(LogLevel.TRAC).route(proc('p'), 'stdout').tap).toBe(true);
  });
});
