// SPDX-License-Identifier: MIT
// The native line formatter (native/line_format.h), alone through the
// formatLines hook, and held by a log sink on the I/O thread: lines cut,
// stamped, escaped; long and waiting partial lines written as far as they
// got and marked; rotation only between records; taps keep the raw bytes.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { formatLines, type LineFormatSpec, type TapEvent } from '../../src/native/index.js';
import { BACKENDS, CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked } from '../helpers/procs.js';
import { rng } from '../helpers/rng.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

const T = Date.UTC(2026, 11, 6, 9, 24, 6, 123); // 2026-12-06T09:24:06.123Z
const JSON_SPEC: LineFormatSpec = { mode: 'json', program: 'web', process: 'web_01', group: 'web', stream: 'stdout' };

function fmt(spec: LineFormatSpec, chunks: Array<[Buffer | string, number?, number?, number?]>, flushAll = false): string {
  return formatLines(
    spec,
    chunks.map(([b, wall = T, mono = 0, pid = 1234]) => [typeof b === 'string' ? Buffer.from(b) : b, wall, mono, pid]),
    flushAll,
  ).toString('utf8');
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('line formatter (pure)', () => {
  it('json: the exact documented line', () => {
    expect(fmt(JSON_SPEC, [['hello\n']])).toBe(
      '{"time":"2026-12-06T09:24:06.123Z","program":"web","process":"web_01","group":"web","stream":"stdout","pid":1234,"line":"hello"}\n',
    );
  });

  it('timestamped: rfc3339 UTC with ms, or local with a comma; prefixed: process stream |', () => {
    expect(fmt({ ...JSON_SPEC, mode: 'timestamped' }, [['hello\nworld\r\n']])).toBe('2026-12-06T09:24:06.123Z hello\n2026-12-06T09:24:06.123Z world\r\n');
    const local = fmt({ ...JSON_SPEC, mode: 'timestamped', time: 'local' }, [['hello\n']]);
    const d = new Date(T);
    const p2 = (n: number) => String(n).padStart(2, '0');
    expect(local).toBe(`${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())},123 hello\n`);
    expect(fmt({ ...JSON_SPEC, mode: 'prefixed' }, [['hello\n']])).toBe('web_01 stdout | hello\n');
  });

  it('a line split across reads is one record, stamped when its first byte was read', () => {
    const out = jsonLines(fmt(JSON_SPEC, [['hel', T, 0], ['lo\nnext\n', T + 5000, 100]]));
    expect(out.map((r) => [r.line, r.time])).toEqual([
      ['hello', '2026-12-06T09:24:06.123Z'],
      ['next', '2026-12-06T09:24:11.123Z'],
    ]);
  });

  it('each read is stamped with its own time and pid, within a second too', () => {
    const reads: Array<[string, number, number, number]> = [
      ['a\n', T, 0, 1],
      ['b\n', T + 400, 0, 1],
      ['c\n', T + 400, 0, 2],
      ['d\n', T + 401, 0, 2],
      ['e\n', T + 877, 0, 2],
      ['f\n', T + 876, 0, 2],
    ];
    expect(jsonLines(fmt(JSON_SPEC, reads)).map((r) => [r.line, r.time, r.pid])).toEqual([
      ['a', '2026-12-06T09:24:06.123Z', 1],
      ['b', '2026-12-06T09:24:06.523Z', 1],
      ['c', '2026-12-06T09:24:06.523Z', 2],
      ['d', '2026-12-06T09:24:06.524Z', 2],
      ['e', '2026-12-06T09:24:07.000Z', 2],
      ['f', '2026-12-06T09:24:06.999Z', 2],
    ]);
    expect(fmt({ ...JSON_SPEC, mode: 'timestamped' }, reads)).toBe(
      ['06.123 a', '06.523 b', '06.523 c', '06.524 d', '07.000 e', '06.999 f'].map((s) => `2026-12-06T09:24:${s.replace(' ', 'Z ')}\n`).join(''),
    );
  });

  it('json escapes: CRLF ending dropped, quotes, backslash, control characters, DEL; invalid UTF-8 -> U+FFFD', () => {
    const bytes = Buffer.concat([Buffer.from('a"b\\c\td\x00e\x1bf\x7fg\rh '), Buffer.from([0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80]), Buffer.from('\r\n')]);
    const text = fmt(JSON_SPEC, [[bytes]]);
    expect(text).toContain('"line":"a\\"b\\\\c\\td\\u0000e\\u001bf\\u007fg\\rh \uFFFD\uFFFD(\uFFFD\uFFFD\uFFFD\u{1F600}"');
    expect(jsonLines(text)[0]!.line).toBe(bytes.subarray(0, -2).toString('utf8'));
  });

  it('a line over maxLine: pieces of maxLine marked partial, never splitting a UTF-8 character', () => {
    const out = jsonLines(fmt({ ...JSON_SPEC, maxLine: 4 }, [['ab\u20accdefg\n']]));
    expect(out.map((r) => [r.line, r.partial ?? false])).toEqual([
      ['ab', true],
      ['\u20acc', true],
      ['defg', false],
    ]);
    // Exactly maxLine is one whole line.
    expect(jsonLines(fmt({ ...JSON_SPEC, maxLine: 4 }, [['abcd\n']]))).toEqual([expect.objectContaining({ line: 'abcd' })]);
    // A long line that never ends: pieces as it grows, the rest at the flush.
    const grow = jsonLines(fmt({ ...JSON_SPEC, maxLine: 4 }, [['abc'], ['defgh'], ['ij']], true));
    expect(grow.map((r) => r.line).join('')).toBe('abcdefghij');
    expect(grow.every((r) => r.partial === true)).toBe(true);
  });

  it('a partial line flushed at its deadline is marked; its end follows as the next record; nothing twice', () => {
    const out = jsonLines(fmt(JSON_SPEC, [['waiting'], [Buffer.alloc(0), T, 250], [' done\n', T + 1000, 1000]]));
    expect(out.map((r) => [r.line, r.partial ?? false])).toEqual([
      ['waiting', true],
      [' done', false],
    ]);
    // In text formats the rest continues on the next stamped line.
    expect(fmt({ ...JSON_SPEC, mode: 'timestamped' }, [['waiting'], [Buffer.alloc(0), T, 250], [' done\n', T + 1000, 1000]])).toBe(
      '2026-12-06T09:24:06.123Z waiting\n2026-12-06T09:24:07.123Z  done\n',
    );
    // An incomplete UTF-8 character waits for its rest at a deadline, goes at the writer's end.
    const held = fmt(JSON_SPEC, [[Buffer.from([0x61, 0xe2, 0x82])], [Buffer.alloc(0), T, 250], [Buffer.from([0xac, 0x0a])]]);
    expect(jsonLines(held).map((r) => r.line)).toEqual(['a', '\u20ac']);
    expect(jsonLines(fmt(JSON_SPEC, [[Buffer.from([0x61, 0xe2, 0x82])]], true)).map((r) => r.line)).toEqual(['a\uFFFD']);
  });

  it('random bytes: every record parses alone and decodes as a UTF-8 decoder would (U+FFFD per maximal invalid subpart)', () => {
    // A small PRNG, so a failure can be replayed.
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pool = [0x00, 0x09, 0x0d, 0x1f, 0x20, 0x22, 0x41, 0x5c, 0x7e, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x82, 0xa0, 0x9f, 0x90, 0x8f];
    for (let round = 0; round < 300; round++) {
      const len = Math.floor(rand() * 40);
      const bytes = Buffer.from(Array.from({ length: len }, () => (rand() < 0.5 ? pool[Math.floor(rand() * pool.length)]! : 0x61 + Math.floor(rand() * 26))));
      const lines = bytes.toString('latin1').split('\n');
      const text = fmt({ ...JSON_SPEC, maxLine: 1 << 20 }, [[Buffer.concat([bytes, Buffer.from('\n')])]]);
      const got = jsonLines(text).map((r) => r.line);
      const want = lines.map((l) => Buffer.from(l, 'latin1').toString('utf8').replace(/\r$/, ''));
      expect(got, `bytes ${bytes.toString('hex')}`).toEqual(want);
    }
  });

  it('many lines per read, cut anywhere: clean ASCII lines (one pass) and lines needing escapes give the same records', () => {
    // Lines of 0-120 bytes, mostly clean (the 16-byte scan's blocks and
    // tails at every offset), some with one byte that needs care; the reads
    // cut them at random places, so lines start pending and finish later.
    const rand = rng(777);
    const care = [0x00, 0x09, 0x0d, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0xc3, 0xe2, 0xff];
    for (let round = 0; round < 20; round++) {
      const lines = Array.from({ length: 200 }, () => {
        const b = Buffer.from(Array.from({ length: Math.floor(rand() * 121) }, () => 0x20 + Math.floor(rand() * 95)));
        if (b.length > 0 && rand() < 0.2) b[Math.floor(rand() * b.length)] = care[Math.floor(rand() * care.length)]!;
        return b;
      });
      const all = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
      const chunks: Array<[Buffer]> = [];
      for (let at = 0; at < all.length; ) {
        const n = 1 + Math.floor(rand() * 700);
        chunks.push([all.subarray(at, at + n)]);
        at += n;
      }
      const got = jsonLines(fmt(JSON_SPEC, chunks)).map((r) => r.line);
      expect(got).toEqual(lines.map((l) => l.toString('utf8').replace(/\r$/, '')));
    }
    // Around maxLine: a clean line of exactly maxLine is whole, one byte more is cut.
    const spec = { ...JSON_SPEC, maxLine: 20 };
    const out = jsonLines(fmt(spec, [['a'.repeat(20) + '\n' + 'b'.repeat(21) + '\n' + 'c'.repeat(45) + '\n']]));
    expect(out.map((r) => [r.line, r.partial ?? false])).toEqual([
      ['a'.repeat(20), false],
      ['b'.repeat(20), true],
      ['b', false],
      ['c'.repeat(20), true],
      ['c'.repeat(20), true],
      ['c'.repeat(5), false],
    ]);
  });

  it('names with quotes are escaped once, at construction', () => {
    const out = jsonLines(fmt({ ...JSON_SPEC, program: 'we"b', process: 'a\\b' }, [['x\n']]));
    expect(out[0]).toMatchObject({ program: 'we"b', process: 'a\\b' });
  });
});

describe.each(BACKENDS)('formatted log sinks (%s backend)', (backend) => {
  let h: CoreHarness;
  beforeAll(() => {
    h = new CoreHarness(backend);
  });
  afterAll(() => {
    h.stop();
    removeTmpDirs();
  });
  afterEach(() => killTracked());

  it('a partial line goes out after 250 ms while the child waits; the tap keeps the raw bytes', async () => {
    const log = path.join(tmpDir(), 'p.log');
    const sink = h.core.openSink(log, { format: { ...JSON_SPEC, mode: 'json' } });
    const s = h.sh(`printf 'one\\ntwo-without-end'; sleep 1; printf ' ended\\n'`, { stdout: { sink, tap: true } });
    // The waiting line is in the file before the child writes again.
    await pollUntil(() => readFileSync(log, 'utf8').includes('"line":"two-without-end","partial":true}'), { timeout: 900, what: 'the partial record' });
    await h.waitExit(s.child);
    const recs = jsonLines(readFileSync(log, 'utf8'));
    expect(recs.map((r) => [r.line, r.partial ?? false, r.pid])).toEqual([
      ['one', false, s.pid],
      ['two-without-end', true, s.pid],
      [' ended', false, s.pid],
    ]);
    const tapped = Buffer.concat(h.events.filter((e): e is TapEvent => e.kind === 'tap' && e.child === s.child).map((e) => e.data));
    expect(tapped.toString()).toBe('one\ntwo-without-end ended\n');
    sink.close();
  });

  it("the child's exit ends its partial line: on disk, marked, by the time the exit is reported", async () => {
    const log = path.join(tmpDir(), 'e.log');
    const sink = h.core.openSink(log, { format: { ...JSON_SPEC, mode: 'timestamped' } });
    const s = h.sh(`printf 'a\\nno newline at the end'`, { stdout: { sink } });
    await h.waitExit(s.child);
    const lines = readFileSync(log, 'utf8').split('\n');
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(['a', 'no newline at the end', '']);
    sink.close();
  });

  it('rotation falls between records: each file holds whole lines, all of them, in order', async () => {
    const log = path.join(tmpDir(), 'r.log');
    const sink = h.core.openSink(log, { maxbytes: 10_000, backups: 100, format: { ...JSON_SPEC, mode: 'json' } });
    const s = h.sh('seq 1 2000', { stdout: { sink } });
    await h.waitExit(s.child);
    const dir = path.dirname(log);
    const files = readdirSync(dir)
      .filter((f) => f.startsWith('r.log'))
      .sort((a, b) => Number(b.slice(6) || 0) - Number(a.slice(6) || 0));
    const seen: string[] = [];
    for (const f of files) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      expect(text.length).toBeLessThanOrEqual(10_000);
      for (const r of jsonLines(text)) seen.push(r.line as string);
    }
    expect(seen).toEqual(Array.from({ length: 2000 }, (_, i) => String(i + 1)));
    expect(files.length).toBeGreaterThan(10);
    expect(sink.counters().rotations).toBe(files.length - 1);
    sink.close();
  });

  it('JS writes to a formatted sink are formatted with the pid given; raw sinks stay byte for byte', async () => {
    const dir = tmpDir();
    const fsink = h.core.openSink(path.join(dir, 'f.log'), { format: { ...JSON_SPEC, mode: 'json' } });
    const rsink = h.core.openSink(path.join(dir, 'raw.log'));
    const bytes = Buffer.from([0x61, 0xff, 0x0d, 0x0a, 0x62]);
    fsink.write(bytes, 4242);
    fsink.write('\n', 4242);
    rsink.write(bytes);
    await pollUntil(() => readFileSync(path.join(dir, 'f.log'), 'utf8').includes('\n') && readFileSync(path.join(dir, 'raw.log')).length === 5, {
      what: 'both writes',
    });
    expect(jsonLines(readFileSync(path.join(dir, 'f.log'), 'utf8')).map((r) => [r.line, r.pid])).toEqual([
      ['a\uFFFD', 4242],
      ['b', 4242],
    ]);
    expect(readFileSync(path.join(dir, 'raw.log'))).toEqual(bytes);
    fsink.close();
    rsink.close();
  });
});
