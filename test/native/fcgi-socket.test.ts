// SPDX-License-Identifier: MIT
// fcgi-program sockets: fcgiListen makes them as supervisord's create_and_bind
// does (unlink what is at a unix path, bind, chown, chmod, listen), blocking
// for the children that accept() on them and close-on-exec in the daemon; the
// errors carry what Python would print. FcgiSocket counts references and
// closes (and, for unix, unlinks its own file) at the last one.
import { fstatSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import type { FcgiSocketConfig } from '../../src/config/model.js';
import type { MainLog } from '../../src/log/main-log.js';
import { fcgiClose, fcgiListen } from '../../src/native/index.js';
import { FcgiSocket, FcgiSocketError } from '../../src/process/fcgi-sockets.js';
import { canConnect, freePort } from '../helpers/http-raw.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

const isRoot = process.getuid?.() === 0;

afterAll(() => removeTmpDirs());

/** fd flags from /proc (octal): O_NONBLOCK 04000; FD_CLOEXEC is its own line. */
function fdInfo(fd: number): { flags: number; cloexec: boolean } {
  const text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const flags = parseInt(/^flags:\s+(\d+)/m.exec(text)![1]!, 8);
  return { flags, cloexec: (flags & 0o2000000) !== 0 };
}

function listenOk(r: ReturnType<typeof fcgiListen>): number {
  if (!('fd' in r)) throw new Error(`fcgiListen failed: ${JSON.stringify(r)}`);
  return r.fd;
}

describe.runIf(process.platform === 'linux')('fcgiListen', () => {
  it('unix: a listening, blocking, close-on-exec socket at the path, replacing what was there, with the mode and owner asked for', async () => {
    const dir = tmpDir('fv-fcgi-');
    const sock = path.join(dir, 'app.sock');
    writeFileSync(sock, 'a leftover');
    const fd = listenOk(fcgiListen({ kind: 'unix', path: sock, owner: isRoot ? [65534, 65534] : null, mode: 0o640, backlog: 5 }));
    try {
      expect(fd).toBeGreaterThanOrEqual(3);
      const info = fdInfo(fd);
      expect(info.cloexec).toBe(true);
      expect(info.flags & 0o4000).toBe(0);
      const st = statSync(sock);
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o777).toBe(0o640);
      if (isRoot) expect([st.uid, st.gid]).toEqual([65534, 65534]);
      expect(await canConnect({ path: sock })).toBe(true);
    } finally {
      expect(fcgiClose(fd)).toBe(0);
    }
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
  });

  it('unix: the whole of sun_path may be used; a longer path is "AF_UNIX path too long"', () => {
    const base = tmpDir('fv-fcgi-');
    const fill = (n: number): string => path.join(base, 'x'.repeat(n - base.length - 1));
    const fits = fill(108);
    const fd = listenOk(fcgiListen({ kind: 'unix', path: fits, owner: null, mode: 0o700, backlog: null }));
    fcgiClose(fd);
    unlinkSync(fits);
    expect(fcgiListen({ kind: 'unix', path: fill(109), owner: null, mode: 0o700, backlog: null })).toMatchObject({ step: 'path-too-long' });
  });

  it('unix: a missing directory is bind\'s ENOENT, and nothing is left behind', () => {
    const dir = tmpDir('fv-fcgi-');
    const sock = path.join(dir, 'no', 'such', 'dir.sock');
    expect(fcgiListen({ kind: 'unix', path: sock, owner: null, mode: 0o700, backlog: null })).toEqual({ step: 'bind', errno: 2, text: 'No such file or directory' });
    expect(existsSync(path.dirname(sock))).toBe(false);
  });

  it('unix: a dangling symlink at the path stays (os.path.exists follows it), so bind says the address is in use', () => {
    const dir = tmpDir('fv-fcgi-');
    const sock = path.join(dir, 'link.sock');
    symlinkSync(path.join(dir, 'nowhere'), sock);
    expect(fcgiListen({ kind: 'unix', path: sock, owner: null, mode: 0o700, backlog: null })).toEqual({ step: 'bind', errno: 98, text: 'Address already in use' });
  });

  it('tcp: SO_REUSEADDR, listening; a port in use and an unknown host fail as Python words them', async () => {
    const port = await freePort();
    const fd = listenOk(fcgiListen({ kind: 'inet', host: 'localhost', port, backlog: null }));
    try {
      expect(fd).toBeGreaterThanOrEqual(3);
      expect(fdInfo(fd).cloexec).toBe(true);
      expect(await canConnect({ host: '127.0.0.1', port })).toBe(true);
      expect(fcgiListen({ kind: 'inet', host: '127.0.0.1', port, backlog: null })).toEqual({ step: 'bind', errno: 98, text: 'Address already in use' });
    } finally {
      fcgiClose(fd);
    }
    expect(await canConnect({ host: '127.0.0.1', port })).toBe(false);
    const unknown = fcgiListen({ kind: 'inet', host: 'no-such-host.invalid', port, backlog: null });
    expect(unknown).toMatchObject({ step: 'resolve' });
    expect((unknown as { errno: number }).errno).toBeLessThan(0);
  });
});

describe.runIf(process.platform === 'linux')('FcgiSocket', () => {
  const logged: string[] = [];
  const log = { info: (m: string) => logged.push(m) } as unknown as MainLog;

  function unixConfig(p: string): FcgiSocketConfig {
    return { kind: 'unix', url: `unix://${p}`, path: p, owner: null, mode: 0o700, backlog: null };
  }

  it('is made at the first reference, kept while any is held, closed and unlinked at the last', async () => {
    const sock = path.join(tmpDir('fv-fcgi-'), 'ref.sock');
    logged.length = 0;
    const s = new FcgiSocket(unixConfig(sock), log);
    const fd = s.acquire();
    expect(s.acquire()).toBe(fd);
    expect(logged).toEqual([`Creating socket unix://${sock}`]);
    s.release();
    expect(await canConnect({ path: sock })).toBe(true);
    s.release();
    expect(logged).toEqual([`Creating socket unix://${sock}`, `Closing socket unix://${sock}`]);
    expect(existsSync(sock)).toBe(false);
    expect(s.descriptor).toBe(-1);
    // One release too many closes nothing it does not hold.
    s.release();
    expect(logged).toHaveLength(2);
  });

  it('leaves a file that replaced its socket at the path', () => {
    const dir = tmpDir('fv-fcgi-');
    const sock = path.join(dir, 'taken.sock');
    const s = new FcgiSocket(unixConfig(sock), log);
    s.acquire();
    unlinkSync(sock);
    mkdirSync(sock);
    s.release();
    expect(statSync(sock).isDirectory()).toBe(true);
  });

  it('a socket that cannot be made: FcgiSocketError with supervisord\'s message, and no reference is held', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const s = new FcgiSocket({ kind: 'inet', url: `tcp://127.0.0.1:${port}`, host: '127.0.0.1', port, backlog: null }, log);
      expect(() => s.acquire()).toThrow(FcgiSocketError);
      expect(() => FcgiSocket.probe(s.config, log)).toThrow(`Could not create FastCGI socket tcp://127.0.0.1:${port}: [Errno 98] Address already in use`);
      expect(s.references).toBe(0);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
