// SPDX-License-Identifier: MIT
// cron.ts against hand-worked tables (UTC, Europe/Berlin, America/New_York) and, across
// daylight-saving changes in several zones, against a minute-by-minute model of Vixie cron's loop.
import { describe, expect, it } from 'vitest';

import {
  describeNext,
  localTimeZone,
  nextRun,
  parseSchedule,
  validateTimeZone,
  type Schedule,
} from '../../../src/process/cron.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Any ISO form → the UTC ISO form, so a failure shows both instants the same way. */
const utc = (iso: string) => new Date(Date.parse(iso)).toISOString();

function runs(expr: string, zone: string, afterIso: string, count: number): string[] {
  const s = parseSchedule(expr);
  const out: string[] = [];
  let t = Date.parse(afterIso);
  for (let i = 0; i < count; i++) {
    t = nextRun(s, t, zone);
    out.push(new Date(t).toISOString());
  }
  return out;
}

describe('parseSchedule', () => {
  it('reads every field syntax into sorted values', () => {
    const s = parseSchedule('  10-50/10 */6 1,15 jan-MAR/2 5-7 ');
    expect(s).toEqual({
      source: '10-50/10 */6 1,15 jan-MAR/2 5-7',
      minutes: [10, 20, 30, 40, 50],
      hours: [0, 6, 12, 18],
      daysOfMonth: [1, 15],
      months: [1, 3],
      daysOfWeek: [0, 5, 6],
      dayRule: 'or',
      wildcard: true,
    });
  });

  it.each([
    ['* * * * 0', [0]],
    ['* * * * 7', [0]],
    ['* * * * 0,7', [0]],
    ['* * * * SUN', [0]],
    ['* * * * Mon-Fri', [1, 2, 3, 4, 5]],
    ['* * * * */2', [0, 2, 4, 6]],
    ['* * * * 1-7/2', [0, 1, 3, 5]],
    ['* * * * sat,sun', [0, 6]],
  ])('day-of-week %s -> %j (0 and 7 are Sunday)', (expr, days) => {
    expect(parseSchedule(expr).daysOfWeek).toEqual(days);
  });

  it.each([
    ['0 0 1,15 * mon', 'or'],
    ['0 0 1-7 * 1-5', 'or'],
    ['0 0 * * mon', 'and'],
    ['0 0 13 * *', 'and'],
    ['0 0 */2 * mon', 'and'], // Vixie: a field starting with '*' is unrestricted for the rule
    ['0 0 13 * */7', 'and'],
  ])('%s: days by the %s rule', (expr, rule) => {
    expect(parseSchedule(expr).dayRule).toBe(rule);
  });

  it.each([
    ['* * * * *', true],
    ['*/15 * * * *', true],
    ['0 * * * *', true],
    ['*/20 2 * * *', true],
    ['@hourly', true],
    ['30 2 * * *', false],
    ['0,30 0-3 * * *', false],
    ['@daily', false],
  ])('%s is a wildcard job: %s', (expr, wildcard) => {
    expect(parseSchedule(expr).wildcard).toBe(wildcard);
  });

  it.each([
    ['@yearly', '0 0 1 1 *'],
    ['@annually', '0 0 1 1 *'],
    ['@monthly', '0 0 1 * *'],
    ['@weekly', '0 0 * * 0'],
    ['@daily', '0 0 * * *'],
    ['@midnight', '0 0 * * *'],
    ['@hourly', '0 * * * *'],
    ['@DAILY', '0 0 * * *'],
  ])('%s means %s', (macro, fields) => {
    expect({ ...parseSchedule(macro), source: '' }).toEqual({ ...parseSchedule(fields), source: '' });
  });

  it('accepts a day-of-month no February has when the weekday rule makes it run', () => {
    expect(parseSchedule('0 0 30 2 mon').dayRule).toBe('or');
  });

  it.each([
    ['61 * * * *', 'minute 61 is out of range 0-59'],
    ['* 24 * * *', 'hour 24 is out of range 0-23'],
    ['* * 0 * *', 'day-of-month 0 is out of range 1-31'],
    ['* * 32 * *', 'day-of-month 32 is out of range 1-31'],
    ['* * * 13 *', 'month 13 is out of range 1-12'],
    ['* * * 0 *', 'month 0 is out of range 1-12'],
    ['* * * * 8', 'day-of-week 8 is out of range 0-7'],
    ['0-60 * * * *', 'minute 60 is out of range 0-59'],
    ['*/0 * * * *', "minute step 0 in '*/0' must be at least 1"],
    ['* * * * 1-5/0', "day-of-week step 0 in '1-5/0' must be at least 1"],
    ['*/x * * * *', "minute step 'x' in '*/x' is not a number"],
    ['*/ * * * *', "minute '*/' is missing its step"],
    ['5/15 * * * *', "minute '5/15' has a step but no range (write 5-59/15 or */15)"],
    ['10-5 * * * *', "minute range '10-5' is backwards"],
    ['* * * * fri-mon', "day-of-week range 'fri-mon' is backwards"],
    ['-5 * * * *', "minute '-5' is missing a value"],
    ['1,,2 * * * *', "minute has an empty list item in '1,,2'"],
    ['* 1, * * *', "hour has an empty list item in '1,'"],
    ['* * * foo *', "month 'foo' is not a number or a month name (jan-dec)"],
    ['* * * january *', "month 'january' is not a number or a month name (jan-dec)"],
    ['* * * * funday', "day-of-week 'funday' is not a number or a day name (sun-sat)"],
    ['jan * * * *', "minute 'jan' is not a number"],
    ['* * mon * *', "day-of-month 'mon' is not a number"],
    ['1.5 * * * *', "minute '1.5' is not a number"],
    ['* * * *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['* * * * * *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 6'],
    ['', 'expected 5 fields (minute hour day-of-month month day-of-week), got 0'],
    ['@reboot', '@reboot is not supported (autostart=true starts a program with the daemon)'],
    [
      '@fortnightly',
      "unknown macro '@fortnightly' (expected one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)",
    ],
    ['@daily 5', "unexpected '5' after @daily"],
    ['0 0 30 2 *', "never runs: day-of-month '30' does not occur in month '2'"],
    ['0 0 31 apr,jun,sep,nov *', "never runs: day-of-month '31' does not occur in month 'apr,jun,sep,nov'"],
    ['0 0 30,31 feb */2', "never runs: day-of-month '30,31' does not occur in month 'feb'"],
  ])('refuses %j: %s', (text, message) => {
    expect(() => parseSchedule(text)).toThrow(new Error(`invalid schedule '${text.trim()}': ${message}`));
  });

  it('quotes the trimmed text in its message', () => {
    expect(() => parseSchedule('   ')).toThrow("invalid schedule '': expected 5 fields");
  });
});

describe('validateTimeZone', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'europe/berlin'])('knows %s', (zone) => {
    expect(() => validateTimeZone(zone)).not.toThrow();
  });

  it.each(['Mars/Olympus_Mons', '', 'Europe/Berln'])('refuses %j', (zone) => {
    expect(() => validateTimeZone(zone)).toThrow(new Error(`unknown time zone '${zone}'`));
  });

  it('nextRun and describeNext refuse an unknown zone the same way', () => {
    const s = parseSchedule('* * * * *');
    expect(() => nextRun(s, 0, 'Nowhere/Land')).toThrow("unknown time zone 'Nowhere/Land'");
    expect(() => describeNext(0, 'Nowhere/Land')).toThrow("unknown time zone 'Nowhere/Land'");
  });
});

