// SPDX-License-Identifier: MIT
// Health verdicts on a fake clock with a scripted probe: the first check at once, the 1 s
// cadence while starting, start_period, retries, recovery, timeouts, late results after stop,
// never two checks at once; judge() as a table.
import { describe, expect, it } from 'vitest';

import type { FastvisorProgramOptions } from '../../../src/config/model.js';
import { FakeClock } from '../../../src/process/clock.js';
import {
  cadence,
  healthNote,
  healthOptions,
  HealthMonitor,
  judge,
  OFF,
  type Health,
  type HealthOptions,
  type HealthStatus,
} from '../../../src/process/health.js';
import type { Probe, ProbeResult } from '../../../src/process/health-probes.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0); // FakeClock's default wall at 0
const OK: ProbeResult = { ok: true, detail: 'HTTP 200' };
const BAD: ProbeResult = { ok: false, detail: 'HTTP 503' };
const OPTS: HealthOptions = { intervalMs: 10_000, timeoutMs: 5_000, retries: 3, startPeriodMs: 0 };

/** Let promise callbacks (probe results) run. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Call {
  at: number;
  timeoutMs: number;
  answered: boolean;
  answer(r: ProbeResult): void;
}

/**
 * A probe whose results the test controls: `auto(n)` answers call n at once (a resolved
 * promise); without it, calls wait for answer().
 */
class ScriptedProbe {
  readonly calls: Call[] = [];
  maxInFlight = 0;
  constructor(
    private readonly clock: FakeClock,
    private readonly auto?: (n: number) => ProbeResult | Promise<ProbeResult>,
  ) {}

  readonly probe: Probe = (timeoutMs) => {
    const n = this.calls.length;
    let resolve!: (r: ProbeResult) => void;
    const p = new Promise<ProbeResult>((r) => (resolve = r));
    const call: Call = {
      at: this.clock.now(),
      timeoutMs,
      answered: false,
      answer: (r) => {
        call.answered = true;
        resolve(r);
      },
    };
    this.calls.push(call);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight());
    if (this.auto) {
      const r = this.auto(n);
      void Promise.resolve(r).then((x) => call.answer(x));
    }
    return p;
  };

  inFlight(): number {
    return this.calls.filter((c) => !c.answered).length;
  }

  get times(): number[] {
    return this.calls.map((c) => c.at);
  }

  pending(): Call {
    const c = this.calls.find((x) => !x.answered);
    if (!c) throw new Error('no call waits for an answer');
    return c;
  }
}

interface Rig {
  clock: FakeClock;
  probe: ScriptedProbe;
  monitor: HealthMonitor;
  /** every onChange as 'before->now' */
  changes: string[];
  /** advance to `t` (absolute ms), firing each timer and letting each probe result in */
  to(t: number): Promise<void>;
}

function rig(opts: Partial<HealthOptions> = {}, auto?: (n: number) => ProbeResult | Promise<ProbeResult>, onChange?: (m: HealthMonitor, now: HealthStatus) => void): Rig {
  const clock = new FakeClock();
  const probe = new ScriptedProbe(clock, auto);
  const changes: string[] = [];
  const monitor: HealthMonitor = new HealthMonitor({ ...OPTS, ...opts }, probe.probe, clock, (now, before) => {
    changes.push(`${before.health}->${now.health}`);
    onChange?.(monitor, now);
  });
  const to = async (t: number): Promise<void> => {
    await flush();
    for (;;) {
      const at = clock.nextAt();
      if (at === null || at > t) break;
      clock.advance(Math.max(0, at - clock.now()));
      await flush();
    }
    clock.advance(t - clock.now());
    await flush();
  };
  return { clock, probe, monitor, changes, to };
}

