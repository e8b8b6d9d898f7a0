// SPDX-License-Identifier: MIT
// The converters against supervisor.datatypes itself: the same inputs through
// both, values and error messages compared; plus the Python builtins under them.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import * as dt from '../../../src/config/datatypes.js';
import { python } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';
import { rng } from '../../helpers/rng.js';

afterAll(removeTmpDirs);

const dir = tmpDir('fv-datatypes-');
mkdirSync(path.join(dir, 'sub'));

const KV_KEYS = ['A', 'B_2', 'key', '"K"', 'a.b', '1', 'é', ''];
const KV_VALUES = ['x', '1', '/usr/bin:/bin', '"a,b"', "'c d'", '"', "'", '@', 'é', '#', 'a#b', '\\', '%', '$', '=',
  '(x)', '', ' ', '"x"y', 'a"b'];
const KV_SEPARATORS = [',', ',', ',', ';', ' ', ',\n', '\n', '#', '', ' , '];

// Mostly well-formed pair lists with some noise, so that both outcomes are common.
function generatedPairs(count: number, seed: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let s = '';
    const n = 1 + Math.floor(r() * 3);
    for (let j = 0; j < n; j++) {
      s += pick(KV_KEYS) + (r() < 0.2 ? ' = ' : '=') + pick(KV_VALUES);
      if (r() < 0.3) s += pick(KV_VALUES);
      if (j < n - 1 || r() < 0.2) s += pick(KV_SEPARATORS);
    }
    out.push(s);
  }
  return out;
}

const signalNames = python<string[]>(
  'import json, signal, sys; json.load(sys.stdin); print(json.dumps([k for k in dir(signal) if k.startswith("SIG")]))',
  null,
);

