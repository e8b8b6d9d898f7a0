// SPDX-License-Identifier: MIT
// parseEntryPoint = pkg_resources.EntryPoint.pattern (what supervisord parses
// rpcinterface factories and result handlers with) on seeded random specs, and in
// linear time on long runs of white space (the single regex it was took minutes on a
// ten-million-space spec, found by npm run fuzz).
import { describe, expect, it } from 'vitest';

import { parseEntryPoint } from '../../../src/config/sections/entry-point.js';
import { python } from '../../helpers/python.js';
import { rng } from '../../helpers/rng.js';

const PIECES = ['a', 'b1', '.', ':', ' ', '  ', '\t', '\n', '[', ']', '=', 'é', '_', 'x.y', 'supervisor.rpcinterface', 'make_main_rpcinterface', '[e]', '-'];

function specs(n: number): string[] {
  const r = rng(17);
  return Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(r() * 9) }, () => PIECES[Math.floor(r() * PIECES.length)]!).join(''));
}

type Parsed = { module: string; attr: string | null } | null;

function ours(spec: string): Parsed {
  try {
    const p = parseEntryPoint(spec);
    return { module: p.module, attr: p.attr ?? null };
  } catch {
    return null;
  }
}

describe('parseEntryPoint', () => {
  it('matches EntryPoint.pattern on 3000 random specs', () => {
    const all = [...specs(3000), 'supervisor.rpcinterface:make_main_rpcinterface', ' a : b [x] ', 'a=b:c', '=a', 'a\n:b', 'a:b\n'];
    const theirs = python<Parsed[]>(
      `import json, re, sys
pat = re.compile(r'\\s*(?P<name>.+?)\\s*=\\s*(?P<module>[\\w.]+)\\s*(:\\s*(?P<attr>[\\w.]+))?\\s*(?P<extras>\\[.*\\])?\\s*$')
out = []
for s in json.load(sys.stdin):
    m = pat.match('x=' + s)
    out.append({'module': m.group('module'), 'attr': m.group('attr')} if m else None)
print(json.dumps(out))`,
      all,
    );
    expect(all.map(ours)).toEqual(theirs);
  });

  it('takes linear time on ten million spaces', () => {
    for (const spec of [`blather${' '.repeat(10_000_000)}debug`, `a${' '.repeat(10_000_000)}=b`, `a:b${'\t'.repeat(10_000_000)}`]) ours(spec);
    expect(ours(`a${' '.repeat(10_000_000)}`)).toEqual({ module: 'a', attr: null });
  }, 20_000);
});