describe('HealthMonitor: cadence', () => {
  it('the first check runs at once on start(), health starting', () => {
    const r = rig();
    expect(r.monitor.status).toEqual(OFF);
    r.monitor.start();
    expect(r.probe.times).toEqual([0]);
    expect(r.probe.calls[0]!.timeoutMs).toBe(5000);
    expect(r.monitor.status).toMatchObject({ health: 'starting', failures: 0, checks: 0, since: T0 });
    expect(r.changes).toEqual(['off->starting']);
  });

  it('every 1 s while starting, then every interval once healthy', async () => {
    // A long start_period keeps it 'starting' through the failures.
    const r = rig({ startPeriodMs: 60_000 }, (n) => (n < 3 ? BAD : OK));
    r.monitor.start();
    await r.to(40_000);
    expect(r.probe.times).toEqual([0, 1000, 2000, 3000, 13_000, 23_000, 33_000]);
    expect(r.changes).toEqual(['off->starting', 'starting->healthy']);
    expect(r.monitor.status).toMatchObject({ health: 'healthy', failures: 0, checks: 7, since: T0 + 3000, lastCheckWall: T0 + 33_000 });
  });

  it('an interval under 1 s is kept while starting', async () => {
    const r = rig({ intervalMs: 400, startPeriodMs: 60_000 }, () => BAD);
    r.monitor.start();
    await r.to(1200);
    expect(r.probe.times).toEqual([0, 400, 800, 1200]);
  });

  it('counts the interval from the start of a check: a slow check does not push the cadence', async () => {
    const r = rig();
    r.monitor.start();
    r.probe.pending().answer(OK);
    await r.to(10_000);
    expect(r.probe.times).toEqual([0, 10_000]);
    await r.to(12_500);
    r.probe.pending().answer(OK);
    await r.to(20_000);
    expect(r.probe.times).toEqual([0, 10_000, 20_000]);
  });

  it('never two checks in flight: a check slower than the cadence delays the next until it ends', async () => {
    const r = rig({ timeoutMs: 5000 });
    r.monitor.start();
    await r.to(3000);
    expect(r.probe.calls).toHaveLength(1);
    r.probe.pending().answer(BAD);
    await r.to(3000);
    // Due at 1000, run as soon as the first ended.
    expect(r.probe.times).toEqual([0, 3000]);
    await r.to(4000);
    expect(r.probe.times).toEqual([0, 3000]);
    r.probe.pending().answer(BAD);
    await r.to(4000);
    expect(r.probe.times).toEqual([0, 3000, 4000]);
    expect(r.probe.maxInFlight).toBe(1);
  });
});

