// SPDX-License-Identifier: MIT
// bin/fastvisord.cjs and bin/supervisord.cjs in each layout they meet, each made in a
// temp tree that holds only that layout, so the daemon can only run the way under
// test: the one-file CommonJS bundle (made here from the current sources with
// scripts/bundle-daemon.mjs) with no other JavaScript of the daemon's beside it, and
// tsc's dist/ without a bundle. Either way the daemon must find what it finds from
// its own location: the addon (a program runs) and the web assets (the status page).
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { REPO, startDaemon, stopAllDaemons } from '../../helpers/daemon-harness.js';
import { parseResponse, rawRequest } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  await stopAllDaemons();
  killTracked();
});
afterAll(() => removeTmpDirs());

const PROGRAM = '[program:web]\ncommand=/bin/sleep 1000\nstartsecs=0\n';

/** A package tree with the daemon's bins, the web assets and the addon's build, plus whatever `fill` puts in. */
function tree(fill: (root: string) => void): string {
  const root = tmpDir('fv-daemon-bins-');
  cpSync(path.join(REPO, 'package.json'), path.join(root, 'package.json'));
  mkdirSync(path.join(root, 'bin'));
  for (const b of ['fastvisord.cjs', 'supervisord.cjs']) cpSync(path.join(REPO, 'bin', b), path.join(root, 'bin', b));
  cpSync(path.join(REPO, 'web'), path.join(root, 'web'), { recursive: true });
  // node-gyp-build (required by the daemon, not bundled) and the addon it finds under the package root.
  symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
  symlinkSync(path.join(REPO, 'build'), path.join(root, 'build'));
  fill(root);
  return root;
}

async function expectRuns(root: string, bin: string): Promise<void> {
  const d = await startDaemon('fastvisor', PROGRAM, { command: [process.execPath, [path.join(root, 'bin', bin)]] });
  await pollUntil(async () => ((await d.rpc('supervisor.getProcessInfo', 'web')) as { statename: string }).statename === 'RUNNING', {
    what: 'web RUNNING',
  });
  const page = parseResponse((await rawRequest({ path: d.sock }, 'GET / HTTP/1.0\r\n\r\n')).raw);
  expect(page.status).toBe(200);
  expect(page.body.toString()).toContain('<html');
  expect(await d.stop()).toBe(0);
}

describe('the one-file bundle', () => {
  it('is all of the daemon the bins need: it finds the addon and the web assets from where it sits', async () => {
    const root = tree((r) => execFileSync(process.execPath, [path.join(REPO, 'scripts/bundle-daemon.mjs'), path.join(r, 'dist', 'cli', 'fastvisord.cjs')]));
    expect(readdirSync(path.join(root, 'dist', 'cli'))).toEqual(['fastvisord.cjs']);
    await expectRuns(root, 'fastvisord.cjs');
    await expectRuns(root, 'supervisord.cjs');
  }, 60_000);
});

describe('without a bundle', () => {
  const compiled = path.join(REPO, 'dist', 'cli', 'run-supervisord.js');
  it.skipIf(!existsSync(compiled))(`runs tsc's dist/${existsSync(compiled) ? '' : ' (skipped: no dist/: npm run build)'}`, async () => {
    const root = tree((r) =>
      cpSync(path.join(REPO, 'dist'), path.join(r, 'dist'), { recursive: true, filter: (src) => !/\.cjs$|\.v8cache$/.test(src) }),
    );
    expect(existsSync(path.join(root, 'dist', 'cli', 'fastvisord.cjs'))).toBe(false);
    await expectRuns(root, 'fastvisord.cjs');
  }, 60_000);
});
