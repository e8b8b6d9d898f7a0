// SPDX-License-Identifier: MIT
// environment_file (fastvisor only): dotenv files read at every spawn, under
// environment=; [supervisord]'s files first; an optional file may be missing;
// a bad file is the start's spawn error naming file and line; an edit applies
// at the next start; the values appear nowhere but in the child.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, supervisorctl, Fault } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { tmpDir } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);

interface Info {
  statename: string;
  spawnerr: string;
}

describe('fastvisor: environment_file', () => {
  it('merges the files under environment=, re-reads them at every start, and keeps the values out of the RPC answers', async () => {
    const dir = tmpDir('fv-envfile-');
    writeFileSync(path.join(dir, 'common.env'), 'SHARED=from-common\nOVERRIDE=common\n');
    writeFileSync(path.join(dir, 'app.env'), '# app settings\nexport SECRET="s3cr\\"et"\nOVERRIDE=app\nQUOTED=\'a b\'\n');
    const conf = `[supervisord]
environment_file=%(here)s/common.env

[program:a]
command=/bin/sh -c 'env > %(here)s/env.out; exec sleep 1000'
environment_file=%(here)s/app.env, -%(here)s/missing.env
environment=OVERRIDE=from-config
startsecs=0
`;
    const d = await startDaemon('fastvisor', conf, { dir });
    const envOut = path.join(dir, 'env.out');
    const read = (): string => readFileSync(envOut, 'utf8');
    await pollUntil(() => read().includes('QUOTED='), { what: 'the child environment written' });
    const lines = read().split('\n');
    expect(lines).toContain('SHARED=from-common');
    expect(lines).toContain('SECRET=s3cr"et');
    expect(lines).toContain('QUOTED=a b');
    expect(lines).toContain('OVERRIDE=from-config');
    // The secret is nowhere in what clients can read.
    const config = JSON.stringify(await d.rpc('supervisor.getAllConfigInfo'));
    expect(config).not.toContain('s3cr');
    expect(d.mainLog()).not.toContain('s3cr');
    // An edit applies at the next start, without reread.
    writeFileSync(path.join(dir, 'app.env'), 'SECRET=rotated\n');
    expect(supervisorctl(d.conf, ['restart', 'a']).stdout).toContain('a: started');
    await pollUntil(() => read().split('\n').includes('SECRET=rotated'), { what: 'the edited value at the next start' });
  });

  it('a missing or bad file is the spawn error, naming the file (and line), and the program goes FATAL', async () => {
    const dir = tmpDir('fv-envfile-');
    writeFileSync(path.join(dir, 'bad.env'), 'GOOD=1\nthis is not an assignment\n');
    const conf = `[program:missing]
command=/bin/sleep 1000
environment_file=%(here)s/nope.env
startretries=0

[program:bad]
command=/bin/sleep 1000
environment_file=%(here)s/bad.env
startretries=0
`;
    const d = await startDaemon('fastvisor', conf, { dir });
    const fatal = async (name: string): Promise<Info> =>
      pollUntil(
        async () => {
          const i = (await d.rpc('supervisor.getProcessInfo', name)) as unknown as Info;
          return i.statename === 'FATAL' && i;
        },
        { what: `${name} FATAL` },
      );
    expect((await fatal('missing')).spawnerr).toBe(`environment_file ${path.join(dir, 'nope.env')}: No such file or directory`);
    expect((await fatal('bad')).spawnerr).toBe(`environment_file ${path.join(dir, 'bad.env')}, line 2: expected KEY=VALUE`);
    expect(d.mainLog()).toContain(`spawnerr: environment_file ${path.join(dir, 'bad.env')}, line 2: expected KEY=VALUE`);
    // startProcess answers SPAWN_ERROR, as for any spawn error.
    await expect(d.rpc('supervisor.startProcess', 'bad')).rejects.toBeInstanceOf(Fault);
  });

  it('a relative path is a config error at load', async () => {
    await expect(startDaemon('fastvisor', '[program:a]\ncommand=/bin/true\nenvironment_file=app.env\n')).rejects.toThrow(/environment_file/);
  });
});
