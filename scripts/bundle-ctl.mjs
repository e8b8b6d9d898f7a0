#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Bundles fastvisorctl (src/cli/supervisorctl.ts and all it imports) into one
// CommonJS file, dist/fastvisorctl.cjs, which bin/fastvisorctl.cjs and
// bin/supervisorctl.cjs run when it is there. A one-shot command spent about as
// long resolving, reading and linking twenty-odd dist/ modules (through the ESM
// loader) as doing its work: one CommonJS file is read once, needs no ESM loader,
// and can be compiled from V8's code cache (see the bins). The commands' modules
// stay lazy inside it: esbuild keeps a dynamic import() as a function that runs
// the module's body on first use.
//
// The first line carries a build id (a hash of the rest), which names the bins'
// code cache, so a cache is never used with another build of the same length
// (V8 checks only the length). Old caches go when a new bundle is written.
//
// Part of `npm run build` and `prepare`, after tsc; `node scripts/bundle-ctl.mjs FILE`
// writes it elsewhere (the tests do). Without esbuild (an install
// that left out the devDependencies) it says so, removes a bundle that would now
// be stale, and succeeds: the bins then run dist/cli/supervisorctl.js.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { bundleCjs } from './cjs-bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'fastvisorctl.cjs'));
const dist = path.dirname(BUNDLE);

function removeBundle() {
  rmSync(BUNDLE, { force: true });
  let names = [];
  try {
    names = readdirSync(dist);
  } catch {
    return;
  }
  for (const name of names) if (/^\.fastvisorctl-.*\.v8cache$/.test(name)) rmSync(path.join(dist, name), { force: true });
}

const code = await bundleCjs({
  tag: 'bundle-ctl',
  entry: path.join(root, 'src', 'cli', 'supervisorctl.ts'),
  outfile: BUNDLE,
  without: 'fastvisorctl runs dist/cli/supervisorctl.js',
  remove: removeBundle,
  // import('node:readline') as require(): the bins compile the bundle with vm.Script,
  // which has no loader for a real import(). (supervisorctl.ts asks whether it is the
  // entry point, from import.meta.url: in the bundle it never is.)
  options: { supported: { 'dynamic-import': false } },
});
if (/\bimport\(/.test(code)) {
  removeBundle();
  console.error('bundle-ctl: the bundle holds an import(), which vm.Script cannot run');
  process.exit(1);
}
const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
removeBundle();
mkdirSync(dist, { recursive: true });
writeFileSync(BUNDLE, `// fastvisorctl build ${id}: bundled from src/ by scripts/bundle-ctl.mjs; edit the sources.\n${code}`);
