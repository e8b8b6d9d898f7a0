#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Bundles the daemon (src/cli/run-supervisord.ts and all it imports) into one
// CommonJS file, dist/cli/fastvisord.cjs, which bin/fastvisord.cjs and
// bin/supervisord.cjs run when it is there. Memory, not start-up time, is why:
// tsc's forty-odd ES modules, linked by Node's ESM loader, kept 2-5 MiB more
// RSS for the daemon's whole life than the same code as one CommonJS file (500
// programs at rest, README "Where fastvisord's memory goes").
//
// The bundle sits two levels below the package root, as every module it was
// made from does (dist/<dir>/<file>.js): the code that finds the addon and the
// web assets from its own location (import.meta.url, here the bundle's URL)
// resolves to the same places.
//
// Part of `npm run build` and `prepare`, after tsc; `node scripts/bundle-daemon.mjs
// FILE` writes it elsewhere. Without esbuild (an install that left out the
// devDependencies) it says so, removes a bundle that would now be stale, and
// succeeds: the bins then run dist/cli/run-supervisord.js.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { bundleCjs } from './cjs-bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'cli', 'fastvisord.cjs'));

const code = await bundleCjs({
  tag: 'bundle-daemon',
  entry: path.join(root, 'src', 'cli', 'run-supervisord.ts'),
  outfile: BUNDLE,
  without: 'fastvisord runs dist/cli/run-supervisord.js',
  remove: () => rmSync(BUNDLE, { force: true }),
});
mkdirSync(path.dirname(BUNDLE), { recursive: true });
writeFileSync(BUNDLE, `// fastvisord: bundled from src/ by scripts/bundle-daemon.mjs; edit the sources.\n${code}`);
