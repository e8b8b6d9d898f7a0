// SPDX-License-Identifier: MIT
// sdNotify: the daemon's own sd_notify sender, heard by the addon's receiving
// side (openNotify) and, for abstract '@' names, by a python3 listener.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { errnoName, sdNotify, type NotifyEvent } from '../../src/native/index.js';
import { CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked, track } from '../helpers/procs.js';
import { PYTHON } from '../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

const errName = (rc: number) => (rc === 0 ? 'ok' : errnoName(-rc));

describe('sdNotify', () => {
  let h: CoreHarness;
  beforeAll(() => {
    h = new CoreHarness('epoll');
  });
  afterAll(() => {
    h.stop();
    removeTmpDirs();
  });
  afterEach(() => killTracked());

  it('sends one datagram to a socket file, stamped with our pid', async () => {
    const p = path.join(tmpDir('fv-sdn-'), 'n.sock');
    const id = h.core.openNotify(p);
    expect(sdNotify(p, 'READY=1\nSTATUS=up')).toBe(0);
    const ev = await pollUntil(
      () => h.events.find((e): e is NotifyEvent => e.kind === 'notify' && e.socket === id),
      { timeout: 5000, what: 'the datagram' },
    );
    expect(ev.data.toString()).toBe('READY=1\nSTATUS=up');
    if (process.platform === 'linux') expect(ev.pid).toBe(process.pid);
    h.core.closeNotify(id);
  });

  it("turns a leading '@' into an abstract name", async () => {
    const name = `fv-sdn-test-${process.pid}-${Date.now()}`;
    const py = spawn(PYTHON, [
      '-c',
      `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + sys.argv[1])
print('bound', flush=True)
s.settimeout(10)
print(s.recv(8192).hex(), flush=True)`,
      name,
    ]);
    track(py.pid!);
    let out = '';
    py.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await pollUntil(() => out.startsWith('bound\n'), { timeout: 10_000, what: 'the python listener' });
    expect(errName(sdNotify(`@${name}`, 'WATCHDOG=1'))).toBe('ok');
    await pollUntil(() => out.split('\n').length > 2, { timeout: 10_000, what: 'the datagram' });
    expect(Buffer.from(out.split('\n')[1]!, 'hex').toString()).toBe('WATCHDOG=1');
  });

  it('refuses bad addresses and oversize text with -errno', () => {
    const dir = tmpDir('fv-sdn-');
    expect(errName(sdNotify('', 'READY=1'))).toBe('EINVAL');
    expect(errName(sdNotify('@', 'READY=1'))).toBe('EINVAL');
    expect(errName(sdNotify('relative.sock', 'READY=1'))).toBe('EINVAL');
    expect(errName(sdNotify('vsock:2:999', 'READY=1'))).toBe('EINVAL');
    expect(errName(sdNotify(`/${'x'.repeat(108)}`, 'READY=1'))).toBe('ENAMETOOLONG');
    expect(errName(sdNotify(`@${'x'.repeat(108)}`, 'READY=1'))).toBe('ENAMETOOLONG');
    expect(errName(sdNotify(path.join(dir, 'n.sock'), 'x'.repeat(4097)))).toBe('EMSGSIZE');
    expect(errName(sdNotify(path.join(dir, 'nobody.sock'), 'READY=1'))).toBe('ENOENT');
  });
});
