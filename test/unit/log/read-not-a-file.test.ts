// SPDX-License-Identifier: MIT
// A log path that is not a file (stdout_logfile=/dev/stdout in a container: the
// daemon's own stdout, a pipe) cannot be read back: readFile answers FAILED and
// tailFile an empty read at the offset asked, as supervisor.options does (its
// f.seek() raises ESPIPE), checked against the real Python functions on the same
// FIFO. Nothing is read from it (the bytes stay for whoever reads the pipe), and a
// FIFO nobody writes to does not block the daemon in open().
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { LogReadError, readFile, tailFile } from '../../../src/log/read.js';
import { python } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

function fifo(): string {
  const p = path.join(tmpDir('fv-read-fifo-'), 'out');
  execFileSync('mkfifo', [p]);
  return p;
}

function fault(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof LogReadError ? err.fault : String(err);
  }
}

const PY = `
import json, sys
from supervisor.options import readFile, tailFile
a = json.load(sys.stdin)
out = {}
for off, ln in a['reads']:
    try:
        out['read %d %d' % (off, ln)] = readFile(a['path'], off, ln).decode()
    except ValueError as e:
        out['read %d %d' % (off, ln)] = 'fault ' + e.args[0]
out['tail'] = tailFile(a['path'], 5, 100)
print(json.dumps(out))
`;

const READS: Array<[number, number]> = [
  [-1600, 0],
  [0, 0],
  [0, 100],
  [7, 10],
];

describe('reading back a log that is a pipe', () => {
  it('FAILED for every read, the offset asked for a tail: as supervisor.options', () => {
    const p = fifo();
    // A writer that stays, as the daemon's own stdout does: open() does not wait then.
    const w = openSync(p, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      writeSync(w, 'docker logs reads this\n');
      const ours: Record<string, unknown> = {};
      for (const [off, ln] of READS) ours[`read ${off} ${ln}`] = fault(() => readFile(p, off, ln)) ? 'fault FAILED' : 'data';
      ours['tail'] = tailFile(p, 5, 100);
      const theirs = python<Record<string, unknown>>(PY, { path: p, reads: READS });
      expect(ours).toEqual(theirs);
      expect(ours['tail']).toEqual(['', 5, false]);
      // Not a byte was taken from the pipe.
      const buf = Buffer.alloc(100);
      const n = readSync(w, buf, 0, 100, null);
      expect(buf.subarray(0, n).toString()).toBe('docker logs reads this\n');
    } finally {
      closeSync(w);
    }
  });

  it('a FIFO without a writer: FAILED at once, not a daemon blocked in open()', () => {
    const p = fifo();
    expect(fault(() => readFile(p, -1600, 0))).toBe('FAILED');
    expect(tailFile(p, 0, 1600)).toEqual(['', 0, false]);
  });

  it('/dev/null is a device Python can seek in: an empty log, no fault', () => {
    expect(readFile('/dev/null', -1600, 0)).toBe('');
    expect(tailFile('/dev/null', 0, 1600)).toEqual(['', 0, false]);
  });
});
