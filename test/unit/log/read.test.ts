// SPDX-License-Identifier: MIT
// tailFile with a huge length (tailProcessStdoutLog(name, -5, 2**31-1), a
// client's or a fuzzer's choice) reads what the file has, as Python's
// read(length) does, and never allocates the length asked for.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { tailFile } from '../../../src/log/read.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

describe('tailFile', () => {
  it('a length far past the file reads the file, without a buffer of that length', () => {
    const file = path.join(tmpDir('fv-read-'), 'a.log');
    writeFileSync(file, 'hello\nworld\n');
    const before = process.memoryUsage().arrayBuffers;
    const [data, next, overflow] = tailFile(file, -5, 2 ** 31 - 1);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect([data, next, overflow]).toEqual(['hello\nworld\n', 12, false]);
    expect(grown).toBeLessThan(64 << 20);
  });
});