describe('HealthMonitor: verdicts', () => {
  it('start_period: failures leave it starting and do not count; the first counted ones do', async () => {
    const r = rig({ startPeriodMs: 5000, retries: 2 }, () => BAD);
    r.monitor.start();
    await r.to(4000);
    expect(r.probe.times).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(r.monitor.status).toMatchObject({ health: 'starting', failures: 0, checks: 5, lastDetail: 'HTTP 503' });
    await r.to(5000);
    expect(r.monitor.status).toMatchObject({ health: 'starting', failures: 1 });
    await r.to(6000);
    expect(r.monitor.status).toMatchObject({ health: 'unhealthy', failures: 2, since: T0 + 6000 });
    // Unhealthy: back to the interval.
    await r.to(30_000);
    expect(r.probe.times.slice(5)).toEqual([5000, 6000, 16_000, 26_000]);
    expect(r.changes).toEqual(['off->starting', 'starting->unhealthy']);
  });

  it('start_period: a success during it makes healthy at once', async () => {
    const r = rig({ startPeriodMs: 30_000 }, (n) => (n < 2 ? BAD : OK));
    r.monitor.start();
    await r.to(2000);
    expect(r.monitor.status).toMatchObject({ health: 'healthy', failures: 0, since: T0 + 2000 });
    expect(r.changes).toEqual(['off->starting', 'starting->healthy']);
  });

  it('without start_period, retries failures from the start make unhealthy', async () => {
    const r = rig({ retries: 3 }, () => BAD);
    r.monitor.start();
    await r.to(1000);
    expect(r.monitor.status).toMatchObject({ health: 'starting', failures: 2 });
    await r.to(2000);
    expect(r.monitor.status).toMatchObject({ health: 'unhealthy', failures: 3 });
    expect(healthNote(r.monitor.status)).toBe('unhealthy (3 failed checks: HTTP 503)');
  });

  it('retries consecutive failures after healthy make unhealthy, with one onChange', async () => {
    const script = [OK, BAD, BAD, BAD, BAD, BAD];
    const r = rig({ retries: 3 }, (n) => script[n] ?? BAD);
    r.monitor.start();
    await r.to(0);
    expect(r.monitor.status.health).toBe('healthy');
    await r.to(20_000);
    expect(r.monitor.status).toMatchObject({ health: 'healthy', failures: 2 });
    await r.to(30_000);
    expect(r.monitor.status).toMatchObject({ health: 'unhealthy', failures: 3, since: T0 + 30_000 });
    await r.to(50_000);
    expect(r.monitor.status).toMatchObject({ health: 'unhealthy', failures: 5, checks: 6, since: T0 + 30_000 });
    expect(r.changes).toEqual(['off->starting', 'starting->healthy', 'healthy->unhealthy']);
  });

  it('a success between failures starts the count over', async () => {
    const script = [OK, BAD, BAD, OK, BAD, BAD];
    const r = rig({ retries: 3 }, (n) => script[n] ?? OK);
    r.monitor.start();
    await r.to(50_000);
    expect(r.monitor.status).toMatchObject({ health: 'healthy', failures: 2, checks: 6 });
    expect(r.changes).toEqual(['off->starting', 'starting->healthy']);
  });

  it('a success after unhealthy makes healthy again', async () => {
    const r = rig({ retries: 1 }, (n) => (n < 2 ? BAD : OK));
    r.monitor.start();
    await r.to(0);
    expect(r.monitor.status).toMatchObject({ health: 'unhealthy', failures: 1 });
    expect(healthNote(r.monitor.status)).toBe('unhealthy (1 failed check: HTTP 503)');
    await r.to(20_000);
    expect(r.probe.times).toEqual([0, 10_000, 20_000]);
    expect(r.monitor.status).toMatchObject({ health: 'healthy', failures: 0, lastDetail: 'HTTP 200' });
    expect(r.changes).toEqual(['off->starting', 'starting->unhealthy', 'unhealthy->healthy']);
  });

  it('onChange gets the new status and the one before', async () => {
    const seen: Array<[HealthStatus, HealthStatus]> = [];
    const clock = new FakeClock();
    const m = new HealthMonitor(OPTS, () => Promise.resolve(OK), clock, (now, before) => seen.push([now, before]));
    m.start();
    await flush();
    expect(seen.map(([n, b]) => [b.health, n.health])).toEqual([['off', 'starting'], ['starting', 'healthy']]);
    expect(seen[1]![0]).toBe(m.status);
    expect(seen[1]![1]).toBe(seen[0]![0]);
  });
});

