// SPDX-License-Identifier: MIT
// *_logfile_rotate_every's calendar boundaries (native/logfile.cc
// next_calendar_boundary): the next start of an hour, a day or a week
// (Monday 00:00) in the daemon's local time, across DST changes. Each zone
// runs in a child Node (TZ is read when the process starts).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { REPO } from '../helpers/daemon-harness.js';

const TSX = path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');

/** The boundaries after each time (ISO, with its offset), as local ISO strings, in zone tz. */
function boundaries(tz: string, times: string[]): Record<string, Record<string, string>> {
  const script = `
import { nextRotationBoundary } from ${JSON.stringify(path.join(REPO, 'src', 'native', 'index.ts'))};
const out = {};
for (const t of ${JSON.stringify(times)}) {
  const s = Date.parse(t) / 1000;
  out[t] = {};
  for (const e of ['hourly', 'daily', 'weekly']) out[t][e] = new Date(nextRotationBoundary(e, s) * 1000).toISOString();
}
console.log(JSON.stringify(out));`;
  const text = execFileSync(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], {
    cwd: REPO,
    env: { ...process.env, TZ: tz },
    encoding: 'utf8',
  });
  return JSON.parse(text) as Record<string, Record<string, string>>;
}

describe('rotate_every: calendar boundaries in local time', () => {
  it('UTC: the next hour, midnight, and Monday midnight; a boundary is never the present', () => {
    const b = boundaries('UTC', ['2026-12-06T09:24:06Z', '2026-12-07T00:00:00Z', '2026-12-05T23:59:59Z']);
    // 2026-12-06 is a Sunday.
    expect(b['2026-12-06T09:24:06Z']).toEqual({ hourly: '2026-12-06T10:00:00.000Z', daily: '2026-12-07T00:00:00.000Z', weekly: '2026-12-07T00:00:00.000Z' });
    // On a boundary itself (a Monday midnight): the next one.
    expect(b['2026-12-07T00:00:00Z']).toEqual({ hourly: '2026-12-07T01:00:00.000Z', daily: '2026-12-08T00:00:00.000Z', weekly: '2026-12-14T00:00:00.000Z' });
    expect(b['2026-12-05T23:59:59Z']).toEqual({ hourly: '2026-12-06T00:00:00.000Z', daily: '2026-12-06T00:00:00.000Z', weekly: '2026-12-07T00:00:00.000Z' });
  });

  it('Europe/Berlin: local midnights, and the DST changes (a 23-hour and a 25-hour day)', () => {
    const b = boundaries('Europe/Berlin', ['2026-12-06T10:24:06+01:00', '2026-03-29T00:30:00+01:00', '2026-03-29T01:30:00+01:00', '2026-10-25T00:30:00+02:00']);
    expect(b['2026-12-06T10:24:06+01:00']).toEqual({ hourly: '2026-12-06T10:00:00.000Z', daily: '2026-12-06T23:00:00.000Z', weekly: '2026-12-06T23:00:00.000Z' });
    // Spring: 02:00 does not exist; the day after has a midnight at +02:00.
    expect(b['2026-03-29T00:30:00+01:00']!.daily).toBe('2026-03-29T22:00:00.000Z');
    expect(b['2026-03-29T01:30:00+01:00']!.hourly).toBe('2026-03-29T01:00:00.000Z'); // 03:00 CEST
    // Autumn: the day is 25 hours long; its next midnight is at +01:00.
    expect(b['2026-10-25T00:30:00+02:00']!.daily).toBe('2026-10-25T23:00:00.000Z');
  });
});
