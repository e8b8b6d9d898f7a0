// SPDX-License-Identifier: MIT
// Cron schedules for `schedule=` / `schedule_timezone=` in [program:x]: Vixie-cron syntax and day
// rule, the next run in an IANA zone (through Intl), and cron's handling of daylight saving.
// Pure: no clock, no timers; the caller says which instant to count from.

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;
/**
 * Wider than any UTC offset (−12:00…+14:00 today, ±15:xx in old local mean time), so every
 * instant of a local day lies within [00:00 − margin, 24:00 + margin] read as UTC.
 */
const PROBE_MARGIN_MS = 16 * 3_600_000;
/**
 * How far nextRun looks. The longest wait of a schedule parseSchedule accepts is the day rule's
 * AND with February 29 and Sunday only (`0 0 29 2 *\/7`): 40 years, 2088 to 2128, because 2100 is
 * no leap year. Anything that can run, runs within this.
 */
const HORIZON_DAYS = 41 * 366;

/** A parsed schedule: plain data, so it can sit in the immutable config model. */
export interface Schedule {
  /** the text as written, trimmed */
  readonly source: string;
  /** each field's values in ascending order */
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  /** 0 = Sunday … 6 = Saturday; 7 is folded into 0 */
  readonly daysOfWeek: readonly number[];
  /**
   * Vixie cron: 'or' when both day fields are restricted, i.e. neither starts with `*`
   * (`0 0 1,15 * mon` runs on the 1st, the 15th and every Monday); otherwise 'and'. As in Vixie,
   * `*\/2` starts with `*`, so it counts as unrestricted here.
   */
  readonly dayRule: 'and' | 'or';
  /**
   * Vixie's MIN_STAR|HR_STAR: the minute or the hour field starts with `*`. Such a job runs on
   * real time through daylight-saving changes; the others are fixed-time jobs (see nextRun).
   */
  readonly wildcard: boolean;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** names for min, min+1, … (3 letters, case-insensitive, as in Vixie cron) */
  readonly names?: readonly string[];
  readonly namesHint?: string;
}

const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  namesHint: 'a month name (jan-dec)',
};
/** 0-7: both 0 and 7 are Sunday, so ranges like `5-7` (Fri-Sun) can be written. */
const DAY_OF_WEEK: FieldSpec = {
  name: 'day-of-week',
  min: 0,
  max: 7,
  names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
  namesHint: 'a day name (sun-sat)',
};

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The longest each month gets (February in a leap year). */
const MONTH_MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses a five-field cron expression or an @-macro. Throws an Error whose message starts
 * lowercase and names the field and value: `invalid schedule '61 * * * *': minute 61 is out of
 * range 0-59`. Day/month combinations that can never occur (`0 0 30 2 *`) are refused here with
 * `never runs: …`, so a scheduled program cannot load and then silently never start.
 */
export function parseSchedule(text: string): Schedule {
  const source = text.trim();
  try {
    return build(source, expandMacro(source));
  } catch (err) {
    throw new Error(`invalid schedule '${source}': ${(err as Error).message}`);
  }
}

function expandMacro(source: string): string {
  if (!source.startsWith('@')) return source;
  const [name = '', ...rest] = source.split(/\s+/);
  const key = name.toLowerCase();
  if (key === '@reboot') {
    throw new Error('@reboot is not supported (autostart=true starts a program with the daemon)');
  }
  const fields = MACROS[key];
  if (fields === undefined) {
    const known = Object.keys(MACROS).join(', ');
    throw new Error(`unknown macro '${name}' (expected one of ${known})`);
  }
  if (rest.length > 0) throw new Error(`unexpected '${rest.join(' ')}' after ${name}`);
  return fields;
}

function build(source: string, expression: string): Schedule {
  const fields = expression === '' ? [] : expression.split(/\s+/);
  if (fields.length !== 5) {
    throw new Error(
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
    );
  }
  const [minuteText, hourText, domText, monthText, dowText] = fields as [
    string,
    string,
    string,
    string,
    string,
  ];
  const daysOfMonth = parseField(DAY_OF_MONTH, domText);
  const months = parseField(MONTH, monthText);
  const daysOfWeek = [...new Set(parseField(DAY_OF_WEEK, dowText).map((d) => d % 7))].sort(
    (a, b) => a - b,
  );
  const dayRule = domText.startsWith('*') || dowText.startsWith('*') ? 'and' : 'or';
  // Under 'or' the weekday alone is enough; under 'and' the day-of-month must exist in some
  // allowed month. Every (date, weekday) pair occurs within the 400-year Gregorian cycle, so
  // this is the only way a schedule can never run.
  const dateExists = months.some((m) => daysOfMonth.some((d) => d <= MONTH_MAX_DAYS[m - 1]!));
  if (dayRule === 'and' && !dateExists) {
    throw new Error(`never runs: day-of-month '${domText}' does not occur in month '${monthText}'`);
  }
  return Object.freeze({
    source,
    minutes: parseField(MINUTE, minuteText),
    hours: parseField(HOUR, hourText),
    daysOfMonth,
    months,
    daysOfWeek,
    dayRule,
    wildcard: minuteText.startsWith('*') || hourText.startsWith('*'),
  });
}