describe('HealthMonitor: timeouts and late results', () => {
  it('a check still running after timeout is a failure; its late result is ignored', async () => {
    const r = rig({ timeoutMs: 5000, retries: 2 });
    r.monitor.start();
    await r.to(4999);
    expect(r.monitor.status.checks).toBe(0);
    await r.to(5000);
    expect(r.monitor.status).toMatchObject({ health: 'starting', failures: 1, checks: 1, lastDetail: 'timed out after 5 s' });
    // The next was due at 1000: it runs at once.
    expect(r.probe.times).toEqual([0, 5000]);
    r.probe.calls[0]!.answer(OK);
    await r.to(5000);
    expect(r.monitor.status).toMatchObject({ health: 'starting', failures: 1, checks: 1 });
    r.probe.calls[1]!.answer(OK);
    await r.to(5000);
    expect(r.monitor.status).toMatchObject({ health: 'healthy', checks: 2 });
  });

  it('a timeout under a second reads as such', async () => {
    const r = rig({ timeoutMs: 200, retries: 1 });
    r.monitor.start();
    await r.to(200);
    expect(r.monitor.status).toMatchObject({ health: 'unhealthy', lastDetail: 'timed out after 0.2 s' });
  });

  it('a probe that rejects or throws is a failure, not a crash', async () => {
    const clock = new FakeClock();
    let n = 0;
    const probe: Probe = () => {
      n++;
      if (n === 1) return Promise.reject(new Error('boom'));
      throw new Error('bang\nsecond line');
    };
    const m = new HealthMonitor({ ...OPTS, retries: 2 }, probe, clock, () => {});
    m.start();
    await flush();
    expect(m.status).toMatchObject({ health: 'starting', failures: 1, lastDetail: 'probe failed: boom' });
    clock.advance(1000);
    await flush();
    expect(m.status).toMatchObject({ health: 'unhealthy', failures: 2, lastDetail: 'probe failed: bang second line' });
  });

  it('a result after stop() is ignored; stop() leaves no timer', async () => {
    const r = rig();
    r.monitor.start();
    r.monitor.stop();
    expect(r.clock.pending()).toBe(0);
    r.probe.calls[0]!.answer(OK);
    await r.to(60_000);
    expect(r.monitor.status.health).toBe('off');
    expect(r.probe.calls).toHaveLength(1);
    expect(r.changes).toEqual(['off->starting', 'starting->off']);
  });

  it('start() after stop() starts fresh; the old check cannot answer for the new one', async () => {
    const r = rig({ retries: 1 });
    r.monitor.start();
    r.probe.calls[0]!.answer(BAD);
    await r.to(0);
    expect(r.monitor.status).toMatchObject({ health: 'unhealthy', checks: 1 });
    await r.to(10_000); // a second check in flight
    r.monitor.stop();
    expect(r.monitor.status).toMatchObject({ health: 'off', failures: 0, checks: 0, lastDetail: 'HTTP 503', since: T0 + 10_000 });
    r.clock.advance(1000);
    r.monitor.start();
    expect(r.monitor.status).toMatchObject({ health: 'starting', failures: 0, checks: 0, lastDetail: null, since: T0 + 11_000 });
    expect(r.probe.times).toEqual([0, 10_000, 11_000]);
    r.probe.calls[1]!.answer(OK);
    await r.to(11_000);
    expect(r.monitor.status).toMatchObject({ health: 'starting', checks: 0 });
    r.probe.calls[2]!.answer(OK);
    await r.to(11_000);
    expect(r.monitor.status).toMatchObject({ health: 'healthy', checks: 1 });
    expect(r.changes).toEqual(['off->starting', 'starting->unhealthy', 'unhealthy->off', 'off->starting', 'starting->healthy']);
  });

  it('start() while running and stop() while off change nothing', () => {
    const r = rig();
    r.monitor.stop();
    r.monitor.start();
    r.monitor.start();
    expect(r.probe.calls).toHaveLength(1);
    expect(r.changes).toEqual(['off->starting']);
  });

  it('onChange may stop the monitor (healthcheck_action=restart): nothing runs after', async () => {
    const r = rig({ retries: 1 }, () => BAD, (m, now) => {
      if (now.health === 'unhealthy') m.stop();
    });
    r.monitor.start();
    await r.to(60_000);
    expect(r.probe.calls).toHaveLength(1);
    expect(r.clock.pending()).toBe(0);
    expect(r.changes).toEqual(['off->starting', 'starting->unhealthy', 'unhealthy->off']);
  });

  it('onChange may stop the monitor on starting: no check runs', () => {
    const r = rig({}, undefined, (m, now) => {
      if (now.health === 'starting') m.stop();
    });
    r.monitor.start();
    expect(r.probe.calls).toHaveLength(0);
    expect(r.clock.pending()).toBe(0);
    expect(r.monitor.status.health).toBe('off');
  });

  it('dispose() is silent, leaves no timer, and start() after it does nothing', async () => {
    const r = rig({}, () => OK);
    r.monitor.start();
    await r.to(0);
    r.monitor.dispose();
    expect(r.monitor.status).toEqual(OFF);
    expect(r.clock.pending()).toBe(0);
    r.monitor.start();
    await r.to(60_000);
    expect(r.probe.calls).toHaveLength(1);
    expect(r.changes).toEqual(['off->starting', 'starting->healthy']);
  });
});

