// SPDX-License-Identifier: MIT
// Which tail argument lists are the merged tail, and which stay supervisorctl's.
import { describe, expect, it } from 'vitest';

import { parseMergedTail } from '../../../src/ctl/multitail.js';

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
