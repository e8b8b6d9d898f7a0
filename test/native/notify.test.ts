// SPDX-License-Identifier: MIT
// sd_notify sockets (openNotify): real python3 senders on NOTIFY_SOCKET, the
// way a `ready = notify` program talks to its supervisor. Once per backend.
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { lookupUser, type NativeError, type NotifyEvent, type Spawned, type TapEvent } from '../../src/native/index.js';
import { BACKENDS, CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked } from '../helpers/procs.js';
import { PYTHON } from '../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

const isRoot = process.getuid?.() === 0;
const isLinux = process.platform === 'linux';

// Sends each argument (hex) as one datagram to NOTIFY_SOCKET, in order, with
// any descriptors named in PASS_FDS attached (SCM_RIGHTS); prints 'ok', or the
// errno name of the first send that failed.
const SENDER = `
import errno, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
fds = [os.open(p, os.O_RDONLY) for p in os.environ.get('PASS_FDS', '').split(':') if p]
try:
    for a in sys.argv[1:]:
        data = bytes.fromhex(a)
        if fds:
            s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes().join(f.to_bytes(4, sys.byteorder) for f in fds))], 0, os.environ['NOTIFY_SOCKET'])
        else:
            s.sendto(data, os.environ['NOTIFY_SOCKET'])
    print('ok')
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
`;

function caught(fn: () => unknown): NativeError {
  try {
    fn();
  } catch (err) {
    return err as NativeError;
  }
  throw new Error('expected a throw');
}

