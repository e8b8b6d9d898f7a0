// SPDX-License-Identifier: MIT
// The Python pieces under loadConfig, each against Python itself on generated
// inputs: fnmatch and glob ([include] files=), the text decoder (a config's
// bytes), posixpath (every path supervisord prints).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { fnmatchcase, glob } from '../../../src/config/glob.js';
import { pyCompare } from '../../../src/config/py-compare.js';
import { abspath, join, normpath, split } from '../../../src/config/pypath.js';
import { decodeConfigText } from '../../../src/config/read-text.js';
import { python } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';
import { rng } from '../../helpers/rng.js';

afterAll(removeTmpDirs);

function strings(seed: number, count: number, alphabet: string[], maxLen: number, minLen = 0): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    const n = minLen + Math.floor(r() * (maxLen - minLen + 1));
    for (let j = 0; j < n; j++) s += alphabet[Math.floor(r() * alphabet.length)];
    out.push(s);
  }
  return out;
}

describe('fnmatch = Python fnmatch.fnmatchcase', () => {
  const patterns = [
    ...strings(1, 700, ['a', 'b', 'z', '-', '!', '[', ']', '*', '?', '\\', '^', '.', 'é', '&', '😀'], 7, 1),
    '[z-a]', '[!z-a]', '[a-]', '[-a]', '[!]a]', '[]]', '[]', '[!]', '[a-c-e]', '[!-a]', '[b-a-z]', '*.conf', '[[]',
    '[\\]', '[a\\-z]', '[^a]', '[!^a]', '*a*b*', '**', '?*?',
  ];
  const names = ['', 'a', 'b', 'z', '-', '!', ']', '[', '.', 'é', '\\', '^', '&', '😀', 'ab', 'ba', 'a-', '-a', 'aab',
    'a.conf', 'zz', '.a', 'a]b', 'xyz', 'a\nb', '\n'];
  const want = python<Array<boolean | null>>(
    `import sys, json, fnmatch, re
d = json.load(sys.stdin)
out = []
for p in d['patterns']:
    for n in d['names']:
        try:
            out.append(fnmatch.fnmatchcase(n, p))
        except re.error:
            out.append(None)
print(json.dumps(out))`,
    { patterns, names },
  );
  it(`${patterns.length} patterns x ${names.length} names`, () => {
    const got: Array<boolean | null> = [];
    const pyErrors = new Set<number>();
    want.forEach((w, i) => w === null && pyErrors.add(i));
    for (const p of patterns) for (const n of names) got.push(fnmatchcase(n, p));
    // Python raises re.error for a few leftover bad ranges (supervisord would crash); ignore those.
    const mismatches = got
      .map((g, i) => [i, g, want[i]] as const)
      .filter(([i, g, w]) => !pyErrors.has(i) && g !== w)
      .map(([i, g, w]) => ({ pattern: patterns[Math.floor(i / names.length)], name: names[i % names.length], got: g, want: w }));
    expect(mismatches).toEqual([]);
  });
});

describe('glob = Python glob.glob', () => {
  const dir = tmpDir('fv-glob-');
  for (const f of ['a.conf', 'b.conf', '.h.conf', 'sub/c.conf', 'sub/.d.conf', 'sub/deep/e.conf', 'other/f.ini',
    'x[1].conf', 'link-target/g.conf']) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), '');
  }
  mkdirSync(path.join(dir, 'd.conf'));
  const patterns = ['*.conf', '.*', '*', '*/*.conf', '*/.*', 's*/*/*.conf', 'sub/', 's*/', '*/', 'nope/*', 'a.conf',
    'nope.conf', 'x[[]1].conf', 'x[1].conf', '**/*.conf', './*.conf', 'sub/../*.conf', '//tmp/../tmp', '', 'sub//c.conf',
    '*//*.conf', '[ab].conf', '[!a]*.conf', 'sub/deep/']
    .flatMap((p) => [p, path.join(dir, p)]);
  const want = python<string[][]>(
    `import sys, json, glob, os
d = json.load(sys.stdin)
os.chdir(d['dir'])
print(json.dumps([sorted(glob.glob(p)) for p in d['patterns']]))`,
    { dir, patterns },
  );
  it(`${patterns.length} patterns`, () => {
    const before = process.cwd();
    process.chdir(dir);
    try {
      expect(patterns.map((p) => glob(p).sort())).toEqual(want);
    } finally {
      process.chdir(before);
    }
  });
});

