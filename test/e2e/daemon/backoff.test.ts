// SPDX-License-Identifier: MIT
// fastvisor's backoff options with a real daemon and real children: each child
// appends its own start time (date +%s.%N) to a file, so the waits are
// measured between spawns as the children saw them. startretries=forever,
// restart_delay, and what the real Python supervisorctl prints while a
// process waits. (The rules themselves, to the millisecond: machine.test.ts.)
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, supervisorctl, type Daemon } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);
afterAll(removeTmpDirs);

interface Info {
  statename: string;
  description: string;
  exitstatus: number;
}

const info = async (d: Daemon, name: string): Promise<Info> => (await d.rpc('supervisor.getProcessInfo', name)) as unknown as Info;

/** Start times (s) the children recorded, in order. */
function starts(d: Daemon, name: string): number[] {
  const f = path.join(d.dir, `${name}.starts`);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => /^\d+\.\d+$/.test(l))
    .map(Number);
}

const gaps = (ts: number[]): number[] => ts.slice(1).map((t, i) => t - ts[i]!);

/** A program that records its start, then (after `run` seconds) exits with `code`. */
const recorder = (name: string, run: number, code: number): string =>
  `command=/bin/sh -c 'date +%%s.%%N >> %(here)s/${name}.starts; ${run ? `sleep ${run}; ` : ''}exit ${code}'`;

// Timers fire at or after their deadline; the rest is the daemon's and the
// child's own latency (fork, exec of sh and date), small but not zero on a busy machine.
const EARLY = 0.03;
const LATE = 0.6;

function expectWaits(measured: number[], waits: number[], extra = 0): void {
  expect(measured).toHaveLength(waits.length);
  measured.forEach((g, i) => {
    const want = waits[i]! + extra;
    expect(g, `gap ${i + 1}: ${g.toFixed(3)} s for a ${want} s wait`).toBeGreaterThanOrEqual(want - EARLY);
    expect(g, `gap ${i + 1}: ${g.toFixed(3)} s for a ${want} s wait`).toBeLessThanOrEqual(want + LATE);
  });
}

describe('fastvisor: backoff between failed starts', () => {
  it('backoff=exponential: 0.1, 0.2, 0.4, 0.8, 1.6 s between spawns, a log line per attempt, then FATAL after startretries', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:a]\n${recorder('a', 0, 1)}\nstartsecs=1\nstartretries=5\nbackoff=exponential\nbackoff_initial=100ms\nbackoff_max=10s\n`,
    );
    await pollUntil(async () => (await info(d, 'a')).statename === 'FATAL', { timeout: 12_000, what: 'a FATAL' });
    const ts = starts(d, 'a');
    expectWaits(gaps(ts), [0.1, 0.2, 0.4, 0.8, 1.6]);
    const waiting = d.mainLog().split('\n').filter((l) => l.includes('INFO waiting'));
    expect(waiting.map((l) => l.replace(/^\S+ \S+ /, ''))).toEqual([
      "INFO waiting 0.1 s before starting 'a' again (attempt 2, exponential backoff)",
      "INFO waiting 0.2 s before starting 'a' again (attempt 3, exponential backoff)",
      "INFO waiting 0.4 s before starting 'a' again (attempt 4, exponential backoff)",
      "INFO waiting 0.8 s before starting 'a' again (attempt 5, exponential backoff)",
      "INFO waiting 1.6 s before starting 'a' again (attempt 6, exponential backoff)",
    ]);
    expect(d.mainLog()).toContain('gave up: a entered FATAL state, too many start retries too quickly');
  });

  it('startretries=forever survives 20 failures and keeps going; stop ends it', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:a]\n${recorder('a', 0, 1)}\nstartsecs=1\nstartretries=forever\nbackoff=exponential\nbackoff_initial=10ms\nbackoff_max=50ms\n`,
    );
    await pollUntil(() => starts(d, 'a').length >= 22, { timeout: 12_000, interval: 20, what: '22 starts of a' });
    const state = (await info(d, 'a')).statename;
    expect(['BACKOFF', 'STARTING']).toContain(state);
    const log = d.mainLog();
    expect(log).not.toContain('gave up');
    expect(log).not.toContain('FATAL');
    expect(log).toMatch(/INFO waiting 0\.05 s before starting 'a' again \(attempt 21, exponential backoff\)/);
    // The waits never grew past backoff_max.
    for (const g of gaps(starts(d, 'a'))) expect(g).toBeLessThanOrEqual(0.05 + LATE);
    const r = supervisorctl(d.conf, ['stop', 'a']);
    expect(r.stdout).toBe('a: stopped\n');
    expect((await info(d, 'a')).statename).toBe('STOPPED');
  });
});