describe('nextRun', () => {
  // 2026-01-01 is a Thursday.
  it.each([
    // [schedule, zone, after, expected next run]
    ['* * * * *', 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z'],
    ['* * * * *', 'UTC', '2026-01-01T00:00:59.999Z', '2026-01-01T00:01:00Z'],
    ['*/5 * * * *', 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:05:00Z'],
    ['*/5 * * * *', 'UTC', '2026-01-01T00:03:27.500Z', '2026-01-01T00:05:00Z'],
    ['5 * * * *', 'UTC', '2026-01-01T00:05:00Z', '2026-01-01T01:05:00Z'],
    ['5 * * * *', 'UTC', '2026-01-01T00:04:59.999Z', '2026-01-01T00:05:00Z'],
    ['5 * * * *', 'UTC', '2026-01-01T00:05:00.001Z', '2026-01-01T01:05:00Z'],
    ['1,3,5 * * * *', 'UTC', '2026-01-01T00:03:00Z', '2026-01-01T00:05:00Z'],
    ['1,3,5 * * * *', 'UTC', '2026-01-01T00:05:00Z', '2026-01-01T01:01:00Z'],
    ['10-50/10 * * * *', 'UTC', '2026-01-01T00:11:00Z', '2026-01-01T00:20:00Z'],
    ['10-50/10 * * * *', 'UTC', '2026-01-01T00:50:00Z', '2026-01-01T01:10:00Z'],
    ['0 9-17 * * *', 'UTC', '2026-01-01T17:00:00Z', '2026-01-02T09:00:00Z'],
    ['0 */6 * * *', 'UTC', '2026-01-01T19:00:00Z', '2026-01-02T00:00:00Z'],
    ['59 23 31 12 *', 'UTC', '2026-12-31T23:59:00Z', '2027-12-31T23:59:00Z'],
    // day-of-week: numbers, names any case, 0 and 7 both Sunday
    ['0 0 * * 1-5', 'UTC', '2026-01-02T00:00:00Z', '2026-01-05T00:00:00Z'],
    ['0 0 * * mon-fri', 'UTC', '2026-01-02T00:00:00Z', '2026-01-05T00:00:00Z'],
    ['0 0 * * SUN', 'UTC', '2026-01-01T00:00:00Z', '2026-01-04T00:00:00Z'],
    ['0 0 * * 0', 'UTC', '2026-01-01T00:00:00Z', '2026-01-04T00:00:00Z'],
    ['0 0 * * 7', 'UTC', '2026-01-01T00:00:00Z', '2026-01-04T00:00:00Z'],
    ['0 0 * * 5-7', 'UTC', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'],
    ['0 0 * * 5-7', 'UTC', '2026-01-04T00:00:00Z', '2026-01-09T00:00:00Z'],
    // months: numbers, names, steps over names
    ['0 0 1 jan,JUL *', 'UTC', '2026-01-01T00:00:00Z', '2026-07-01T00:00:00Z'],
    ['0 0 1 feb-apr/2 *', 'UTC', '2026-02-01T00:00:00Z', '2026-04-01T00:00:00Z'],
    ['0 12 * jun *', 'UTC', '2026-01-01T00:00:00Z', '2026-06-01T12:00:00Z'],
    ['0 12 * 6 *', 'UTC', '2026-06-30T12:00:00Z', '2027-06-01T12:00:00Z'],
    // Vixie's day rule: both restricted -> either matches
    ['0 0 13 * 5', 'UTC', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'],
    ['0 0 13 * 5', 'UTC', '2026-01-09T00:00:00Z', '2026-01-13T00:00:00Z'],
    ['0 0 1,15 * mon', 'UTC', '2026-01-12T00:00:00Z', '2026-01-15T00:00:00Z'],
    ['0 0 30 2 mon', 'UTC', '2026-01-31T00:00:00Z', '2026-02-02T00:00:00Z'],
    // ... one of them starting with '*' -> both must match (Jan 5 is odd, Jan 12 even)
    ['0 0 */2 * mon', 'UTC', '2026-01-01T00:00:00Z', '2026-01-05T00:00:00Z'],
    ['0 0 */2 * mon', 'UTC', '2026-01-05T00:00:00Z', '2026-01-19T00:00:00Z'],
    ['0 0 13 * *', 'UTC', '2026-01-13T00:00:00Z', '2026-02-13T00:00:00Z'],
    // macros
    ['@hourly', 'UTC', '2026-01-01T00:30:00Z', '2026-01-01T01:00:00Z'],
    ['@daily', 'UTC', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'],
    ['@midnight', 'UTC', '2026-01-01T12:00:00Z', '2026-01-02T00:00:00Z'],
    ['@weekly', 'UTC', '2026-01-01T00:00:00Z', '2026-01-04T00:00:00Z'],
    ['@monthly', 'UTC', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'],
    ['@yearly', 'UTC', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['@annually', 'UTC', '2026-06-15T00:00:00Z', '2027-01-01T00:00:00Z'],
    // month ends and leap years
    ['0 0 31 * *', 'UTC', '2026-01-31T00:00:00Z', '2026-03-31T00:00:00Z'],
    ['0 0 30 * *', 'UTC', '2026-01-30T00:00:00Z', '2026-03-30T00:00:00Z'],
    ['0 0 29 * *', 'UTC', '2026-01-29T00:00:00Z', '2026-03-29T00:00:00Z'],
    ['0 0 29 * *', 'UTC', '2028-01-29T00:00:00Z', '2028-02-29T00:00:00Z'],
    ['0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', '2028-02-29T00:00:00Z'],
    ['0 0 29 2 *', 'UTC', '2096-02-29T00:00:00Z', '2104-02-29T00:00:00Z'], // 2100 is no leap year
    ['0 0 29 2 */7', 'UTC', '2088-03-01T00:00:00Z', '2128-02-29T00:00:00Z'], // Feb 29 and Sunday
    ['0 0 1 3 *', 'UTC', '2100-02-28T00:00:00Z', '2100-03-01T00:00:00Z'],
    // zones without a change in sight
    ['5 10 * * *', 'Europe/Berlin', '2026-12-06T00:00:00+01:00', '2026-12-06T10:05:00+01:00'],
    ['5 10 * * *', 'Europe/Berlin', '2026-07-06T10:05:00+02:00', '2026-07-07T10:05:00+02:00'],
    ['0 0 * * *', 'America/New_York', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00-05:00'],
    ['0 0 1 * *', 'America/New_York', '2026-06-15T00:00:00-04:00', '2026-07-01T00:00:00-04:00'],
    ['0 0 1 * *', 'Asia/Kolkata', '2026-06-15T00:00:00Z', '2026-07-01T00:00:00+05:30'],
    // the local date differs from the UTC date
    ['0 23 * * 5', 'America/New_York', '2026-01-03T00:00:00Z', '2026-01-02T23:00:00-05:00'],
    ['30 0 1 1 *', 'Europe/Berlin', '2026-12-31T23:00:00Z', '2027-01-01T00:30:00+01:00'],
  ])('%s in %s after %s -> %s', (expr, zone, after, expected) => {
    expect(new Date(nextRun(parseSchedule(expr), Date.parse(after), zone)).toISOString()).toBe(
      utc(expected),
    );
  });

  it('uses the daemon zone when none is given', () => {
    const s = parseSchedule('17 3 * * *');
    const after = Date.parse('2026-05-05T05:05:05Z');
    expect(nextRun(s, after)).toBe(nextRun(s, after, localTimeZone()));
  });

  it('refuses a non-finite start', () => {
    expect(() => nextRun(parseSchedule('* * * * *'), NaN, 'UTC')).toThrow(RangeError);
  });

  it('returns NaN for a schedule that never matches, after a bounded search', () => {
    const never: Schedule = { ...parseSchedule('0 0 1 1 *'), months: [] };
    expect(nextRun(never, Date.parse('2026-01-01T00:00:00Z'), 'Europe/Berlin')).toBeNaN();
  });
});

describe('nextRun through daylight saving (Vixie cron: fixed-time vs wildcard jobs)', () => {
  describe('spring forward: Europe/Berlin 2026-03-29 02:00 CET -> 03:00 CEST', () => {
    it('a fixed time in the gap runs once, right after it', () => {
      expect(runs('30 2 * * *', 'Europe/Berlin', '2026-03-28T02:30:00+01:00', 3)).toEqual(
        ['2026-03-29T03:00:00+02:00', '2026-03-30T02:30:00+02:00', '2026-03-31T02:30:00+02:00'].map(utc),
      );
    });

    it('several fixed times in the gap, and 03:00 itself, make one run', () => {
      expect(runs('0,30 2,3 * * *', 'Europe/Berlin', '2026-03-29T01:30:00+01:00', 3)).toEqual(
        ['2026-03-29T03:00:00+02:00', '2026-03-29T03:30:00+02:00', '2026-03-30T02:00:00+02:00'].map(
          utc,
        ),
      );
    });

    it('a fixed time just before the gap is untouched', () => {
      expect(runs('30 1 * * *', 'Europe/Berlin', '2026-03-28T12:00:00+01:00', 2)).toEqual(
        ['2026-03-29T01:30:00+01:00', '2026-03-30T01:30:00+02:00'].map(utc),
      );
    });

    it('wildcard jobs skip the missing times: */15 keeps 15 real minutes', () => {
      expect(runs('*/15 * * * *', 'Europe/Berlin', '2026-03-29T01:30:00+01:00', 3)).toEqual(
        ['2026-03-29T01:45:00+01:00', '2026-03-29T03:00:00+02:00', '2026-03-29T03:15:00+02:00'].map(
          utc,
        ),
      );
    });

    it('30 * * * * has no 02:30 and no stand-in for it', () => {
      expect(runs('30 * * * *', 'Europe/Berlin', '2026-03-29T01:00:00+01:00', 2)).toEqual(
        ['2026-03-29T01:30:00+01:00', '2026-03-29T03:30:00+02:00'].map(utc),
      );
    });

    it('*/20 2 * * * (wildcard minute) does not run that day at all', () => {
      expect(runs('*/20 2 * * *', 'Europe/Berlin', '2026-03-28T02:40:00+01:00', 1)).toEqual([
        utc('2026-03-30T02:00:00+02:00'),
      ]);
    });

    it('after the gap run, the next is the next day', () => {
      expect(runs('30 2 * * *', 'Europe/Berlin', '2026-03-29T03:00:00+02:00', 1)).toEqual([
        utc('2026-03-30T02:30:00+02:00'),
      ]);
    });
  });

  describe('spring forward: America/New_York 2026-03-08 02:00 EST -> 03:00 EDT', () => {
    it('a fixed time in the gap runs once, right after it', () => {
      expect(runs('30 2 * * *', 'America/New_York', '2026-03-07T02:30:00-05:00', 2)).toEqual(
        ['2026-03-08T03:00:00-04:00', '2026-03-09T02:30:00-04:00'].map(utc),
      );
    });

    it('wildcard jobs run on real time', () => {
      expect(runs('*/30 * * * *', 'America/New_York', '2026-03-08T01:00:00-05:00', 3)).toEqual(
        ['2026-03-08T01:30:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T03:30:00-04:00'].map(
          utc,
        ),
      );
    });
  });

  describe('fall back: Europe/Berlin 2026-10-25 03:00 CEST -> 02:00 CET (02:xx twice)', () => {
    it('a fixed time in the repeated hour runs once, in the first pass', () => {
      expect(runs('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00+02:00', 2)).toEqual(
        ['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00'].map(utc),
      );
    });

    it('... also when counting from inside the second pass, before its 02:30', () => {
      expect(runs('30 2 * * *', 'Europe/Berlin', '2026-10-25T02:10:00+01:00', 1)).toEqual([
        utc('2026-10-26T02:30:00+01:00'),
      ]);
    });

    it('... and when counting from the first pass, after its 02:30', () => {
      expect(runs('30 2 * * *', 'Europe/Berlin', '2026-10-25T02:40:00+02:00', 1)).toEqual([
        utc('2026-10-26T02:30:00+01:00'),
      ]);
    });

    it('30 1 * * *, just before the repeated hour, is an ordinary day', () => {
      expect(runs('30 1 * * *', 'Europe/Berlin', '2026-10-24T12:00:00+02:00', 2)).toEqual(
        ['2026-10-25T01:30:00+02:00', '2026-10-26T01:30:00+01:00'].map(utc),
      );
    });

    it('*/15 * * * * runs every 15 real minutes through both passes', () => {
      expect(runs('*/15 * * * *', 'Europe/Berlin', '2026-10-25T02:30:00+02:00', 7)).toEqual(
        [
          '2026-10-25T02:45:00+02:00',
          '2026-10-25T02:00:00+01:00',
          '2026-10-25T02:15:00+01:00',
          '2026-10-25T02:30:00+01:00',
          '2026-10-25T02:45:00+01:00',
          '2026-10-25T03:00:00+01:00',
          '2026-10-25T03:15:00+01:00',
        ].map(utc),
      );
    });

    it('0 * * * * runs every real hour, 02:00 twice', () => {
      expect(runs('0 * * * *', 'Europe/Berlin', '2026-10-25T01:30:00+02:00', 3)).toEqual(
        ['2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00', '2026-10-25T03:00:00+01:00'].map(
          utc,
        ),
      );
    });

    it('*/20 2 * * * (wildcard minute) runs in both passes', () => {
      expect(runs('*/20 2 * * *', 'Europe/Berlin', '2026-10-25T00:00:00+02:00', 7)).toEqual(
        [
          '2026-10-25T02:00:00+02:00',
          '2026-10-25T02:20:00+02:00',
          '2026-10-25T02:40:00+02:00',
          '2026-10-25T02:00:00+01:00',
          '2026-10-25T02:20:00+01:00',
          '2026-10-25T02:40:00+01:00',
          '2026-10-26T02:00:00+01:00',
        ].map(utc),
      );
    });
  });

  describe('fall back: America/New_York 2026-11-01 02:00 EDT -> 01:00 EST (01:xx twice)', () => {
    it('30 1 * * * runs once, in the first pass', () => {
      expect(runs('30 1 * * *', 'America/New_York', '2026-10-31T01:30:00-04:00', 2)).toEqual(
        ['2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00'].map(utc),
      );
    });

    it('... also when counting from inside the second pass', () => {
      expect(runs('30 1 * * *', 'America/New_York', '2026-11-01T01:10:00-05:00', 1)).toEqual([
        utc('2026-11-02T01:30:00-05:00'),
      ]);
    });

    it('*/15 * * * * runs every 15 real minutes', () => {
      expect(runs('*/15 * * * *', 'America/New_York', '2026-11-01T01:30:00-04:00', 4)).toEqual(
        [
          '2026-11-01T01:45:00-04:00',
          '2026-11-01T01:00:00-05:00',
          '2026-11-01T01:15:00-05:00',
          '2026-11-01T01:30:00-05:00',
        ].map(utc),
      );
    });
  });
});

describe('nextRun, iterated', () => {
  const starts: Record<string, string[]> = {
    UTC: ['2026-03-28T12:00:00Z', '2026-10-24T12:00:00Z'],
    'Europe/Berlin': ['2026-03-28T12:00:00Z', '2026-10-24T12:00:00Z'],
    'America/New_York': ['2026-03-07T12:00:00Z', '2026-10-31T12:00:00Z'],
  };
  const cases = Object.entries(starts).flatMap(([zone, list]) => list.map((start) => ({ zone, start })));

  function iterate(expr: string, zone: string, start: string, count = 2000): number[] {
    const s = parseSchedule(expr);
    const out: number[] = [];
    let t = Date.parse(start);
    for (let i = 0; i < count; i++) out.push((t = nextRun(s, t, zone)));
    return out;
  }

  function gaps(times: number[]): Set<number> {
    return new Set(times.slice(1).map((t, i) => t - times[i]!));
  }

  it.each(cases)('* * * * * in $zone from $start: 2000 runs exactly 60 s apart', ({ zone, start }) => {
    const times = iterate('* * * * *', zone, start);
    expect(times[0]).toBe(Date.parse(start) + MINUTE);
    expect(gaps(times)).toEqual(new Set([MINUTE]));
  });

  it.each(cases)('*/15 and 0 * in $zone from $start: fixed real periods', ({ zone, start }) => {
    expect(gaps(iterate('*/15 * * * *', zone, start))).toEqual(new Set([15 * MINUTE]));
    expect(gaps(iterate('0 * * * *', zone, start))).toEqual(new Set([HOUR]));
  });

  it.each(Object.keys(starts))(
    'daily and weekday schedules in %s over years: strictly increasing, one run a day',
    (zone) => {
      for (const expr of ['30 2 * * *', '0 0 * * 1-5', '45 23 * * *', '0,30 1-3 * * *']) {
        const times = iterate(expr, zone, '2026-01-01T00:00:00Z');
        expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
        expect(times.every((t) => t % MINUTE === 0)).toBe(true);
        if (!expr.includes(',')) {
          const dates = times.map((t) => describeNext(t, zone).slice(0, 10));
          expect(new Set(dates).size).toBe(dates.length);
        }
      }
    },
  );

  it('30 2 * * * in Berlin: 24 hours apart, 25 after the fall back, 23.5 either side of the gap', () => {
    const times = iterate('30 2 * * *', 'Europe/Berlin', '2026-01-01T00:00:00Z', 800);
    expect(gaps(times)).toEqual(new Set([24 * HOUR, 25 * HOUR, 23.5 * HOUR]));
  });
});

/**
 * The reference: Vixie cron's main loop (cron.c), run once per real minute. Wildcard jobs run
 * when the wall clock matches; a fixed-time job runs when the wall clock matches a time not seen
 * before, and when the clock jumped forward over a matching time.
 */
function vixie(s: Schedule, walls: number[], times: number[]): number[] {
  const matches = (wall: number) => {
    const d = new Date(wall);
    const byDate = s.daysOfMonth.includes(d.getUTCDate());
    const byWeekday = s.daysOfWeek.includes(d.getUTCDay());
    return (
      s.minutes.includes(d.getUTCMinutes()) &&
      s.hours.includes(d.getUTCHours()) &&
      s.months.includes(d.getUTCMonth() + 1) &&
      (s.dayRule === 'or' ? byDate || byWeekday : byDate && byWeekday)
    );
  };
  const out: number[] = [];
  let previous = walls[0]!;
  let seen = previous;
  for (let i = 1; i < walls.length; i++) {
    const wall = walls[i]!;
    let run = matches(wall) && (s.wildcard || wall > seen);
    if (!s.wildcard) {
      for (let skipped = previous + MINUTE; skipped < wall; skipped += MINUTE) {
        if (skipped > seen && matches(skipped)) run = true;
      }
    }
    if (run) out.push(times[i]!);
    seen = Math.max(seen, wall);
    previous = wall;
  }
  return out;
}

describe('nextRun agrees with a minute-by-minute Vixie cron around every kind of change', () => {
  const windows: Array<[zone: string, firstDay: string, what: string]> = [
    ['Europe/Berlin', '2026-03-28', 'spring forward 1 h at 02:00'],
    ['Europe/Berlin', '2026-10-24', 'fall back 1 h at 03:00'],
    ['America/New_York', '2026-03-07', 'spring forward 1 h at 02:00'],
    ['America/New_York', '2026-10-31', 'fall back 1 h at 02:00'],
    ['America/Santiago', '2026-04-04', 'fall back at 24:00 to 23:00'],
    ['America/Santiago', '2026-09-05', 'spring forward at 24:00: no midnight'],
    ['Australia/Lord_Howe', '2026-04-04', 'fall back 30 min'],
    ['Australia/Lord_Howe', '2026-10-03', 'spring forward 30 min'],
    ['Pacific/Apia', '2011-12-28', 'a whole day skipped (2011-12-30)'],
    ['Asia/Kolkata', '2026-03-28', 'no change, offset +05:30'],
  ];
  const schedules = [
    '* * * * *',
    '*/15 * * * *',
    '0 * * * *',
    '30 * * * *',
    '*/20 2 * * *',
    '30 2 * * *',
    '30 1 * * *',
    '0 2 * * *',
    '0,30 0-3 * * *',
    '0 0 * * *',
    '15 0 * * *',
    '45 23 * * *',
    '10 12 * * *',
  ];

  it.each(windows)('%s from %s (%s)', (zone, firstDay) => {
    // One warm-up day, so the model knows which wall times it has seen, then three days.
    const warmUp = Date.parse(`${firstDay}T00:00:00Z`) - DAY;
    const from = warmUp + DAY;
    const to = from + 3 * DAY;
    const fields = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    const times: number[] = [];
    const walls: number[] = [];
    for (let t = warmUp; t <= to; t += MINUTE) {
      const p = Object.fromEntries(fields.formatToParts(t).map((x) => [x.type, Number(x.value)]));
      times.push(t);
      walls.push(Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!));
    }
    const offsets = new Set(walls.map((w, i) => w - times[i]!));
    expect(offsets.size).toBe(zone === 'Asia/Kolkata' ? 1 : 2);

    for (const expr of schedules) {
      const s = parseSchedule(expr);
      const expected = vixie(s, walls, times).filter((t) => t > from);
      const actual: number[] = [];
      for (let t = nextRun(s, from, zone); t <= to; t = nextRun(s, t, zone)) actual.push(t);
      const show = (list: number[]) => list.map((t) => new Date(t).toISOString());
      expect({ expr, runs: show(actual) }).toEqual({ expr, runs: show(expected) });
    }
  });
});

describe('describeNext', () => {
  it.each([
    ['2026-12-06T10:05:00+01:00', 'Europe/Berlin', '2026-12-06 10:05:00 CET'],
    ['2026-07-06T10:05:00+02:00', 'Europe/Berlin', '2026-07-06 10:05:00 CEST'],
    ['2026-12-06T10:05:00-05:00', 'America/New_York', '2026-12-06 10:05:00 EST'],
    ['2026-07-06T10:05:00-04:00', 'America/New_York', '2026-07-06 10:05:00 EDT'],
    ['2026-12-06T10:05:00Z', 'UTC', '2026-12-06 10:05:00 UTC'],
    ['2026-12-06T00:00:00Z', 'UTC', '2026-12-06 00:00:00 UTC'],
    ['2026-12-06T10:05:00+05:30', 'Asia/Kolkata', '2026-12-06 10:05:00 GMT+5:30'],
    ['2026-10-25T02:30:00+02:00', 'Europe/Berlin', '2026-10-25 02:30:00 CEST'],
    ['2026-10-25T02:30:00+01:00', 'Europe/Berlin', '2026-10-25 02:30:00 CET'],
  ])('%s in %s -> %s', (iso, zone, text) => {
    expect(describeNext(Date.parse(iso), zone)).toBe(text);
  });

  it('says never for NaN', () => {
    expect(describeNext(NaN, 'UTC')).toBe('never');
  });
});