describe('decodeConfigText = iterating a text-mode file in Python', () => {
  const r = rng(7);
  const pieces: number[][] = [[0x61], [0x0a], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xff], [0x80],
    [0xc0, 0x80], [0xe0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90], [0xf5], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3],
    [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0x28], [0x0d], [0xef, 0xbb, 0xbf]];
  const buffers: number[][] = [];
  for (let k = 0; k < 300; k++) {
    // Mostly ASCII up to near a chunk boundary, then a few pieces: errors land on both sides of it.
    const lead = [0, 3, 8186, 8188, 8189, 8190, 8191, 8192, 16380, 16383][Math.floor(r() * 10)]!;
    const buf = Array.from({ length: lead }, () => 0x61);
    const n = 1 + Math.floor(r() * 4);
    for (let j = 0; j < n; j++) {
      // Valid pieces three times out of four, so that some inputs decode.
      const piece = r() < 0.75 ? pieces[Math.floor(r() * 5)]! : pieces[Math.floor(r() * pieces.length)]!;
      buf.push(...piece);
    }
    buffers.push(buf);
  }
  const dir = tmpDir('fv-decode-');
  const want = python<Array<string | null>>(
    `import sys, json, os
d = json.load(sys.stdin)
out = []
for i, b in enumerate(d['buffers']):
    p = os.path.join(d['dir'], 'f%d' % i)
    with open(p, 'wb') as f:
        f.write(bytes(b))
    try:
        for line in open(p):
            pass
        out.append(None)
    except UnicodeDecodeError as e:
        out.append(str(e))
print(json.dumps(out))`,
    { dir, buffers },
  );
  it(`${buffers.length} byte strings: the same error, position included`, () => {
    const got = buffers.map((b) => {
      const d = decodeConfigText(Uint8Array.from(b));
      return 'error' in d ? d.error.message : null;
    });
    expect(got).toEqual(want);
    expect(want.filter((w) => w === null).length).toBeGreaterThan(20);
  });
});

describe('posixpath', () => {
  const paths = strings(3, 400, ['a', 'b', '/', '/', '.', '..', '//', ''], 6);
  const want = python<Array<[string, [string, string], string, string]>>(
    `import sys, json, posixpath
d = json.load(sys.stdin)
print(json.dumps([(posixpath.normpath(p), posixpath.split(p), posixpath.join('x/', p, 'y'), posixpath.join('/r', p))
                  for p in d['paths']]))`,
    { paths },
  );
  it('normpath, split, join', () => {
    expect(paths.map((p) => [normpath(p), split(p), join('x/', p, 'y'), join('/r', p)])).toEqual(want);
  });
  it('abspath against a given CWD', () => {
    expect(abspath('a/../b', '/c/d')).toBe('/c/d/b');
    expect(abspath('//x/./y', '/c')).toBe('//x/y');
    expect(abspath('', '/c/d/')).toBe('/c/d');
  });
});

describe('pyCompare = Python str ordering', () => {
  const words = strings(11, 300, ['a', 'B', 'é', '\uffee', '\ue000', '😀', '𝒳', '\ud7ff', '0', ''], 4);
  const want = python<string[]>('import sys, json; print(json.dumps(sorted(json.load(sys.stdin))))', words);
  it('sorts as sorted() does', () => {
    expect([...words].sort(pyCompare)).toEqual(want);
  });
});