describe('fastvisor: restart_delay after exits from RUNNING', () => {
  it('restart_delay=400ms, exponential: 0.4, 0.8, 1.6 s between an exit and the next spawn', async () => {
    // startsecs=0: every exit is after RUNNING; each run lasts 0.2 s.
    const d = await startDaemon(
      'fastvisor',
      `[program:a]\n${recorder('a', 0.2, 3)}\nstartsecs=0\nautorestart=unexpected\nrestart_delay=400ms\nbackoff=exponential\nbackoff_max=10s\n`,
    );
    await pollUntil(() => starts(d, 'a').length >= 4, { timeout: 12_000, interval: 20, what: '4 starts of a' });
    // gap = the 0.2 s run + the wait
    expectWaits(gaps(starts(d, 'a')).slice(0, 3), [0.4, 0.8, 1.6], 0.2);
    const log = d.mainLog().split('\n').map((l) => l.replace(/^\S+ \S+ /, ''));
    const i = log.indexOf('WARN exited: a (exit status 3; not expected)');
    expect(i).toBeGreaterThan(0);
    expect(log[i + 1]).toBe("INFO waiting 0.4 s before restarting 'a' (restart 1, exponential backoff)");
    expect(log).toContain("INFO waiting 0.8 s before restarting 'a' (restart 2, exponential backoff)");
    expect(log).toContain("INFO waiting 1.6 s before restarting 'a' (restart 3, exponential backoff)");
    // Never a failed start: no tries, no FATAL.
    expect(d.mainLog()).not.toContain('gave up');
  });

  it('supervisorctl while a process waits: BACKOFF with what is going on; start and restart start it now, stop cancels', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:a]\n${recorder('a', 0.2, 3)}\nstartsecs=0\nrestart_delay=30s\n\n` +
        `[program:b]\n${recorder('b', 0, 1)}\nstartsecs=1\nstartretries=forever\nbackoff_initial=30s\n`,
    );
    await pollUntil(async () => (await info(d, 'a')).statename === 'BACKOFF' && (await info(d, 'b')).statename === 'BACKOFF', {
      what: 'a and b BACKOFF',
    });
    const status = supervisorctl(d.conf, ['status']);
    const lines = status.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^a {32}BACKOFF {3}Bad exit code 3; exited once; next start in (30|2\d(\.\d)?) s$/);
    expect(lines[1]).toMatch(
      /^b {32}BACKOFF {3}Exited too quickly \(process log may have details\); failed to start once; next start in (30|2\d(\.\d)?) s$/,
    );
    // BACKOFF is one of supervisord's RUNNING_STATES: status exits 0, as for any process meant to run.
    expect(status.status).toBe(0);

    // A failed start's BACKOFF is refused, as supervisord does: it will start by itself.
    expect(supervisorctl(d.conf, ['start', 'b']).stdout).toBe('b: ERROR (already started)\n');
    // restart_delay's wait ends when it is started by hand.
    expect(supervisorctl(d.conf, ['start', 'a']).stdout).toBe('a: started\n');
    expect(starts(d, 'a')).toHaveLength(2);
    await pollUntil(async () => (await info(d, 'a')).statename === 'BACKOFF', { what: 'a BACKOFF again' });
    // restart (stop, then start) starts it now, and the count starts over.
    expect(supervisorctl(d.conf, ['restart', 'a']).stdout).toBe('a: stopped\na: started\n');
    expect(starts(d, 'a')).toHaveLength(3);
    await pollUntil(async () => (await info(d, 'a')).statename === 'BACKOFF', { what: 'a BACKOFF again' });
    expect((await info(d, 'a')).description).toMatch(/^Bad exit code 3; exited once; next start in /);

    // stop cancels the wait.
    expect(supervisorctl(d.conf, ['stop', 'a']).stdout).toBe('a: stopped\n');
    const a = await info(d, 'a');
    expect(a.statename).toBe('STOPPED');
    expect(a.description).not.toContain('next start');
    // stop all takes b's retries too.
    expect(supervisorctl(d.conf, ['stop', 'all']).stdout).toBe('b: stopped\n');
    expect((await info(d, 'b')).statename).toBe('STOPPED');
    expect(starts(d, 'a')).toHaveLength(3);
    expect(starts(d, 'b')).toHaveLength(1);
  });
});
