// SPDX-License-Identifier: MIT
// getopt against Python's getopt.getopt on supervisord's own option table.
import { describe, expect, it } from 'vitest';

import { getopt, GetoptError } from '../../../src/cli/getopt.js';
import { python } from '../../helpers/python.js';

const SHORT = 'c:hnsvu:m:d:l:y:z:e:j:i:q:ka:t';
const LONG = ['configuration=', 'nodaemon', 'silent', 'help', 'version', 'user=', 'umask=', 'directory=', 'logfile=',
  'logfile_maxbytes=', 'logfile_backups=', 'loglevel=', 'pidfile=', 'identifier=', 'childlogdir=', 'nocleanup',
  'minfds=', 'strip_ansi', 'minprocs=', 'profile_options='];

const cases: string[][] = [
  ['-c', 'a.conf', '-n'],
  ['-nc', 'a.conf'],
  ['-ca.conf'],
  ['--configuration=a.conf', '--nodaemon'],
  ['--conf', 'a.conf'],
  ['--config=x'],
  ['--node'],
  ['--log', 'x'],
  ['--logfile', 'x', 'positional', '-n'],
  ['-n', '--', '-c', 'x'],
  ['-', '-n'],
  ['--bogus'],
  ['-x'],
  ['-c'],
  ['--user'],
  ['--nodaemon=1'],
  ['--minprocs=5', '-a', '2048', '-kt'],
  [],
];

describe('getopt', () => {
  const expected = python<Array<{ ok?: [Array<[string, string]>, string[]]; err?: string }>>(
    `import getopt, json, sys
d = json.load(sys.stdin)
out = []
for args in d["cases"]:
    try:
        o, a = getopt.getopt(args, d["short"], d["long"])
        out.append({"ok": [o, a]})
    except getopt.error as e:
        out.append({"err": str(e)})
print(json.dumps(out))`,
    { cases, short: SHORT, long: LONG },
  );
  it.each(cases.map((c, i) => [c, expected[i]!] as const))('parses %j as Python does', (args, want) => {
    if (want.err !== undefined) {
      expect(() => getopt(args, SHORT, LONG)).toThrow(GetoptError);
      expect(() => getopt(args, SHORT, LONG)).toThrow(want.err);
    } else {
      expect(getopt(args, SHORT, LONG)).toEqual(want.ok);
    }
  });
});
