// SPDX-License-Identifier: MIT
// Which tail argument lists are the merged tail, and which stay supervisorctl's.
import { describe, expect, it } from 'vitest';

import { parseMergedTail, Printer } from '../../../src/ctl/multitail.js';

const parse = (line: string): ReturnType<typeof parseMergedTail> => parseMergedTail(line.split(' ').filter(Boolean));

describe('parseMergedTail', () => {
  it.each(['web', '-f web', '-100 web', 'web stderr', '-f web STDOUT', '', '-5', '--5 web', '-x web', 'tail -ff web'.slice(5)])(
    'leaves supervisorctl\'s form %j alone',
    (line) => {
      expect(parse(line)).toBeNull();
    },
  );

  it('takes all and group:* at once', () => {
    expect(parse('-f all')).toEqual({ specs: ['all'], streams: 'stdout', follow: true, bytes: 1600, explicit: true });
    expect(parse('web:* stderr')).toEqual({ specs: ['web:*'], streams: 'stderr', follow: false, bytes: 1600, explicit: true });
    expect(parse('-200 web: api')).toEqual({ specs: ['web:', 'api'], streams: 'stdout', follow: false, bytes: 200, explicit: true });
  });

  it('takes the stream options anywhere, the last one winning', () => {
    expect(parse('-f --both a')).toMatchObject({ specs: ['a'], streams: 'both', follow: true, explicit: true });
    expect(parse('--stderr -f a b')).toMatchObject({ specs: ['a', 'b'], streams: 'stderr', follow: true });
    expect(parse('-f a --stdout --both')).toMatchObject({ streams: 'both' });
  });

  it('marks several plain names as maybe (tail.ts checks they are all processes)', () => {
    expect(parse('-f a b c')).toMatchObject({ specs: ['a', 'b', 'c'], explicit: false });
    expect(parse('web foo')).toMatchObject({ specs: ['web', 'foo'], explicit: false });
    // supervisorctl's errors stay its own when the form is only maybe merged.
    expect(parse('-f web -x')).toBeNull();
    expect(parse('-q a b')).toBeNull();
  });

  it('says what is wrong with an explicit merged form', () => {
    expect(parse('-q all')).toBe('bad argument -q');
    expect(parse('--both')).toBe('tail requires process name');
    expect(parse('all -x')).toBe('bad argument -x');
  });
});

describe('Printer', () => {
  const rec = (s: string): Buffer => Buffer.from(s, 'latin1');
  const show = (p: Printer, s: string): string | undefined => p.line(rec(s))?.toString('latin1');

  it('aligns names to the widest announced, marks continuations with +, and prints bytes as they are', () => {
    const p = new Printer(false, false);
    expect(show(p, 'A a stdout')).toBeUndefined();
    expect(show(p, 'A web%3Aweb_0 stdout')).toBeUndefined();
    expect(show(p, 'L a stdout hello')).toBe('a         | hello\n');
    expect(show(p, 'P web%3Aweb_0 stdout par')).toBe('web:web_0 | par\n');
    expect(show(p, 'L web%3Aweb_0 stdout tial')).toBe('web:web_0 + tial\n');
    expect(show(p, 'L a stdout \xff bytes')).toBe('a         | \xff bytes\n');
    expect(show(p, 'M a stdout 42')).toBe('a         | ==> missed 42 lines (this reader fell behind) <==\n');
    expect(show(p, 'T a stdout')).toBe('a         | ==> File truncated <==\n');
    expect(show(p, 'garbage')).toBeUndefined();
  });

  it('colours names (and err) only when asked: a terminal without NO_COLOR', () => {
    const p = new Printer(true, true);
    show(p, 'A a stderr');
    expect(show(p, 'L a stderr oops')).toBe('\x1b[36ma\x1b[0m \x1b[31merr\x1b[0m | oops\n');
    const plain = new Printer(false, true);
    show(plain, 'A a stdout');
    expect(show(plain, 'L a stdout fine')).toBe('a out | fine\n');
  });
});