describe.each(BACKENDS)('notify sockets (%s backend)', (backend) => {
  let h: CoreHarness;
  let dir: string;
  beforeAll(() => {
    h = new CoreHarness(backend);
  });
  afterAll(() => {
    h.stop();
    removeTmpDirs();
  });
  beforeEach(() => {
    dir = tmpDir('fv-notify-');
  });
  afterEach(() => killTracked());

  function send(socketPath: string, msgs: (string | Buffer)[], opts: { passFds?: string[]; user?: { uid: number; gid: number } } = {}): Spawned {
    const env: Record<string, string> = { NOTIFY_SOCKET: socketPath };
    if (opts.passFds) env.PASS_FDS = opts.passFds.join(':');
    return h.spawn({
      file: PYTHON,
      argv: ['python3', '-c', SENDER, ...msgs.map((m) => Buffer.from(m).toString('hex'))],
      env,
      user: opts.user ? { ...opts.user, groups: [opts.user.gid] } : undefined,
      stdout: { tap: true },
      stderr: { mode: 'null' },
    });
  }

  /** Waits for the sender to exit and returns what it printed. */
  async function outcome(s: Spawned): Promise<string> {
    const exit = await h.waitExit(s.child);
    const out = h.events
      .filter((e): e is TapEvent => e.kind === 'tap' && e.child === s.child)
      .map((e) => e.data.toString())
      .join('');
    expect(exit.code, out).toBe(0);
    return out.trim();
  }

  function notifies(socket: number): NotifyEvent[] {
    return h.events.filter((e): e is NotifyEvent => e.kind === 'notify' && e.socket === socket);
  }

  function waitNotifies(socket: number, n: number): Promise<NotifyEvent[]> {
    return pollUntil(() => notifies(socket).length >= n && notifies(socket), { what: `${n} datagram(s) on socket ${socket}` });
  }

  it('delivers a datagram with the sender pid', async () => {
    const p = path.join(dir, '1.sock');
    const id = h.core.openNotify(p);
    expect(id).toBeGreaterThan(0);
    const s = send(p, ['READY=1\nSTATUS=warming up']);
    expect(await outcome(s)).toBe('ok');
    const [e] = await waitNotifies(id, 1);
    expect(e!.data.toString()).toBe('READY=1\nSTATUS=warming up');
    if (isLinux) expect(e!.pid).toBe(s.pid);
    expect(e!.time).toBeGreaterThan(0);
    expect(notifies(id)).toHaveLength(1);
    h.core.closeNotify(id);
  });

  it('delivers many datagrams in order', async () => {
    const p = path.join(dir, '2.sock');
    const id = h.core.openNotify(p);
    const msgs = Array.from({ length: 200 }, (_, i) => `STATUS=step ${i}`);
    expect(await outcome(send(p, msgs))).toBe('ok');
    const got = await waitNotifies(id, msgs.length);
    expect(got.map((e) => e.data.toString())).toEqual(msgs);
    h.core.closeNotify(id);
  });

  it('drops a datagram over 4096 bytes and keeps reading', async () => {
    const p = path.join(dir, '3.sock');
    const id = h.core.openNotify(p);
    const exact = 'A'.repeat(4096);
    expect(await outcome(send(p, [exact, 'B'.repeat(5000), 'READY=1']))).toBe('ok');
    const got = await waitNotifies(id, 2);
    expect(got.map((e) => e.data.toString())).toEqual([exact, 'READY=1']);
    h.core.closeNotify(id);
  });

  it('closes descriptors a sender passes along (SCM_RIGHTS)', async () => {
    const p = path.join(dir, '4.sock');
    const bait = path.join(dir, 'bait.txt');
    writeFileSync(bait, 'x');
    const id = h.core.openNotify(p);
    expect(await outcome(send(p, ['FDSTORE=1', 'READY=1'], { passFds: [bait, bait, bait] }))).toBe('ok');
    const got = await waitNotifies(id, 2);
    expect(got.map((e) => e.data.toString())).toEqual(['FDSTORE=1', 'READY=1']);
    const held = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === bait;
      } catch {
        return false;
      }
    });
    expect(held).toEqual([]);
    h.core.closeNotify(id);
  });

  it('replaces a stale socket file', async () => {
    const p = path.join(dir, '5.sock');
    // A socket file whose owner is gone, as a crashed daemon leaves it.
    const stale = h.spawn({ file: PYTHON, argv: ['python3', '-c', `import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(${JSON.stringify(p)})`] });
    expect((await h.waitExit(stale.child)).code).toBe(0);
    expect(statSync(p).isSocket()).toBe(true);
    const id = h.core.openNotify(p);
    expect(await outcome(send(p, ['READY=1']))).toBe('ok');
    expect((await waitNotifies(id, 1))[0]!.data.toString()).toBe('READY=1');
    h.core.closeNotify(id);
  });

  it('closing an old socket leaves a newer one at the same path alone', async () => {
    const p = path.join(dir, '6.sock');
    const old = h.core.openNotify(p);
    const fresh = h.core.openNotify(p);
    h.core.closeNotify(old);
    expect(statSync(p).isSocket()).toBe(true);
    expect(await outcome(send(p, ['READY=1']))).toBe('ok');
    expect((await waitNotifies(fresh, 1))[0]!.data.toString()).toBe('READY=1');
    expect(notifies(old)).toEqual([]);
    h.core.closeNotify(fresh);
    expect(existsSync(p)).toBe(false);
  });

  it('refuses a path that holds a regular file, and leaves the file', () => {
    const p = path.join(dir, 'file.sock');
    writeFileSync(p, 'keep me');
    const err = caught(() => h.core.openNotify(p));
    expect(err.code).toBe('EEXIST');
    expect(err.path).toBe(p);
    expect(readFileSync(p, 'utf8')).toBe('keep me');
  });

  it('refuses a path too long for sockaddr_un', () => {
    const p = path.join(dir, `${'x'.repeat(120)}.sock`);
    expect(caught(() => h.core.openNotify(p)).code).toBe('ENAMETOOLONG');
    expect(existsSync(p)).toBe(false);
  });

  it('reports a missing directory as ENOENT', () => {
    expect(caught(() => h.core.openNotify(path.join(dir, 'no', 'such.sock'))).code).toBe('ENOENT');
  });

  it('closeNotify unlinks the path, after which a send fails', async () => {
    const p = path.join(dir, '7.sock');
    const id = h.core.openNotify(p);
    expect(existsSync(p)).toBe(true);
    h.core.closeNotify(id);
    expect(existsSync(p)).toBe(false);
    expect(['ENOENT', 'ECONNREFUSED']).toContain(await outcome(send(p, ['READY=1'])));
    h.core.closeNotify(id); // twice: ignored
    h.core.closeNotify(987654); // never opened: ignored
  });

  it('closeNotify right after openNotify leaks no descriptor', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const p = path.join(dir, '8.sock');
    const before = fds();
    for (let i = 0; i < 50; i++) h.core.closeNotify(h.core.openNotify(p));
    expect(existsSync(p)).toBe(false);
    // The I/O thread closes them, a moment later.
    await pollUntil(() => fds() <= before, { what: `descriptors back to ${before} (now ${fds()})` });
  });

  it('creates the socket with mode 0600', () => {
    const p = path.join(dir, '9.sock');
    const id = h.core.openNotify(p);
    const st = statSync(p);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid!());
    h.core.closeNotify(id);
  });

  it.runIf(isRoot)('chowns the socket to its owner, who can then send to it', async () => {
    const nobody = lookupUser('nobody');
    if (!nobody) return;
    chmodSync(dir, 0o711); // the child must reach the socket inside the test dir
    const p = path.join(dir, '10.sock');
    const owner = { uid: nobody.uid, gid: nobody.gid };
    const id = h.core.openNotify(p, owner);
    const st = statSync(p);
    expect([st.uid, st.gid]).toEqual([nobody.uid, nobody.gid]);
    expect(st.mode & 0o777).toBe(0o600);
    const s = send(p, ['READY=1'], { user: owner });
    expect(await outcome(s)).toBe('ok');
    const [e] = await waitNotifies(id, 1);
    if (isLinux) expect(e!.pid).toBe(s.pid);
    h.core.closeNotify(id);
  });

  it.runIf(isLinux)('keeps the socket from children (close-on-exec, non-blocking)', async () => {
    const paths = [0, 1, 2].map((i) => path.join(dir, `fd${i}.sock`));
    const ids = paths.map((p) => h.core.openNotify(p));
    // /proc/net/unix names each bound socket's inode; our descriptor for it
    // reads as socket:[inode].
    const inodes = readFileSync('/proc/net/unix', 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => paths.includes(f[7]!))
      .map((f) => f[6]!);
    expect(inodes).toHaveLength(3);
    const ours = readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return inodes.includes(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1] ?? '');
      } catch {
        return false;
      }
    });
    expect(ours).toHaveLength(3);
    for (const fd of ours) {
      const flags = parseInt(/^flags:\s+(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
      expect(flags & 0o2000000, `fd ${fd} O_CLOEXEC`).toBeTruthy();
      expect(flags & 0o4000, `fd ${fd} O_NONBLOCK`).toBeTruthy();
    }
    // exec: the listing is of the program the spawn ran, not a shell in between.
    const s = h.spawn({
      file: '/bin/sh',
      argv: ['sh', '-c', 'exec /usr/bin/find /proc/self/fd/ -mindepth 1 -maxdepth 1 -printf "%l\\n"'],
      stdout: { tap: true },
      stderr: 'stdout',
    });
    expect((await h.waitExit(s.child)).code).toBe(0);
    const links = h.events
      .filter((e): e is TapEvent => e.kind === 'tap' && e.child === s.child)
      .map((e) => e.data.toString())
      .join('');
    expect(links).toContain('pipe:');
    expect(links).not.toMatch(/socket:/);
    for (const id of ids) h.core.closeNotify(id);
  });

  it('stop() closes and unlinks every notify socket', async () => {
    const p = path.join(dir, '11.sock');
    h.core.openNotify(p);
    expect(existsSync(p)).toBe(true);
    h.stop();
    expect(existsSync(p)).toBe(false);
    h = new CoreHarness(backend);
    // The path can be bound again, and the new core reads it.
    const id = h.core.openNotify(p);
    expect(await outcome(send(p, ['READY=1']))).toBe('ok');
    expect((await waitNotifies(id, 1))[0]!.data.toString()).toBe('READY=1');
    h.core.closeNotify(id);
  });
});
