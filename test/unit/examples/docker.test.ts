// SPDX-License-Identifier: MIT
// examples/docker/ without Docker (none here, and no hadolint): the
// Dockerfile's ENTRYPOINT runs a bin the package has and the image links, with
// the config path the Dockerfile copies the example's supervisord.conf to; every
// COPY source exists; the config loads and says what a container needs (logs to
// /dev/stdout with rotation off, probes on an inet server, stop times below
// `docker stop`'s default 10 s). The run itself is test/e2e/daemon/pid1.test.ts.
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import { REPO } from '../../helpers/daemon-harness.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

const EXAMPLE = path.join(REPO, 'examples', 'docker');
const dockerfile = readFileSync(path.join(EXAMPLE, 'Dockerfile'), 'utf8');
const confText = readFileSync(path.join(EXAMPLE, 'supervisord.conf'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };

/** Instructions with their continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^([A-Z]+)\s+(.*)$/.exec(l);
      if (!m) throw new Error(`not an instruction: ${l}`);
      return { op: m[1]!, args: m[2]! };
    });
}

const ins = instructions(dockerfile);
const all = (op: string) => ins.filter((i) => i.op === op);
/** Final-stage COPYs from the build context: [source, destination]. */
const copies = all('COPY')
  .filter((c) => !c.args.startsWith('--from'))
  .map((c) => c.args.split(/\s+/))
  .filter((a) => a.length === 2) as [string, string][];

describe('examples/docker/Dockerfile', () => {
  it('uses only known instructions; two node:20 stages on the same Debian', () => {
    const known = new Set(['FROM', 'RUN', 'COPY', 'WORKDIR', 'EXPOSE', 'STOPSIGNAL', 'HEALTHCHECK', 'ENTRYPOINT', 'CMD', 'ENV', 'ARG', 'LABEL', 'USER']);
    for (const i of ins) expect(known.has(i.op), i.op).toBe(true);
    const froms = all('FROM').map((f) => f.args.split(/\s+/)[0]);
    expect(froms).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    expect(all('STOPSIGNAL').map((s) => s.args)).toEqual(['SIGTERM']);
  });

  it('ENTRYPOINT (exec form, so the daemon is PID 1) runs fastvisord -n -c on the copied config', () => {
    const [entry] = all('ENTRYPOINT');
    const argv = JSON.parse(entry!.args) as string[];
    expect(argv.slice(0, 3)).toEqual(['fastvisord', '-n', '-c']);
    // the bin exists in the package and the image links it
    expect(pkg.bin[argv[0]!]).toBe('bin/fastvisord.cjs');
    expect(existsSync(path.join(REPO, pkg.bin[argv[0]!]!))).toBe(true);
    const links = ins.find((i) => i.op === 'RUN' && i.args.includes('ln -s'))!.args;
    // Each loop links its names to bin/NAME.EXT: together, package.json's bins.
    const linked: Record<string, string> = {};
    for (const [, names, ext] of links.matchAll(/for b in ([^;]+);\s*do\s+ln -s "\.\.\/lib\/node_modules\/fastvisor\/bin\/\$b\.(c?js)" "\$b";\s*done/g)) {
      for (const name of names!.trim().split(/\s+/)) linked[name] = `bin/${name}.${ext}`;
    }
    expect(linked).toEqual(pkg.bin);
    // the -c path is where the example's config is copied
    expect(copies).toContainEqual(['examples/docker/supervisord.conf', argv[3]!]);
  });

  it('every COPY source exists; the demo scripts land where the config runs them, executable', () => {
    for (const [src] of copies) expect(existsSync(path.join(REPO, src)), src).toBe(true);
    const demo = copies.find(([src]) => src === 'examples/docker/demo/')!;
    expect(demo).toBeDefined();
    const commands = [...confText.matchAll(/^command=(\S+)/gm)].map((m) => m[1]!);
    expect(commands.length).toBe(2);
    for (const c of commands) {
      expect(c.startsWith(demo[1])).toBe(true);
      const local = path.join(EXAMPLE, 'demo', c.slice(demo[1].length));
      accessSync(local, constants.X_OK);
    }
  });

  it('the build context ignore file keeps local builds out', () => {
    const ignore = readFileSync(path.join(EXAMPLE, 'Dockerfile.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', 'build', 'dist', '.git']) expect(ignore).toContain(p);
  });
});

describe('examples/docker/supervisord.conf', () => {
  // Its runtime directory does not exist here; everything else is loaded as written.
  const dir = tmpDir('fv-docker-conf-');
  const conf = path.join(dir, 'supervisord.conf');
  writeFileSync(conf, confText.replaceAll('/run/fastvisor', dir));
  const model = loadConfig({ configfile: conf });

  it('logs everything to /dev/stdout with rotation off, once', () => {
    const s = model.supervisord;
    expect(s.nodaemon).toBe(true);
    expect(s.logfile).toBe('/dev/stdout');
    expect(s.logfile_maxbytes).toBe(0);
    expect(s.silent).toBe(true);
    const procs = model.groups.flatMap((g) => g.processes);
    expect(procs.map((p) => p.name).sort()).toEqual(['orphans', 'ticker']);
    for (const p of procs) {
      expect(p.stdout_logfile).toEqual({ kind: 'path', path: '/dev/stdout' });
      expect(p.stdout_logfile_maxbytes).toBe(0);
      expect(p.redirect_stderr).toBe(true);
      // `docker stop` waits 10 s before SIGKILL
      expect(p.stopwaitsecs).toBeLessThan(10);
    }
  });

  it('serves the probes on 0.0.0.0:9001 and the control socket in /run/fastvisor', () => {
    const inet = model.servers.find((s) => s.kind === 'inet')!;
    expect({ host: inet.host, port: inet.port }).toEqual({ host: '0.0.0.0', port: 9001 });
    expect(model.servers.find((s) => s.kind === 'unix')!.file).toBe(path.join(dir, 'supervisor.sock'));
    expect(model.warnings).toEqual([]);
  });
});
