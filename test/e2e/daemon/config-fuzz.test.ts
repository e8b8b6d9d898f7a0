// SPDX-License-Identifier: MIT
// A sample of npm run fuzz's config phase (bench/fuzz/config-fuzz.ts): generated config
// files with bad values, unknown sections, huge numbers, expansions of nothing or of
// themselves, include cycles and binary garbage. Each is read by the loader in a watched
// child process: accepted or refused with a config error, never another exception, a
// hang or a crash; refused ones through the real command line end in supervisord's
// usage style and exit 2, never a stack trace.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { fastvisorOutcomes, runCli, usageStyle, writeCases, type CaseDir, type Outcome } from '../../../bench/fuzz/config-fuzz.js';
import { fastvisordCommand } from '../../helpers/daemon-harness.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

const N = 600;

describe('generated config files (a sample of npm run fuzz)', () => {
  let cases: CaseDir[];
  let outcomes: Outcome[];

  it(`${N} files: each accepted or refused with a config error; no other exception, hang or crash`, async () => {
    const root = tmpDir('fv-cfgfuzz-');
    cases = writeCases(root, N, 7);
    const list = path.join(root, 'cases.json');
    writeFileSync(list, JSON.stringify(cases));
    outcomes = await fastvisorOutcomes(list, N);
    const bad = outcomes.map((o, i) => ({ i, kind: cases[i]!.kind, o })).filter(({ o }) => !o.ok && o.error === undefined);
    expect(bad).toEqual([]);
    // The sample must exercise both ends.
    expect(outcomes.filter((o) => o.ok).length).toBeGreaterThan(N / 20);
    expect(outcomes.filter((o) => o.error !== undefined).length).toBeGreaterThan(N / 2);
  }, 120_000);

  it('refused ones through the command line: "Error: <the same text>", the usage hint, exit 2', () => {
    const refused = outcomes.map((o, i) => (o.error !== undefined ? i : -1)).filter((i) => i >= 0);
    const [cmd, pre] = fastvisordCommand();
    const step = Math.floor(refused.length / 12);
    for (let k = 0; k < 12; k++) {
      const i = refused[k * step]!;
      const r = runCli([cmd, ...pre], cases[i]!);
      expect({ i, status: r.status, stackTrace: /\n\s+at /.test(r.stderr) }).toEqual({ i, status: 2, stackTrace: false });
      expect(usageStyle(r.stderr, outcomes[i]!.error!), `case ${i}: ${r.stderr}`).toBe(true);
    }
  }, 120_000);
});
