// SPDX-License-Identifier: MIT
// shlexSplit and pyRepr against Python's own shlex.split and repr.
import { describe, expect, it } from 'vitest';

import { pyRepr } from '../../../src/process/py-repr.js';
import { shlexSplit } from '../../../src/process/shlex.js';
import { python } from '../../helpers/python.js';

const commands = [
  'sleep 10',
  '  /usr/bin/env   FOO=1 prog  ',
  `sh -c 'echo "hi there"; exit 3'`,
  `echo "a \\" b" 'c \\ d' e\\ f`,
  `echo "\\n\\t\\\\" '\\n'`,
  `echo '' "" x`,
  `echo a'b'"c"d`,
  `echo "unclosed`,
  `echo 'unclosed`,
  'trailing \\',
  `echo "\\`,
  'tab\tseparated\nlines',
  'ünïcødé ✓ "quoted ✓"',
  '',
  '   ',
  'echo # not a comment',
];

describe('shlexSplit', () => {
  const expected = python<Array<{ ok?: string[]; err?: string }>>(
    `import shlex, json, sys
out = []
for c in json.load(sys.stdin):
    try: out.append({"ok": shlex.split(c)})
    except ValueError as e: out.append({"err": str(e)})
print(json.dumps(out))`,
    commands,
  );
  it.each(commands.map((c, i) => [c, expected[i]!] as const))('splits %j as Python does', (command, want) => {
    if (want.err !== undefined) expect(() => shlexSplit(command)).toThrow(want.err);
    else expect(shlexSplit(command)).toEqual(want.ok);
  });
});

describe('pyRepr', () => {
  const strings = ['plain', "it's", 'say "hi"', `both ' and "`, 'back\\slash', 'new\nline\ttab', '\x1b[31m', 'é✓'];
  const expected = python<string[]>('import json, sys; print(json.dumps([repr(s) for s in json.load(sys.stdin)]))', strings);
  it.each(strings.map((s, i) => [s, expected[i]!] as const))('reprs %j as Python does', (s, want) => {
    expect(pyRepr(s)).toBe(want);
  });
});