const INPUTS: Record<string, unknown[]> = {
  boolean: ['true', 'TRUE', 'Yes', 'on', '1', 'false', 'No', 'OFF', '0', 'maybe', '', ' true', 'True ', 'y', '2',
    true, false, "it's"],
  integer: ['0', '12', ' 12 ', '-5', '+5', '1_000', '1__0', '_1', '1_', '0x10', '1e3', '1.5', '', '  ', '١٢', '１２',
    '\u00a012\u00a0', '\u001c5', '\u00855', '12\u0000', '- 5', '0012', '5\u200b', '\u007f1', '9'.repeat(30),
    '1'.repeat(4301), '1'.repeat(4301) + 'é', 'a'.repeat(300), 999],
  byte_size: ['0', '1024', '1KB', '1kb', '1Kb', '10MB', '1GB', '1gB', '1B', '1.5MB', 'MB', 'kb', '-1MB', ' 5 kb',
    '5 KB', '1xb', 'ABC', '50MB ', '١kb'],
  octal_type: ['022', '22', '0o22', '0O22', '0o_22', '2_2', '8', '', '0x1', '-7', ' 7 ', '0o', '0o__7', '777777', '0_'],
  signal_number: [
    ...signalNames,
    ...signalNames.map((n) => n.toLowerCase().replace(/^sig/, '')),
    ...Array.from({ length: 70 }, (_, i) => String(i)),
    'sigterm', 'Term', ' TERM ', '_DFL', '_IGN', '_BLOCK', 'RTMIN', 'SIGRTMIN+1', 'FOO', 'SIGFOO', '', '15 ', '+15',
    '1_5', 'SIG', '-1', 'ﬁ', 15,
  ],
  list_of_exitcodes: ['0', '0,2', '0, 2', ' 1 ,2 ', '', '0,256', '-1', '0,', 'a', ',', '255', '1_0'],
  auto_restart: ['true', 'TRUE', 'false', 'unexpected', 'Unexpected', 'maybe', 'Maybe', '1', '0', 'yes', 'off', ''],
  logfile_name: ['AUTO', 'auto', 'NONE', 'none', 'OFF', 'off', 'syslog', 'SYSLOG', 'NONE ', `${dir}/x.log`,
    `${dir}/nope/x.log`, `${dir}/sub/`, `${dir}//sub//x`, 'x.log', '~/x.log', '~', '~nosuchuserxyz/x.log',
    '~root/x.log', '/x.log', '//x', ''],
  existing_dirpath: [dir, `${dir}/sub/x`, `${dir}/nope/x`, 'x', '', '/', '~/x', '~root', `${dir}/sub\u0000/x`],
  existing_directory: [dir, `${dir}/sub`, `${dir}/nope`, '', '~', '~root', 'x'],
  dict_of_key_value_pairs: [
    '', '   ', 'A=1', 'A=1,B=2', 'A="x,y",B=\'z\'', 'A=1;B=2', 'A=1 B=2', 'A=foo@bar', 'A=a=b', 'A=', 'A="',
    'PATH=/usr/bin:/bin,HOME=/root', 'A=abc#def', 'A=abc#def\n,B=2', 'A="abc#def"', 'A=café', 'A="café"',
    'A=1,\nB=2', '"A"=1', 'A=""', 'A=\'"x"\'', 'A=a"b,c"', 'A=1,', 'A=1,,B=2', 'A.B=1', '1=2', 'A=%(x)s',
    'A=1 ,B=2', 'A = 1 , B = 2', 'A=x\\,y',
    ...generatedPairs(1000, 7),
  ],
  inet_address: ['9001', '127.0.0.1:9001', '*:9001', ':9001', 'localhost:', 'LOCALHOST:80', '0', '65536', '65535',
    'abc', 'host:abc', '[::1]:9001', 'a:b:9001', 'host:0', '', ' 9001', '9001 ', 'host:1_0', 'host:70000'],
  url: ['http://localhost:9001', 'unix:///tmp/s.sock', 'http://', 'http:', 'localhost:9001', '/tmp/sock', '',
    'http://[::1]:9001', 'http://[::1', 'http://::1]', 'http://[1.2.3.4]/', 'http://[v1.x]/', 'http://[v1]/',
    'http://[zz]/', 'HTTP://X', '1http://x', 'http:;p', 'http://h;p', 'ftp:x', '  http://x', 'http://\u2100/',
    'h\tttp://x', 'http://a@[::1]:80/', 'http://[::1]x/', 'x[y]://z', 'http://h/p?q#f', 'http:?q', 'http:#f',
    'tel:;x', 'tel:/a;b'],
  logging_level: ['info', 'INFO', 'warn', 'warning', 'blather', 'Trace', 'critical', 'error', 'debug', '', 'x'],
  process_or_group_name: ['cat', ' cat ', 'a b', 'a:b', 'a/b', '\u00a0cat\u00a0', 'x\ty', ''],
  list_of_strings: ['', 'a', 'a, b ,c', ',', ' '],
};

type Result = { ok: unknown } | { err: string; type: string };

const expected = python<Record<string, Result[]>>(
  `import json, sys
from supervisor import datatypes as dt
def enc(name, x):
    if name == 'logfile_name':
        if x is None: return {'kind': 'none'}
        if x is dt.Automatic: return {'kind': 'auto'}
        if x is dt.Syslog: return {'kind': 'syslog'}
        return {'kind': 'path', 'path': x}
    if name == 'auto_restart':
        return {dt.RestartUnconditionally: 'true', dt.RestartWhenExitUnexpected: 'unexpected', False: 'false'}[x]
    if name == 'inet_address':
        return {'host': x[0], 'port': x[1]}
    return x
out = {}
for name, inputs in json.load(sys.stdin).items():
    res = []
    for v in inputs:
        try: res.append({"ok": enc(name, getattr(dt, name)(v))})
        except Exception as e: res.append({"err": str(e), "type": type(e).__name__})
    out[name] = res
print(json.dumps(out))`,
  INPUTS,
);

