#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// fastvisorctl: fastvisor's supervisorctl (TypeScript, no Python needed). Runs the compiled
// program in dist/; a source checkout that was never built runs the TypeScript via tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/supervisorctl.js', import.meta.url);
let ctl;
if (existsSync(compiled)) {
  ctl = await import(compiled.href);
} else {
  await import('tsx/esm');
  ctl = await import(new URL('../src/cli/supervisorctl.ts', import.meta.url).href);
}
await ctl.run();
