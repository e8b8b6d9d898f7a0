// SPDX-License-Identifier: MIT
// The security warnings and privilege drops of issue 17, next to the real supervisord:
// root without user= logs supervisord's CRIT line (user=root silences it); an
// inet_http_server without a username on every interface logs the CRIT "running without
// any HTTP authentication checking" line and still starts; a program with user= runs
// with that user's groups only, none of the daemon's supplementary groups.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, type DaemonKind } from '../../helpers/daemon-harness.js';
import { freePort } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { waitState } from '../../helpers/process-info.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);
afterAll(removeTmpDirs);

const KINDS: DaemonKind[] = ['fastvisor', 'supervisord'];
const isRoot = process.getuid?.() === 0;

/** CRIT lines of the main log, without the time stamp, once the daemon is up. */
async function critLines(kind: DaemonKind, body: string): Promise<string[]> {
  const d = await startDaemon(kind, body);
  await pollUntil(() => /RPC interface 'supervisor' initialized/.test(d.mainLog()), { timeout: 10_000, what: 'the start-up lines' });
  const lines = d.mainLog()
    .split('\n')
    .filter((l) => / CRIT /.test(l))
    .map((l) => l.slice(24));
  await d.stop();
  return lines;
}

const ROOT_CRIT =
  'CRIT Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.';

describe.runIf(isRoot)('running as root', () => {
  it.each(KINDS)('%s: without user= it says so in CRIT; user=root silences it', async (kind) => {
    expect(await critLines(kind, '[program:a]\ncommand=/bin/sleep 300\n')).toContain(ROOT_CRIT);
    expect(await critLines(kind, '[supervisord]\nuser=root\n[program:a]\ncommand=/bin/sleep 300\n')).not.toContain(ROOT_CRIT);
  });
});

describe('an inet_http_server open to every interface', () => {
  it.each(KINDS)('%s: without a username, starts and logs CRIT; with one, no such line', async (kind) => {
    const open = await critLines(kind, `[supervisord]\nuser=root\n[inet_http_server]\nport=0.0.0.0:${await freePort()}\n`);
    expect(open).toContain("CRIT Server 'inet_http_server' running without any HTTP authentication checking");
    const closed = await critLines(kind, `[supervisord]\nuser=root\n[inet_http_server]\nport=0.0.0.0:${await freePort()}\nusername=u\npassword=p\n`);
    expect(closed.filter((l) => /inet_http_server/.test(l))).toEqual([]);
  });
});

describe.runIf(isRoot && process.platform === 'linux')('user= drops supplementary groups', () => {
  it.each(KINDS)("%s: a daemon with groups 4 and 27 runs user=nobody's program with nobody's groups only", async (kind) => {
    const d = await startDaemon(kind, '[supervisord]\nuser=root\n[program:a]\ncommand=/bin/sleep 300\nuser=nobody\nstartsecs=0\n', {
      wrap: ['setpriv', '--groups=4,27', '--'],
    });
    const status = (pid: number): Record<string, string> =>
      Object.fromEntries(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').map((l) => l.split(':\t') as [string, string]));
    expect(status(d.pid)['Groups']!.trim().split(/\s+/).sort()).toEqual(['27', '4']);
    const pid = (await waitState(d, 'a', 'RUNNING')).pid;
    // With startsecs=0 supervisord says RUNNING right after its fork, before the
    // child has dropped privileges and exec'd: look once it is sleep.
    await pollUntil(() => status(pid)['Name']?.trim() === 'sleep', { timeout: 10_000 });
    const s = status(pid);
    expect({ uid: s['Uid']!.split('\t')[0], gid: s['Gid']!.split('\t')[0], groups: s['Groups']!.trim() }).toEqual({
      uid: '65534',
      gid: '65534',
      groups: '65534',
    });
  });
});
