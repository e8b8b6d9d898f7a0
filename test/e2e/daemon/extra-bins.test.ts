// SPDX-License-Identifier: MIT
// The two small bins supervisor ships besides supervisord and supervisorctl.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import { REPO } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { isAlive, killTracked, track } from '../../helpers/procs.js';
import { python } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const TSX = pathToFileURL(path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const run = (script: string) => [process.execPath, ['--import', TSX, path.join(REPO, 'src', 'cli', script)]] as const;

afterEach(() => killTracked());
afterAll(() => removeTmpDirs());

describe('echo_supervisord_conf', () => {
  it('prints a config that fastvisor and supervisord both read', () => {
    const [node, args] = run('echo-supervisord-conf.ts');
    const r = spawnSync(node, [...args], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const dir = tmpDir('fv-echo-');
    const conf = path.join(dir, 'supervisord.conf');
    // Uncomment the program section so the sample's options are all read.
    writeFileSync(conf, r.stdout.replaceAll('/tmp/', `${dir}/`).replace(/^;\[program:web\]$/m, '[program:web]').replace(/^;command=\/usr\/local\/bin\/web.*$/m, 'command=/bin/sleep 1'));
    const model = loadConfig({ configfile: conf });
    expect(model.groups.map((g) => g.name)).toEqual(['web']);
    expect(model.supervisorctl?.serverurl).toBe(`unix://${dir}/supervisor.sock`);
    const py = python<{ groups: string[] }>(
      `import json,sys
from supervisor.options import ServerOptions
o = ServerOptions(); o.realize(args=['-c', json.load(sys.stdin)])
print(json.dumps({'groups': [g.name for g in o.process_group_configs]}))`,
      conf,
    );
    expect(py.groups).toEqual(['web']);
  });
});

describe('pidproxy', () => {
  it('passes TERM to the pid in the pid file and exits 0; HUP is passed on and it stays', async () => {
    const dir = tmpDir('fv-pidproxy-');
    const pidfile = path.join(dir, 'd.pid');
    const sigs = path.join(dir, 'sigs');
    // A "daemon" that records the signals it gets; its parent shell stays as the proxy's child.
    const script = `trap 'echo HUP >> ${sigs}' HUP; trap 'echo TERM >> ${sigs}; exit 0' TERM; echo $$ > ${pidfile}; while :; do sleep 0.05; done`;
    const [node, args] = run('pidproxy.ts');
    const proxy = spawn(node, [...args, pidfile, '/bin/sh', '-c', script], { stdio: 'ignore', detached: true });
    track(proxy.pid!);
    await pollUntil(() => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '', { what: 'pid file' });
    const daemon = Number(readFileSync(pidfile, 'utf8'));
    track(daemon);
    process.kill(proxy.pid!, 'SIGHUP');
    await pollUntil(() => existsSync(sigs) && readFileSync(sigs, 'utf8').includes('HUP'), { what: 'HUP passed on' });
    expect(isAlive(proxy.pid!)).toBe(true);
    const exited = new Promise<number | null>((r) => proxy.once('exit', (code) => r(code)));
    process.kill(proxy.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    await pollUntil(() => readFileSync(sigs, 'utf8').includes('TERM'), { what: 'TERM passed on' });
  });

  it('prints its usage and exits 1 without arguments', () => {
    const [node, args] = run('pidproxy.ts');
    const r = spawnSync(node, [...args], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('<pidfile name> <command> [<cmdarg1> ...]');
  });
});
