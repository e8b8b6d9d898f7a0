// SPDX-License-Identifier: MIT
// A test harness around the native I/O core: starts it on a given backend,
// records every event, and waits for exits and other events with deadlines.
import { IoCore, type NativeEvent, type ExitEvent, type SpawnOutcome, type SpawnRequest, type Spawned } from '../../src/native/index.js';
import { pollUntil } from './poll.js';
import { track } from './procs.js';

/**
 * kqueue is in the Linux addon only in the test build made by
 * scripts/build-kqueue.sh (libkqueue); starting it once tells whether it is
 * there. Nothing else is running when this module loads.
 */
function addonHas(backend: 'kqueue'): boolean {
  try {
    IoCore.start({ backend, onEvents: () => {} }).stop();
    return true;
  } catch {
    return false;
  }
}

type TestBackend = 'epoll' | 'poll' | 'kqueue';
const present: TestBackend[] = ['epoll', 'poll', ...(addonHas('kqueue') ? (['kqueue'] as const) : [])];

/** The backends the native tests run on; FASTVISOR_TEST_BACKENDS=kqueue (a comma list) narrows it (CI's kqueue pass). */
function testBackends(): readonly TestBackend[] {
  const only = process.env.FASTVISOR_TEST_BACKENDS?.split(',').filter(Boolean);
  if (!only?.length) return present;
  const missing = only.filter((b) => !present.includes(b as TestBackend));
  if (missing.length) throw new Error(`FASTVISOR_TEST_BACKENDS: this addon has no ${missing.join(', ')} backend (kqueue: scripts/build-kqueue.sh)`);
  return present.filter((b) => only.includes(b));
}

export const BACKENDS = testBackends();

export class CoreHarness {
  readonly events: NativeEvent[] = [];
  readonly core: IoCore;

  constructor(backend: string, batchMs?: number) {
    this.core = IoCore.start({
      backend: backend as 'epoll' | 'poll' | 'kqueue',
      batchMs,
      onEvents: (e) => this.events.push(...e),
    });
  }

  spawn(req: Partial<SpawnRequest> & Pick<SpawnRequest, 'argv'>): Spawned {
    const s = this.core.spawn({ file: req.argv[0]!, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, ...req });
    track(s.pid);
    return s;
  }

  /** spawnAsync; resolves with the outcome (a spawned child is tracked for clean-up). */
  spawnAsync(req: Partial<SpawnRequest> & Pick<SpawnRequest, 'argv'>): Promise<SpawnOutcome> {
    return new Promise((resolve) => {
      this.core.spawnAsync({ file: req.argv[0]!, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, ...req }, (outcome) => {
        if (outcome.ok) track(outcome.spawned.pid);
        resolve(outcome);
      });
    });
  }

  sh(script: string, req: Partial<SpawnRequest> = {}): Spawned {
    return this.spawn({ ...req, file: '/bin/sh', argv: ['sh', '-c', script] });
  }

  exitOf(child: number): ExitEvent | undefined {
    return this.events.find((e): e is ExitEvent => e.kind === 'exit' && e.child === child);
  }

  waitExit(child: number, timeout = 10_000): Promise<ExitEvent> {
    return pollUntil(() => this.exitOf(child), { timeout, what: `exit of child ${child}` });
  }

  waitEvent<T extends NativeEvent>(pred: (e: NativeEvent) => e is T, timeout = 10_000, what = 'event'): Promise<T> {
    return pollUntil(() => this.events.find(pred) as T | undefined, { timeout, what });
  }

  stop(): void {
    this.core.stop();
  }
}
