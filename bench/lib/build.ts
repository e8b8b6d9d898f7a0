// SPDX-License-Identifier: MIT
// Compiles the bench's C programs (the writer and the reference pump) with
// `cc -O2` into bench/.build/, when the source is newer than the binary.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

function compile(benchDir: string, src: string, out: string): string {
  const source = path.join(benchDir, src);
  const binary = path.join(benchDir, '.build', out);
  if (mtime(binary) < mtime(source)) {
    mkdirSync(path.dirname(binary), { recursive: true });
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-std=c11', '-o', binary, source], { stdio: 'inherit' });
  }
  return binary;
}

export function buildBinaries(benchDir: string): { writer: string; pump: string } {
  return {
    writer: compile(benchDir, 'writers/writer.c', 'writer'),
    pump: compile(benchDir, 'c-loop/pump.c', 'pump'),
  };
}
