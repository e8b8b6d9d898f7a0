// SPDX-License-Identifier: MIT
// fastvisor-only [program:x] options: defaults that keep supervisord's
// behaviour, the values as read, and each bad value refused at load with the
// option, section and file named.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import type { ProcessConfig } from '../../../src/config/model.js';
import { duration, percent } from '../../../src/config/fastvisor-options.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

function load(program: string, supervisord = ''): ProcessConfig {
  const dir = tmpDir('fv-opts-');
  const conf = path.join(dir, 'supervisord.conf');
  writeFileSync(conf, `[supervisord]\n${supervisord}\n[program:a]\ncommand=/bin/true\n${program}\n`);
  return loadConfig({ configfile: conf }).groups[0]!.processes[0]!;
}

describe('fastvisor-only program options', () => {
  it('defaults: supervisord 4.2.5 behaviour', () => {
    const p = load('');
    expect(p.startretries).toBe(3);
    expect(p.fastvisor).toEqual({
      backoff: 'linear',
      backoff_initial: 1,
      backoff_max: 300,
      backoff_jitter: 0,
      backoff_reset_after: 600,
      restart_delay: 0,
      environment_file: [],
      schedule: null,
      schedule_timezone: null,
    });
  });

  it('reads every option', () => {
    const p = load(
      [
        'startretries=forever',
        'backoff=Exponential',
        'backoff_initial=500ms',
        'backoff_max=2m',
        'backoff_jitter=25%',
        'backoff_reset_after=1h',
        'restart_delay=5',
        'environment_file=/etc/app.env, -%(here)s/local.env',
        'schedule=*/5 * * * *',
        'schedule_timezone=Europe/Berlin',
      ].join('\n'),
      'environment_file=/etc/common.env',
    );
    expect(p.startretries).toBe(-1);
    expect(p.fastvisor).toMatchObject({
      backoff: 'exponential',
      backoff_initial: 0.5,
      backoff_max: 120,
      backoff_jitter: 0.25,
      backoff_reset_after: 3600,
      restart_delay: 5,
      schedule: '*/5 * * * *',
      schedule_timezone: 'Europe/Berlin',
    });
    expect(p.fastvisor.environment_file.map((f) => [path.basename(f.path), f.optional])).toEqual([
      ['common.env', false],
      ['app.env', false],
      ['local.env', true],
    ]);
    expect(load('startretries=-1').startretries).toBe(-1);
  });

  it.each([
    ['backoff=sometimes', "backoff: 'sometimes' is neither 'linear' nor 'exponential'"],
    ['backoff_initial=soon', "backoff_initial: invalid duration 'soon' (use e.g. 500ms, 10s, 5m, 1h)"],
    ['backoff_max=8d', 'backoff_max: 8d is longer than the 7 days allowed'],
    ['backoff_initial=10s\nbackoff_max=5s', 'backoff_max is shorter than backoff_initial'],
    ['backoff_jitter=150%', "backoff_jitter: invalid percentage '150%' (0% to 100%)"],
    ['restart_delay=-1', "restart_delay: invalid duration '-1' (use e.g. 500ms, 10s, 5m, 1h)"],
    ['schedule=61 * * * *', "schedule: invalid schedule '61 * * * *': minute 61 is out of range 0-59"],
    ['schedule_timezone=Mars/Olympus', "schedule_timezone: unknown time zone 'Mars/Olympus'"],
    ['startretries=always', "invalid literal for int() with base 10: 'always'"],
  ])('%s is refused', (option, message) => {
    expect(() => load(option)).toThrow(message);
    expect(() => load(option)).toThrow("in section 'program:a'");
  });

  it('duration and percent', () => {
    expect(duration('1.5m', 'x')).toBe(90);
    expect(duration(' 2H ', 'x')).toBe(7200);
    expect(percent('0', 'x')).toBe(0);
    expect(percent('100%', 'x')).toBe(1);
  });
});