/** One field: a comma list of `*`, `N`, `N-M`, `*\/S` or `N-M/S` (Vixie's grammar). */
function parseField(spec: FieldSpec, field: string): number[] {
  const values = new Set<number>();
  for (const item of field.split(',')) {
    if (item === '') throw new Error(`${spec.name} has an empty list item in '${field}'`);
    const slash = item.indexOf('/');
    const range = slash < 0 ? item : item.slice(0, slash);
    const step = slash < 0 ? 1 : parseStep(spec, item.slice(slash + 1), item);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = spec.min;
      hi = spec.max;
    } else {
      const dash = range.indexOf('-');
      if (dash < 0) {
        // Vixie and cronie refuse `5/15`; other crons read it as 5-59/15 or as just 5.
        if (slash >= 0) {
          const fix = `${range}-${spec.max}/${step} or */${step}`;
          throw new Error(`${spec.name} '${item}' has a step but no range (write ${fix})`);
        }
        lo = hi = parseValue(spec, range, item);
      } else {
        lo = parseValue(spec, range.slice(0, dash), item);
        hi = parseValue(spec, range.slice(dash + 1), item);
        if (lo > hi) throw new Error(`${spec.name} range '${range}' is backwards`);
      }
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

function parseStep(spec: FieldSpec, text: string, item: string): number {
  if (text === '') throw new Error(`${spec.name} '${item}' is missing its step`);
  if (!/^\d+$/.test(text)) {
    throw new Error(`${spec.name} step '${text}' in '${item}' is not a number`);
  }
  const step = Number(text);
  if (step === 0) throw new Error(`${spec.name} step 0 in '${item}' must be at least 1`);
  return step;
}

function parseValue(spec: FieldSpec, text: string, item: string): number {
  if (text === '') throw new Error(`${spec.name} '${item}' is missing a value`);
  let value: number;
  if (/^\d+$/.test(text)) {
    value = Number(text);
  } else {
    const index = spec.names?.indexOf(text.toLowerCase()) ?? -1;
    if (index < 0) {
      const hint = spec.namesHint ? `a number or ${spec.namesHint}` : 'a number';
      throw new Error(`${spec.name} '${text}' is not ${hint}`);
    }
    value = spec.min + index;
  }
  if (value < spec.min || value > spec.max) {
    throw new Error(`${spec.name} ${value} is out of range ${spec.min}-${spec.max}`);
  }
  return value;
}

/** Throws `unknown time zone 'X'` unless Intl knows the zone (IANA names, any case). */
export function validateTimeZone(zone: string): void {
  zoneFor(zone);
}

let local: { tz: string | undefined; name: string } | undefined;

/**
 * The daemon's own zone. Asking Intl costs a DateTimeFormat (~0.2 ms), so the answer is kept
 * until TZ changes: Node resets its zone when process.env.TZ is assigned.
 */
export function localTimeZone(): string {
  const tz = process.env.TZ;
  if (local === undefined || local.tz !== tz) {
    local = { tz, name: new Intl.DateTimeFormat().resolvedOptions().timeZone };
  }
  return local.name;
}

/**
 * Epoch ms of the first run strictly after `afterMs`, always on a whole minute; NaN when the
 * schedule has no run in the next 41 years (which parseSchedule's schedules always have).
 *
 * Daylight saving, as Vixie cron and cronie do it (cron.c: find_jobs(doWild, doNonWild)):
 * - fixed-time jobs (minute and hour are not `*`-fields: `30 2 * * *`, `@daily`):
 *   - a time skipped by a spring-forward gap runs once at the first instant after the gap
 *     (02:30 Europe/Berlin on 2026-03-29 runs at 03:00 CEST); several skipped times, or a skipped
 *     time and 03:00 itself, make one run;
 *   - a time the fall back repeats runs once, at its first occurrence;
 * - wildcard jobs (`* * * * *`, `*\/15 * * * *`, `0 * * * *`, `*\/20 2 * * *`, `@hourly`) run on
 *   real time: skipped times are simply gone, repeated times run in both passes, so `*\/15` keeps
 *   its 15 real minutes through the repeated hour and `0 * * * *` runs every real hour.
 * Unlike Vixie there is no 3-hour limit: the zone's rules say which jumps are transitions, and
 * every transition is treated this way.
 */
export function nextRun(schedule: Schedule, afterMs: number, timeZone?: string): number {
  if (!Number.isFinite(afterMs)) {
    throw new RangeError(`afterMs must be a finite number, got ${afterMs}`);
  }
  const zone = zoneFor(timeZone ?? localTimeZone());
  // After a fall back an instant can read an earlier wall date than afterMs did: start a day early.
  const firstDay = Math.floor((afterMs + zone.offset(afterMs)) / DAY_MS) - 1;
  const days = matchingDays(schedule, firstDay, firstDay + HORIZON_DAYS);
  for (const day of days) {
    const found = firstRunOnDay(schedule, zone, day, afterMs);
    if (Number.isNaN(found.run)) continue;
    if (found.uniform) return found.run;
    // A transition near this day. Only a fall back across midnight can make the next day's
    // first pass come before this day's second pass, so one more day settles it.
    const next = days.next();
    if (next.done || next.value !== day + 1) return found.run;
    const later = firstRunOnDay(schedule, zone, day + 1, afterMs).run;
    return later < found.run ? later : found.run;
  }
  return NaN;
}

/**
 * For status lines: `2026-12-06 10:05:00 CET`; `never` for NaN. The abbreviation is Intl's
 * (CLDR's), which has no single English locale for all zones: en-US knows EST but calls Berlin
 * GMT+1, en-GB knows CET but calls New York GMT-5; so en-US, then en-GB, then the GMT offset.
 */
export function describeNext(ms: number, timeZone?: string): string {
  if (!Number.isFinite(ms)) return 'never';
  const zone = zoneFor(timeZone ?? localTimeZone());
  const w = zone.wall(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const date = `${w.year}-${p(w.month)}-${p(w.day)}`;
  return `${date} ${p(w.hour)}:${p(w.minute)}:${p(w.second)} ${zone.abbreviation(ms)}`;
}

/** Day numbers (days since 1970-01-01, as wall dates) in [from, to] whose date matches. */
function* matchingDays(s: Schedule, from: number, to: number): Generator<number, void, undefined> {
  const start = new Date(from * DAY_MS);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  let dom = start.getUTCDate();
  let n = from;
  while (n <= to) {
    const length = daysInMonth(year, month);
    if (!s.months.includes(month)) {
      n += length - dom + 1; // skip the month whole
    } else {
      let dow = weekday(n);
      for (; dom <= length && n <= to; dom++, n++, dow = (dow + 1) % 7) {
        if (dayMatches(s, dom, dow)) yield n;
      }
    }
    dom = 1;
    if (++month > 12) {
      month = 1;
      year++;
    }
  }
}

function dayMatches(s: Schedule, dom: number, dow: number): boolean {
  const byDate = s.daysOfMonth.includes(dom);
  const byWeekday = s.daysOfWeek.includes(dow);
  return s.dayRule === 'or' ? byDate || byWeekday : byDate && byWeekday;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_MAX_DAYS[month - 1]!;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return leap ? 29 : 28;
}

/** 1970-01-01 was a Thursday. */
function weekday(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7;
}

/** The first matching minute of the day at or after minute `from` (0-1439), or -1. */
function firstTimeFrom(s: Schedule, from: number): number {
  const fromHour = Math.floor(from / 60);
  for (const h of s.hours) {
    if (h < fromHour) continue;
    const fromMinute = h === fromHour ? from % 60 : 0;
    for (const m of s.minutes) if (m >= fromMinute) return h * 60 + m;
  }
  return -1;
}

/**
 * The earliest run after `after` among the wall times of one day. `uniform`: one offset covers
 * the day with margins, so no later day can hold an earlier run.
 */
function firstRunOnDay(
  s: Schedule,
  zone: Zone,
  day: number,
  after: number,
): { run: number; uniform: boolean } {
  const midnight = day * DAY_MS; // the day's 00:00 read as UTC
  const lo = midnight - PROBE_MARGIN_MS;
  const hi = midnight + DAY_MS + PROBE_MARGIN_MS;
  const before = zone.offset(lo);
  if (before === zone.offset(hi)) {
    // Wall time W is the instant W - offset; find the first matching W with W - offset > after.
    const minWall = Math.floor((after + before) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    const from = Math.max(0, (minWall - midnight) / MINUTE_MS);
    const t = from < MINUTES_PER_DAY ? firstTimeFrom(s, from) : -1;
    return { run: t < 0 ? NaN : midnight + t * MINUTE_MS - before, uniform: true };
  }
  // Instants before the transition read t + before, from it on t + afterwards. This assumes one
  // transition within the 56 hours, which holds for every zone in tzdb since 1970.
  const change = zone.transition(lo, hi, before);
  const afterwards = zone.offset(change);
  let best = NaN;
  const consider = (t: number) => {
    if (t > after && !(t >= best)) best = t;
  };
  for (const h of s.hours) {
    for (const m of s.minutes) {
      const wall = midnight + (h * 60 + m) * MINUTE_MS;
      const first = wall - before < change ? wall - before : NaN;
      const second = wall - afterwards >= change ? wall - afterwards : NaN;
      if (Number.isNaN(first) && Number.isNaN(second)) {
        // in the gap: a fixed-time job runs as the clocks land, a wildcard job not at all
        if (!s.wildcard) consider(change);
      } else if (Number.isNaN(first) || Number.isNaN(second)) {
        consider(Number.isNaN(first) ? second : first);
      } else {
        // repeated by a fall back: a fixed-time job only in the first pass
        consider(first);
        if (s.wildcard) consider(second);
      }
    }
  }
  return { run: best, uniform: false };
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Bound on each zone's memo; probes repeat per day, so a small one serves a daemon's lifetime. */
const MEMO_LIMIT = 4096;

class Zone {
  private readonly fields: Intl.DateTimeFormat;
  private readonly fixedUtc: boolean;
  private readonly offsets = new Map<number, number>();
  private readonly transitions = new Map<number, number>();
  private abbreviations: Intl.DateTimeFormat[] | undefined;

  constructor(readonly name: string) {
    // Throws RangeError for a zone ICU does not know.
    this.fields = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    this.fixedUtc = this.fields.resolvedOptions().timeZone === 'UTC';
  }

  wall(ms: number): Wall {
    const w: Wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
    for (const part of this.fields.formatToParts(ms)) {
      if (part.type in w) w[part.type as keyof Wall] = Number(part.value);
    }
    w.hour %= 24; // some ICU versions print midnight as 24 even with h23
    return w;
  }

  /** Local minus UTC in ms at an instant (whole seconds, as tzdb's offsets are). */
  offset(ms: number): number {
    if (this.fixedUtc) return 0;
    const known = this.offsets.get(ms);
    if (known !== undefined) return known;
    const offset = this.rawOffset(ms);
    if (this.offsets.size >= MEMO_LIMIT) this.offsets.clear();
    this.offsets.set(ms, offset);
    return offset;
  }

  private rawOffset(ms: number): number {
    const w = this.wall(ms);
    const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    return asUtc - Math.floor(ms / 1000) * 1000;
  }

  /** The first whole second in (lo, hi] whose offset is not `before`; offset(hi) must differ. */
  transition(lo: number, hi: number, before: number): number {
    const known = this.transitions.get(lo);
    if (known !== undefined) return known;
    let a = Math.floor(lo / 1000);
    let b = Math.ceil(hi / 1000);
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2);
      if (this.rawOffset(mid * 1000) === before) a = mid;
      else b = mid;
    }
    if (this.transitions.size >= MEMO_LIMIT) this.transitions.clear();
    this.transitions.set(lo, b * 1000);
    return b * 1000;
  }

  abbreviation(ms: number): string {
    this.abbreviations ??= ['en-US', 'en-GB'].map(
      (locale) => new Intl.DateTimeFormat(locale, { timeZone: this.name, timeZoneName: 'short' }),
    );
    let name = '';
    for (const format of this.abbreviations) {
      name = format.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? '';
      if (!/^GMT[+-]/.test(name)) return name;
    }
    return name;
  }
}

const zones = new Map<string, Zone>();

function zoneFor(name: string): Zone {
  let zone = zones.get(name);
  if (zone === undefined) {
    try {
      zone = new Zone(name);
    } catch {
      throw new Error(`unknown time zone '${name}'`);
    }
    zones.set(name, zone);
  }
  return zone;
}