describe('judge()', () => {
  const status = (health: Health, failures = 0, since: number | null = 1): HealthStatus => ({
    health,
    failures,
    checks: 4,
    lastDetail: 'x',
    lastCheckWall: 1,
    since,
  });
  const o: HealthOptions = { intervalMs: 10_000, timeoutMs: 5000, retries: 3, startPeriodMs: 30_000 };
  const IN = 29_999; // sinceStart inside start_period
  const AFTER = 30_000;

  it.each<[string, Health, number, ProbeResult, number, Health, number]>([
    // name, health, failures, result, sinceStart, -> health, failures
    ['starting + success in start_period -> healthy', 'starting', 0, OK, 0, 'healthy', 0],
    ['starting + failure in start_period: not counted', 'starting', 0, BAD, IN, 'starting', 0],
    ['starting + failure after start_period: counted', 'starting', 0, BAD, AFTER, 'starting', 1],
    ['starting + the retries-th failure -> unhealthy', 'starting', 2, BAD, AFTER, 'unhealthy', 3],
    ['starting + success after failures -> healthy, reset', 'starting', 2, OK, AFTER, 'healthy', 0],
    ['healthy + failure in start_period: counted (the period ended with the first success)', 'healthy', 0, BAD, IN, 'healthy', 1],
    ['healthy + the retries-th failure -> unhealthy', 'healthy', 2, BAD, AFTER, 'unhealthy', 3],
    ['healthy + success resets failures', 'healthy', 2, OK, AFTER, 'healthy', 0],
    ['unhealthy + failure: stays, counts on', 'unhealthy', 3, BAD, AFTER, 'unhealthy', 4],
    ['unhealthy + success -> healthy', 'unhealthy', 7, OK, AFTER, 'healthy', 0],
    ['off is taken as a fresh start', 'off', 0, BAD, IN, 'starting', 0],
  ])('%s', (_name, health, failures, result, sinceStart, wantHealth, wantFailures) => {
    const next = judge(status(health, failures), result, { sinceStart, wall: 99 }, o);
    expect(next).toEqual({
      health: wantHealth,
      failures: wantFailures,
      checks: 5,
      lastDetail: result.detail,
      lastCheckWall: 99,
      since: wantHealth === health ? 1 : 99,
    });
  });

  it('retries below 1 count as 1', () => {
    expect(judge(status('healthy'), BAD, { sinceStart: 0, wall: 2 }, { ...o, retries: 0 }).health).toBe('unhealthy');
  });

  it('is pure: the input is left as it was', () => {
    const s = Object.freeze(status('healthy', 2));
    expect(() => judge(s, BAD, { sinceStart: 0, wall: 2 }, o)).not.toThrow();
    expect(s.failures).toBe(2);
  });

  it('cadence(): min(interval, 1 s) while starting, the interval after', () => {
    expect(cadence('starting', o)).toBe(1000);
    expect(cadence('healthy', o)).toBe(10_000);
    expect(cadence('unhealthy', o)).toBe(10_000);
    expect(cadence('starting', { ...o, intervalMs: 300 })).toBe(300);
  });
});

describe('healthNote() and healthOptions()', () => {
  it('describes each health', () => {
    expect(healthNote(OFF)).toBeNull();
    expect(healthNote({ ...OFF, health: 'starting' })).toBe('health starting');
    expect(healthNote({ ...OFF, health: 'healthy', lastDetail: 'HTTP 200' })).toBe('healthy');
    expect(healthNote({ ...OFF, health: 'unhealthy', failures: 3, lastDetail: 'connection refused (127.0.0.1:8080)' })).toBe(
      'unhealthy (3 failed checks: connection refused (127.0.0.1:8080))',
    );
  });

  it('turns the seconds of the config into ms', () => {
    const f = {
      healthcheck_interval: 10,
      healthcheck_timeout: 0.5,
      healthcheck_retries: 3,
      healthcheck_start_period: 1.25,
    } as FastvisorProgramOptions;
    expect(healthOptions(f)).toEqual({ intervalMs: 10_000, timeoutMs: 500, retries: 3, startPeriodMs: 1250 });
  });
});
