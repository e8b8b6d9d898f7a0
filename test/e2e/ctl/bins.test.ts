// SPDX-License-Identifier: MIT
// bin/fastvisorctl.cjs and bin/supervisorctl.cjs in each layout they meet, each made
// in a temp tree that holds only that layout, so the command can only work the way
// under test: the one-file bundle (made here from the current sources with
// scripts/bundle-ctl.mjs), with its V8 code cache made, used, rejected when bad and
// skipped when it cannot be written; tsc's dist/ without a bundle; and a checkout
// that was never built (tsx).
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DAEMONS, REPO, startDaemon, type RunningDaemon } from '../../helpers/ctl-harness.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

let d: RunningDaemon;
beforeAll(async () => {
  d = await startDaemon(DAEMONS.find((s) => s.name === 'fastvisor')!, { programs: '[program:web]\ncommand=/bin/sleep 1000\nstartsecs=0\n' });
}, 30_000);
afterAll(async () => {
  await d?.stop();
  killTracked();
  removeTmpDirs();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin ?? '');
  });
}

/** A tree with package.json and the two ctl bins, plus whatever `fill` puts in. */
function tree(fill: (root: string) => void): string {
  const root = tmpDir('fv-ctl-bins-');
  copyFileSync(path.join(REPO, 'package.json'), path.join(root, 'package.json'));
  mkdirSync(path.join(root, 'bin'));
  for (const b of ['fastvisorctl.cjs', 'supervisorctl.cjs']) cpSync(path.join(REPO, 'bin', b), path.join(root, 'bin', b));
  fill(root);
  return root;
}

const caches = (dist: string): string[] => readdirSync(dist).filter((f) => f.endsWith('.v8cache'));

async function expectWorks(root: string): Promise<void> {
  for (const bin of ['fastvisorctl.cjs', 'supervisorctl.cjs']) {
    const file = path.join(root, 'bin', bin);
    expect(await run(file, ['-c', d.conf, 'version'])).toEqual({ code: 0, stdout: '4.2.5\n', stderr: '' });
    expect(await run(file, ['-q'])).toEqual({ code: 2, stdout: '', stderr: `Error: option -q not recognized\nFor help, use ${file} -h\n` });
  }
}

describe('the one-file bundle', () => {
  let root: string;
  let dist: string;
  beforeAll(() => {
    root = tree((r) => execFileSync(process.execPath, [path.join(REPO, 'scripts/bundle-ctl.mjs'), path.join(r, 'dist', 'fastvisorctl.cjs')]));
    dist = path.join(root, 'dist');
  }, 30_000);

  it('is all the bins need: one-shot commands, and the shell (readline loaded on demand)', async () => {
    expect(readdirSync(dist)).toEqual(['fastvisorctl.cjs']);
    await expectWorks(root);
    const shell = await run(path.join(root, 'bin', 'fastvisorctl.cjs'), ['-c', d.conf], 'version\n');
    expect(shell.code).toBe(0);
    expect(shell.stdout).toMatch(/^web\s+RUNNING\s+pid \d+/);
    expect(shell.stdout).toContain('supervisor> 4.2.5\n');
  });

  it('makes its code cache on the first run and then uses it as it is', async () => {
    const bin = path.join(root, 'bin', 'fastvisorctl.cjs');
    await run(bin, ['-c', d.conf, 'version']);
    const [cache] = caches(dist);
    expect(cache).toMatch(/^\.fastvisorctl-[0-9a-f]{16}-v[\d.]+-\w+\.v8cache$/);
    const before = statSync(path.join(dist, cache!));
    expect(before.size).toBeGreaterThan(10_000);
    expect(await run(bin, ['-c', d.conf, 'status'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^web\s+RUNNING/) });
    // Accepted: not written again (a rewrite is a rename, so a new inode).
    expect(statSync(path.join(dist, cache!)).ino).toBe(before.ino);
  });

  it('a bad cache is rejected and made again; the command does not notice', async () => {
    const bin = path.join(root, 'bin', 'fastvisorctl.cjs');
    await run(bin, ['-c', d.conf, 'version']);
    const cache = path.join(dist, caches(dist)[0]!);
    writeFileSync(cache, Buffer.alloc(150_000, 7));
    expect(await run(bin, ['-c', d.conf, 'version'])).toEqual({ code: 0, stdout: '4.2.5\n', stderr: '' });
    expect(statSync(cache).size).not.toBe(150_000);
    writeFileSync(cache, '');
    expect(await run(bin, ['-c', d.conf, 'version'])).toEqual({ code: 0, stdout: '4.2.5\n', stderr: '' });
    expect(statSync(cache).size).toBeGreaterThan(10_000);
  });

  it('a cache that cannot be written is done without, and leaves nothing behind', async () => {
    const bin = path.join(root, 'bin', 'fastvisorctl.cjs');
    await run(bin, ['-c', d.conf, 'version']);
    const cache = path.join(dist, caches(dist)[0]!);
    // Root writes through file modes: a directory where the cache goes cannot be replaced by it.
    execFileSync('rm', ['-f', cache]);
    mkdirSync(cache);
    expect(await run(bin, ['-c', d.conf, 'version'])).toEqual({ code: 0, stdout: '4.2.5\n', stderr: '' });
    expect(statSync(cache).isDirectory()).toBe(true);
    expect(readdirSync(dist).sort()).toEqual([path.basename(cache), 'fastvisorctl.cjs'].sort());
  });
});

describe('without a bundle', () => {
  const compiled = path.join(REPO, 'dist', 'cli', 'supervisorctl.js');
  it.skipIf(!existsSync(compiled))(`runs tsc's dist/${existsSync(compiled) ? '' : ' (skipped: no dist/: npm run build)'}`, async () => {
    const root = tree((r) =>
      cpSync(path.join(REPO, 'dist'), path.join(r, 'dist'), {
        recursive: true,
        filter: (src) => !/fastvisorctl\.cjs$|\.v8cache$/.test(src),
      }),
    );
    expect(existsSync(path.join(root, 'dist', 'cli', 'supervisorctl.js'))).toBe(true);
    expect(existsSync(path.join(root, 'dist', 'fastvisorctl.cjs'))).toBe(false);
    await expectWorks(root);
  });

  it('runs the sources through tsx in a checkout that was never built', async () => {
    const root = tree((r) => {
      symlinkSync(path.join(REPO, 'src'), path.join(r, 'src'));
      symlinkSync(path.join(REPO, 'node_modules'), path.join(r, 'node_modules'));
    });
    expect(existsSync(path.join(root, 'dist'))).toBe(false);
    await expectWorks(root);
  }, 60_000);
});
