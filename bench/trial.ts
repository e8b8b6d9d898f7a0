// SPDX-License-Identifier: MIT
// One trial — one scenario case, one peer, one run — in a fresh process, as
// better-sqlite3's benchmark runs each trial. bench/run.ts starts it:
//
//   node --import tsx bench/trial.ts '{"scenario":"bulk","case":"1x1GiB","peer":"fastvisor","run":1,"quick":false}'
//
// It works in its own mkdtemp directory (removed on exit, however it exits)
// and prints one line "RESULT {json}" (a TrialResult) on stdout.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildBinaries } from './lib/build.js';
import { atExit } from './lib/procs.js';
import type { ScenarioName, TrialContext, TrialResult } from './lib/types.js';
import { PEERS } from './peers/index.js';
import { SCENARIOS } from './scenarios/index.js';

export interface TrialSpec {
  scenario: ScenarioName;
  case: string;
  peer: string;
  run: number;
  quick: boolean;
  pin: boolean;
  pm2?: string;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const spec = JSON.parse(process.argv[2] ?? '{}') as TrialSpec;

async function main(): Promise<TrialResult> {
  const base = { scenario: spec.scenario, case: spec.case, peer: spec.peer, run: spec.run };
  const scenario = SCENARIOS[spec.scenario];
  const peer = PEERS[spec.peer];
  if (!scenario || !peer) return { ...base, ok: false, error: `unknown scenario or peer in ${JSON.stringify(spec)}`, leftover: 0, notes: [] };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fastvisor-bench-'));
  atExit(() => rmSync(tmp, { recursive: true, force: true }));
  const ctx: TrialContext = {
    repoRoot: path.dirname(benchDir),
    tmp,
    quick: spec.quick,
    bins: buildBinaries(benchDir),
    pm2: spec.pm2,
    pin: spec.pin,
  };
  try {
    return await scenario.run(spec.case, peer, ctx, spec.run);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main()
  .catch((err: unknown): TrialResult => ({
    scenario: spec.scenario,
    case: spec.case,
    peer: spec.peer,
    run: spec.run,
    ok: false,
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    leftover: 0,
    notes: [],
  }))
  .then((result) => {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
  });
