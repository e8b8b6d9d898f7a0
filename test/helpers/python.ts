// SPDX-License-Identifier: MIT
// Runs a snippet under Debian's /usr/bin/python3, which has the supervisor
// package (the pyenv python3 on PATH does not), feeding JSON in and out.
import { execFileSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

export function python<T>(script: string, input: unknown): T {
  const out = execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  return JSON.parse(out) as T;
}
