// SPDX-License-Identifier: MIT
// src/cli/v8-memory.ts, which the daemon's entry point imports first: V8's young
// generation stays at its start size through an allocation burst, unless the user
// gave a semi-space size, on node's command line or in NODE_OPTIONS (node takes it
// there): then theirs wins.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { REPO } from '../../helpers/daemon-harness.js';

const MODULE = path.join(REPO, 'src', 'cli', 'v8-memory.ts');
// Imports the module, allocates ~2 million short-lived objects, prints the new space's size.
const BURST = `
await import(${JSON.stringify(MODULE)});
const v8 = await import('node:v8');
let keep = [];
for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
`;

function newSpaceAfterBurst(nodeArgs: string[], nodeOptions?: string): number {
  const env = { ...process.env };
  if (nodeOptions === undefined) delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = nodeOptions;
  const r = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', BURST], { cwd: REPO, env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

const MiB = 1024 * 1024;

describe('the daemon V8 settings', () => {
  it('keep the young generation at its start size through a burst', () => {
    expect(newSpaceAfterBurst([])).toBeLessThanOrEqual(4 * MiB);
  });

  it('yield to a semi-space size given on the command line or in NODE_OPTIONS', () => {
    expect(newSpaceAfterBurst(['--max-semi-space-size=16'])).toBeGreaterThan(4 * MiB);
    expect(newSpaceAfterBurst([], '--max-semi-space-size=16')).toBeGreaterThan(4 * MiB);
  });
});
