// SPDX-License-Identifier: MIT
// depends_on's pure rules (process/dependencies.ts) and the readiness helpers
// (process/readiness.ts): every state x condition, the graph both ways, notify
// datagrams and the line matcher.
import { describe, expect, it } from 'vitest';

import type { ResolvedDependency } from '../../../src/config/model.js';
import { DependencyGraph, failureMessage, judgeDependency, type DependencyView } from '../../../src/process/dependencies.js';
import { LineMatcher, parseNotify, readNotify } from '../../../src/process/readiness.js';
import { ProcessState } from '../../../src/process/states.js';

const view = (state: ProcessState, extra: Partial<DependencyView> = {}): DependencyView => ({
  name: 'db',
  state,
  health: null,
  exitedAsExpected: false,
  ...extra,
});

describe('judgeDependency', () => {
  const S = ProcessState;
  const table: Array<[string, 'running' | 'healthy' | 'exited', DependencyView | undefined, string]> = [
    ['running: RUNNING', 'running', view(S.RUNNING), 'met'],
    ['running: STARTING', 'running', view(S.STARTING), 'pending'],
    ['running: BACKOFF', 'running', view(S.BACKOFF), 'pending'],
    ['running: STOPPING', 'running', view(S.STOPPING), 'pending'],
    ['running: STOPPED', 'running', view(S.STOPPED), 'startable'],
    ['running: EXITED', 'running', view(S.EXITED), 'startable'],
    ['running: FATAL', 'running', view(S.FATAL), 'startable'],
    ['running: UNKNOWN', 'running', view(S.UNKNOWN), 'failed'],
    ['running: not added', 'running', undefined, 'pending'],
    ['healthy: RUNNING healthy', 'healthy', view(S.RUNNING, { health: 'healthy' }), 'met'],
    ['healthy: RUNNING starting', 'healthy', view(S.RUNNING, { health: 'starting' }), 'pending'],
    ['healthy: RUNNING unhealthy', 'healthy', view(S.RUNNING, { health: 'unhealthy' }), 'pending'],
    ['healthy: FATAL', 'healthy', view(S.FATAL), 'startable'],
    ['exited: RUNNING', 'exited', view(S.RUNNING), 'pending'],
    ['exited: EXITED expected', 'exited', view(S.EXITED, { exitedAsExpected: true }), 'met'],
    ['exited: EXITED unexpected', 'exited', view(S.EXITED), 'startable'],
    ['exited: STOPPED', 'exited', view(S.STOPPED), 'startable'],
    ['exited: FATAL', 'exited', view(S.FATAL), 'startable'],
  ];
  it.each(table)('%s', (_, condition, v, verdict) => {
    expect(judgeDependency(condition, 'db', v).verdict).toBe(verdict);
  });

  it('says what it waits for', () => {
    expect(judgeDependency('healthy', 'db', view(ProcessState.RUNNING, { health: 'starting' })).what).toBe('db to be healthy (health starting)');
    expect(judgeDependency('exited', 'migrate', view(ProcessState.RUNNING)).what).toBe('migrate to exit (RUNNING)');
    expect(judgeDependency('running', 'db', undefined).what).toBe('db to be running (not in the running configuration)');
  });

  it('failure messages name the dependency and the entry', () => {
    const dep: ResolvedDependency = { target: 'db', condition: 'running', text: 'db', processes: [] };
    expect(failureMessage(dep, 'db', view(ProcessState.FATAL))).toBe('dependency db is FATAL (depends_on db)');
    const ex: ResolvedDependency = { target: 'm', condition: 'exited', text: 'm:exited', processes: [] };
    expect(failureMessage(ex, 'm', view(ProcessState.EXITED))).toBe('dependency m exited with an unexpected status (depends_on m:exited)');
  });
});

describe('DependencyGraph', () => {
  const dep = (text: string, ...names: string[]): ResolvedDependency => ({
    target: text,
    condition: 'running',
    text,
    processes: names.map((n) => ({ group: n.split(':')[0]!, name: n.split(':')[1]! })),
  });

  it('edges both ways; empty without depends_on', () => {
    expect(new DependencyGraph([{ key: 'a:a', dependencies: [] }]).empty).toBe(true);
    const g = new DependencyGraph([
      { key: 'web:web', dependencies: [dep('db', 'db:db_00', 'db:db_01'), dep('cache', 'cache:cache')] },
      { key: 'worker:worker', dependencies: [dep('db', 'db:db_00', 'db:db_01')] },
      { key: 'db:db_00', dependencies: [] },
    ]);
    expect(g.empty).toBe(false);
    expect(g.dependenciesOf('web:web').map((e) => e.key)).toEqual(['db:db_00', 'db:db_01', 'cache:cache']);
    expect([...g.dependentsOf('db:db_01')]).toEqual(['web:web', 'worker:worker']);
    expect([...g.dependentsOf('web:web')]).toEqual([]);
  });
});

describe('sd_notify datagrams', () => {
  it('KEY=VALUE lines, the last one wins, junk ignored', () => {
    expect([...parseNotify('READY=1\nSTATUS=a=b\n\njunk\n=x\nSTATUS=c')]).toEqual([
      ['READY', '1'],
      ['STATUS', 'c'],
    ]);
  });

  it('readNotify', () => {
    expect(readNotify('READY=1\nSTATUS=warming up\nMAINPID=77')).toEqual({
      ready: true,
      status: 'warming up',
      watchdog: false,
      watchdogTrigger: false,
      stopping: false,
      mainpid: 77,
    });
    const m = readNotify(`WATCHDOG=1\nSTOPPING=1\nMAINPID=-3\nSTATUS=${'x\u0007'.repeat(300)}`);
    expect(m).toMatchObject({ ready: false, watchdog: true, stopping: true, mainpid: null });
    expect(m.status).toHaveLength(200);
    expect(m.status).not.toMatch(/\u0007/);
    expect(readNotify('READY=0').ready).toBe(false);
    expect(readNotify('WATCHDOG=trigger').watchdogTrigger).toBe(true);
  });
});

describe('LineMatcher (ready=log:)', () => {
  const b = (s: string): Buffer => Buffer.from(s);

  it('a line split over reads matches once it is whole enough', () => {
    const m = new LineMatcher(/listening on port \d+$/);
    expect(m.feed(b('starting\nlisten'))).toBeNull();
    expect(m.feed(b('ing on port 80'))).toBe('listening on port 80');
  });

  it('does not match across lines', () => {
    const m = new LineMatcher(/a b/);
    expect(m.feed(b('a\nb\n'))).toBeNull();
    expect(m.feed(b('xx a b yy\n'))).toBe('xx a b yy');
  });

  it('a line past maxLine is tested by its head and the rest skipped', () => {
    const m = new LineMatcher(/READY/, 16);
    expect(m.feed(b(`${'x'.repeat(20)}READY`))).toBeNull();
    expect(m.feed(b('\nREADY\n'))).toBe('READY');
  });
});
