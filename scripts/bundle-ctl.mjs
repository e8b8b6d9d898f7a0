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

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (e) {
  removeBundle();
  console.warn(`bundle-ctl: esbuild is not installed (${e.code ?? e.message}): fastvisorctl runs dist/cli/supervisorctl.js`);
  process.exit(0);
}

let code;
try {
  const out = await esbuild.build({
    entryPoints: [path.join(root, 'src', 'cli', 'supervisorctl.ts')],
    outfile: BUNDLE,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Only the ctl's own code goes in; node: builtins stay require()s.
    packages: 'external',
    // import('node:readline') as require(): the bins compile the bundle with vm.Script,
    // which has no loader for a real import().
    supported: { 'dynamic-import': false },
    // supervisorctl.ts asks whether it is the entry point; in the bundle it never is.
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: `"use strict";\nconst __bundleUrl = require("node:url").pathToFileURL(__filename).href;` },
    logLevel: 'warning',
  });
  code = out.outputFiles[0].text;
} catch (e) {
  // A failed build must not leave the previous bundle to run stale code.
  removeBundle();
  console.error(`bundle-ctl: ${e.message}`);
  process.exit(1);
}
if (/\bimport\(/.test(code)) {
  removeBundle();
  console.error('bundle-ctl: the bundle holds an import(), which vm.Script cannot run');
  process.exit(1);
}
const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
removeBundle();
mkdirSync(dist, { recursive: true });
writeFileSync(BUNDLE, `// fastvisorctl build ${id}: bundled from src/ by scripts/bundle-ctl.mjs; edit the sources.\n${code}`);
