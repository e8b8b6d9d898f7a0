// SPDX-License-Identifier: MIT
// Compiles the bench's C programs (the writer and the reference pump) with
// `cc -O2` into bench/.build/, when the source is newer than the binary.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { buildSync, type BuildOptions } from 'esbuild';

import { CJS_BUNDLE_OPTIONS } from '../../scripts/cjs-bundle.mjs';

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

/**
 * The fastvisor driver bundled to plain JavaScript (esbuild, which tsx brings),
 * so the measured process carries no TypeScript loader: under `--import tsx`
 * an idle Node grows from ~40 MiB to ~75 MiB RSS, which would be charged to
 * fastvisor. The addon stays outside the bundle and is loaded from the repo.
 */
export function bundleDriver(repoRoot: string): string {
  return bundle(repoRoot, path.join(repoRoot, 'bench', 'peers', 'fastvisor-driver.ts'), 'fastvisor-driver.mjs');
}

/**
 * fastvisor's daemon (src/cli/run-supervisord.ts) bundled as `npm run build` does
 * for the bins (scripts/bundle-daemon.mjs: one CommonJS file, whose memory is what
 * users get), but from the sources as they are now. It must sit in bench/.build/,
 * two levels below the repository, where src/native/index.ts looks for the addon
 * (packageRoot, from the bundle's own URL).
 */
export function bundleDaemon(repoRoot: string): string {
  return bundle(repoRoot, path.join(repoRoot, 'src', 'cli', 'run-supervisord.ts'), 'fastvisord.cjs', CJS_BUNDLE_OPTIONS);
}

function bundle(repoRoot: string, entry: string, name: string, options: BuildOptions = { format: 'esm' }): string {
  const out = path.join(repoRoot, 'bench', '.build', name);
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    external: ['node-gyp-build'],
    outfile: out,
    logLevel: 'warning',
    ...options,
  });
  return out;
}