function ours(name: string, v: unknown): Result {
  try {
    const f = (dt as unknown as Record<string, (x: unknown) => unknown>)[name]!;
    return { ok: f(v) };
  } catch (e) {
    return { err: (e as Error).message, type: (e as Error).name };
  }
}

describe.each(Object.keys(INPUTS))('%s', (name) => {
  const inputs = INPUTS[name]!;
  const want = expected[name]!;
  if (inputs.length > 100) {
    it(`agrees with supervisor.datatypes.${name} on ${inputs.length} inputs`, () => {
      const mismatches = inputs
        .map((v, i) => ({ v, want: want[i]!, got: ours(name, v) }))
        .filter((m) => JSON.stringify(m.got) !== JSON.stringify(m.want) && !sameEntries(m.got, m.want));
      expect(mismatches.slice(0, 5)).toEqual([]);
      // The generated inputs must keep producing successes, not only errors.
      expect(want.filter((w) => 'ok' in w).length).toBeGreaterThan(100);
    });
  } else {
    it.each(inputs.map((v, i) => [v, want[i]!] as const))(`${name}(%j) as supervisord`, (v, w) => {
      expect(ours(name, v)).toEqual(w);
    });
  }
});

// dict_of_key_value_pairs: a JS object puts integer-like keys first, a Python dict does not.
function sameEntries(a: Result, b: Result): boolean {
  if (!('ok' in a) || !('ok' in b)) return false;
  const sorted = (x: unknown) => JSON.stringify(Object.entries(x as object).sort(([p], [q]) => (p < q ? -1 : 1)));
  return sorted(a.ok) === sorted(b.ok);
}

describe('Python builtins under the converters', () => {
  it('pyIsSpace() is str.isspace() over every code point', () => {
    const want = python<number[]>(
      'import json, sys; json.load(sys.stdin); print(json.dumps([c for c in range(0x110000) if chr(c).isspace()]))',
      null,
    );
    const got: number[] = [];
    for (let c = 0; c < 0x110000; c++) {
      if ((c < 0xd800 || c > 0xdfff) && dt.pyIsSpace(String.fromCodePoint(c))) got.push(c);
    }
    expect(got).toEqual(want);
  });

  it('pyRepr() and pyAscii() are repr() and ascii()', () => {
    const chars = Array.from({ length: 0x250 }, (_, i) => String.fromCodePoint(i));
    const strings = [
      ...chars,
      "it's", 'say "hi"', `both ' and "`, '\u2028\u2029\u200b\u3000\ufeff\ue000\u00ad', 'é€😀\u{1d7ce}', 'a\\b',
    ];
    const want = python<Array<[string, string]>>(
      'import json, sys; print(json.dumps([[repr(s), ascii(s)] for s in json.load(sys.stdin)]))',
      strings,
    );
    expect(strings.map((s) => [dt.pyRepr(s), dt.pyAscii(s)])).toEqual(want);
  });

  it('pyStrip() strips what str.strip() strips, not what String.trim() does', () => {
    expect(dt.pyStrip('\u001c\u0085 x \ufeff\u00a0')).toBe('x \ufeff');
  });
});

describe('password_matches', () => {
  it('{SHA} is the lower-case hex SHA-1 of the UTF-8 password (http.py encrypted_dictionary_authorizer)', () => {
    expect(dt.password_matches('{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4', 'secret')).toBe(true);
    expect(dt.password_matches('{SHA}E5E9FA1BA31ECD1AE84F75CAAA474F3A663F05F4', 'secret')).toBe(false);
    expect(dt.password_matches('{SHA}f517ddf1d32a112ff1ad55c66d1b12cb38e7e8f7', 'pässwörd')).toBe(true);
    expect(dt.password_matches('{sha}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4', 'secret')).toBe(false);
    expect(dt.password_matches('secret', 'secret')).toBe(true);
    expect(dt.password_matches('secret', 'Secret')).toBe(false);
  });
});
