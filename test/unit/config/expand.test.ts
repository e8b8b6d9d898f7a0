// SPDX-License-Identifier: MIT
// expand() against supervisor.options.expand itself: the same format strings,
// names and contexts, compared result for result and message for message.
import { describe, expect, it } from 'vitest';

import { environ_expansions, expand, expand_here, type Expansions } from '../../../src/config/expand.js';
import { python } from '../../helpers/python.js';
import { rng } from '../../helpers/rng.js';

const NAMES: Expansions = {
  ENV_HOME: '/root',
  ENV_X: "it's",
  here: '/etc/supervisor',
  program_name: 'cat',
  group_name: 'cats',
  host_node_name: 'vm',
  process_num: 3,
  numprocs: 4,
  neg: -5,
  big: 125,
  zero: 0,
  huge: 123456789012,
  none: null,
  one: 'é',
};

const fixed: string[] = [
  '/bin/cat',
  '%(program_name)s_%(process_num)02d',
  '%(here)s/../log/%(program_name)s-%(process_num)d.log',
  'PATH="%(ENV_HOME)s/bin",X=%(ENV_X)s',
  '%(host_node_name)s %(group_name)s %(numprocs)s',
  '100%% sure',
  '%(ENV_NOPE)s',
  '%(program_name)s %(nope)s',
  '%(process_num)d%(nope)',
  '/tmp/100%.log',
  '%s',
  '/bin/true %s %s',
  '%',
  'trailing %',
  '%(unclosed',
  '%(here)d',
  '%(process_num)x %(process_num)#X %(process_num)#o %(process_num)+05d %(neg)05d %(neg)#x',
  '%(process_num)f %(big).1e %(big).2g %(zero)g %(zero)#g %(zero)e %(huge)g %(huge).3e %(neg)G',
  '%(one)c %(process_num)c %(one)r %(one)a %(none)s %(none)r',
  '%(none)d',
  '%(one)5.1s| %(one)-3s| %(program_name).1s',
  '%y',
  '%(here)%',
  '%((here))s',
  '%()s',
  'ünïcødé %(one)s %é',
  'line\none %(nope)s',
];

const PIECES = ['%', '%%', '(', ')', '(here)', '(process_num)', '(big)', '(neg)', '(zero)', '(one)', '(none)', '(nope)',
  's', 'd', 'i', 'x', 'X', 'o', 'e', 'E', 'f', 'g', 'G', 'c', 'r', 'a', 'y', 'l', 'h', '-', '+', ' ', '#', '0', '5',
  '12', '.', '.3', '*', 'abc', '/', 'é'];

function fuzz(count: number, seed: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let s = '';
    const len = 1 + Math.floor(r() * 6);
    for (let j = 0; j < len; j++) {
      const p = PIECES[Math.floor(r() * PIECES.length)]!;
      s += r() < 0.35 ? `%${p}` : p;
    }
    out.push(s);
  }
  return out;
}

const cases = [...fixed, ...fuzz(1500, 20241124)];

type PyResult = { ok: string } | { err: string };

const expected = python<PyResult[]>(
  `import json, sys
from supervisor.options import expand
d = json.load(sys.stdin)
out = []
for s in d["cases"]:
    try: out.append({"ok": expand(s, d["names"], "program:cat.command")})
    except ValueError as e: out.append({"err": str(e)})
print(json.dumps(out))`,
  { cases, names: NAMES },
);

function ours(s: string): PyResult {
  try {
    return { ok: expand(s, NAMES, 'program:cat.command') };
  } catch (e) {
    return { err: (e as Error).message };
  }
}

describe('expand', () => {
  it.each(fixed.map((s, i) => [s, expected[i]!] as const))('expands %j as supervisord does', (s, want) => {
    expect(ours(s)).toEqual(want);
  });

  it('agrees with supervisord on 1500 generated format strings', () => {
    const mismatches = cases
      .map((s, i) => ({ s, want: expected[i]!, got: ours(s) }))
      .slice(fixed.length)
      .filter((m) => JSON.stringify(m.got) !== JSON.stringify(m.want));
    expect(mismatches.slice(0, 5)).toEqual([]);
    // The generator must keep producing successes, not only errors.
    expect(expected.slice(fixed.length).filter((r) => 'ok' in r).length).toBeGreaterThan(300);
  });

  it("names the missing key and lists the available names, as options.py expand() words it", () => {
    expect(() => expand('/bin/true %(ENV_NOPE)s', { here: '/d', ENV_A: '1', program_name: 'x' }, 'program:x.command'))
      .toThrow(
        "Format string '/bin/true %(ENV_NOPE)s' for 'program:x.command' contains names ('ENV_NOPE') " +
          'which cannot be expanded. Available names: ENV_A, here, program_name',
      );
  });

  it('a name-less %s formats the whole dict, in insertion order', () => {
    expect(expand('%s', { b: 'x', a: 1, c: null }, 'c')).toBe("{'b': 'x', 'a': 1, 'c': None}");
  });
});

describe('expand_here', () => {
  it('replaces %(here)s as plain text, before expand() sees it', () => {
    expect(expand_here('%(here)s/a %%(here)s %(here)d', '/etc')).toBe('/etc/a %/etc %(here)d');
  });
});

describe('environ_expansions', () => {
  it('prefixes every variable with ENV_', () => {
    expect(environ_expansions({ HOME: '/root', X: undefined, PATH: '/bin' })).toEqual({
      ENV_HOME: '/root',
      ENV_PATH: '/bin',
    });
  });
});
