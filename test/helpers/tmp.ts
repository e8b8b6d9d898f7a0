// SPDX-License-Identifier: MIT
// Temporary directories that are removed after the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const made: string[] = [];

export function tmpDir(prefix = 'fv-test-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function removeTmpDirs(): void {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
}
