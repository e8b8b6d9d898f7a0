// SPDX-License-Identifier: MIT
// schedule= (fastvisor only) with a real daemon and the real supervisorctl: not autostarted,
// `start x` runs it now, a 0.2 s run is EXITED (expected), an exit code not in exitcodes is
// logged and shown; then one minute boundary: the run starts on the minute, and a run that
// still goes on from before is skipped with one line. One wait of at most a minute in all.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, supervisorctl } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { tmpDir } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);

interface Info {
  statename: string;
  description: string;
  exitstatus: number;
  spawnerr: string;
  pid: number;
}

const MIN = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** cron.describeNext's text for UTC */
const utc = (ms: number): string => {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
};
const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('fastvisor: schedule=', () => {
  it('starts on the minute, skips a run that still runs, start x runs it now; status and getProcessInfo show the next run and the last exit', { timeout: 120_000 }, async () => {
    // The checks before the boundary need a few seconds of it.
    const toBoundary = MIN - (Date.now() % MIN);
    if (toBoundary < 12_000) await sleep(toBoundary + 300);

    const dir = tmpDir('fv-schedule-');
    const conf = `[program:quick]
command=/bin/sh -c 'date +%%s.%%N >> %(here)s/quick.starts; sleep 0.2'
schedule=* * * * *
schedule_timezone=UTC

[program:long]
command=/bin/sleep 1000
schedule=* * * * *
schedule_timezone=UTC

[program:bad]
command=/bin/sh -c 'sleep 0.3; exit 3'
schedule=* * * * *
schedule_timezone=UTC
exitcodes=0
`;
    const d = await startDaemon('fastvisor', conf, { dir });
    const boundary = Math.ceil(Date.now() / MIN) * MIN;
    const info = async (name: string): Promise<Info> => (await d.rpc('supervisor.getProcessInfo', name)) as unknown as Info;
    const exited = (name: string): Promise<Info> =>
      pollUntil(
        async () => {
          const i = await info(name);
          return i.statename === 'EXITED' && i;
        },
        { what: `${name} EXITED` },
      );
    const starts = (): number[] => {
      try {
        return readFileSync(path.join(dir, 'quick.starts'), 'utf8').trim().split('\n').map(Number);
      } catch {
        return [];
      }
    };

    // Not autostarted; the next run is the coming minute.
    for (const name of ['quick', 'long', 'bad']) {
      const i = await info(name);
      expect(i.statename).toBe('STOPPED');
      expect(i.description).toBe(`Not started; next run ${utc(boundary)}`);
    }

    // `start x` runs it now; a 0.2 s run (startsecs is 1) is a success: EXITED, no BACKOFF.
    expect(supervisorctl(d.conf, ['start', 'long']).stdout).toBe('long: started\n');
    expect(supervisorctl(d.conf, ['start', 'quick']).stdout).toBe('quick: started\n');
    const quick = await exited('quick');
    expect(quick.exitstatus).toBe(0);
    expect(quick.description).toMatch(new RegExp(`^\\w{3} \\d\\d \\d\\d:\\d\\d [AP]M; next run ${utc(boundary)}, last exit 0 at \\d\\d:\\d\\d:\\d\\d$`));
    expect(starts()).toHaveLength(1);

    // An exit code not in exitcodes: logged, EXITED, the last result; no restart.
    expect(supervisorctl(d.conf, ['start', 'bad']).stdout).toBe('bad: started\n');
    const bad = await exited('bad');
    expect(bad.exitstatus).toBe(3);
    expect(bad.spawnerr).toBe('Bad exit code 3');
    expect(bad.description).toMatch(/; next run .* UTC, last exit 3 at \d\d:\d\d:\d\d \(not expected\)$/);
    expect(d.mainLog()).toContain('WARN exited: bad (exit status 3; not expected)');

    // The real supervisorctl shows the same descriptions.
    const status = supervisorctl(d.conf, ['status']).stdout;
    expect(status).toMatch(new RegExp(`^bad +EXITED +.*; next run ${utc(boundary)}, last exit 3 at \\d\\d:\\d\\d:\\d\\d \\(not expected\\)$`, 'm'));
    expect(status).toMatch(new RegExp(`^long +RUNNING +pid \\d+, uptime 0:00:\\d\\d; next run ${utc(boundary)}$`, 'm'));
    expect(status).toMatch(new RegExp(`^quick +EXITED +.*; next run ${utc(boundary)}, last exit 0 at \\d\\d:\\d\\d:\\d\\d$`, 'm'));
    const longPid = (await info('long')).pid;
    expect(Date.now()).toBeLessThan(boundary); // the checks above came before the minute

    // The minute: quick and bad run, long is still running from `start long`.
    await pollUntil(() => starts().length >= 2 && count(d.mainLog(), "spawned: 'bad'") >= 2 && d.mainLog().includes('skipped:'), {
      timeout: boundary - Date.now() + 10_000,
      interval: 50,
      what: 'the runs of the minute',
    });
    const started = starts()[1]! * 1000;
    expect(started).toBeGreaterThanOrEqual(boundary);
    expect(started - boundary).toBeLessThan(1500);
    await exited('quick');
    await exited('bad');
    await sleep(1000);
    const log = d.mainLog();
    expect(count(log, 'skipped:')).toBe(1);
    expect(log).toContain(`WARN skipped: long (scheduled run of ${utc(boundary)}; still RUNNING, pid ${longPid})`);
    expect(count(log, "spawned: 'bad'")).toBe(2);
    expect(count(log, 'WARN exited: bad (exit status 3; not expected)')).toBe(2);
    expect(log).not.toContain('gave up');
    expect(starts()).toHaveLength(2);
    expect((await info('long')).pid).toBe(longPid);
    expect((await info('quick')).description).toMatch(new RegExp(`; next run ${utc(boundary + MIN)}, last exit 0 at \\d\\d:\\d\\d:\\d\\d$`));
  });
});
