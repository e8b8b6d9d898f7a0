// SPDX-License-Identifier: MIT
// The daemon deletes only what it made. supervisord unlinks whatever pidfile= names at
// exit and whatever non-answering thing sits at [unix_http_server] file= at start (a
// config naming /dev/null removed it). fastvisor writes and removes a pid file only
// while it is a regular file holding its pid, unlinks a stale socket only if it is a
// socket, and refuses to start on anything else at the socket path. Never aimed at the
// real /dev/null: fifos, symlinks and files in a temp dir stand in for it.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons } from '../../helpers/daemon-harness.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(async () => {
  await stopAllDaemons();
  removeTmpDirs();
});

const PROGRAM = '[program:sleeper]\ncommand=/bin/sleep 1000\nstartsecs=0\nstopwaitsecs=1\n';

describe('pidfile=', () => {
  it('is written and removed at exit when it still holds our pid', async () => {
    const d = await startDaemon('fastvisor', PROGRAM);
    const pidfile = path.join(d.dir, 'supervisord.pid');
    expect(readFileSync(pidfile, 'utf8')).toBe(`${d.pid}\n`);
    expect(await d.stop()).toBe(0);
    expect(() => lstatSync(pidfile)).toThrow(/ENOENT/);
  });

  it('is left at exit when it holds another pid by then (another daemon took the path over)', async () => {
    const d = await startDaemon('fastvisor', PROGRAM);
    const pidfile = path.join(d.dir, 'supervisord.pid');
    expect(readFileSync(pidfile, 'utf8')).toBe(`${d.pid}\n`);
    writeFileSync(pidfile, `${process.pid}\n`);
    expect(await d.stop()).toBe(0);
    expect(readFileSync(pidfile, 'utf8')).toBe(`${process.pid}\n`);
    expect(d.mainLog()).toContain(`WARN not unlinking pidfile ${pidfile}: it no longer holds pid ${d.pid}`);
  });

  it('a symlink is neither followed nor removed: the file it points to keeps its text', async () => {
    const dir = tmpDir('fv-unlink-');
    const target = path.join(dir, 'precious.txt');
    const link = path.join(dir, 'link.pid');
    writeFileSync(target, 'precious\n');
    symlinkSync(target, link);
    const d = await startDaemon('fastvisor', `[supervisord]\npidfile=${link}\n${PROGRAM}`, { dir });
    expect(d.mainLog()).toContain(`CRIT could not write pidfile ${link}: it is a symbolic link, not a regular file`);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(await d.stop()).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
  });

  it('a directory or a fifo is left alone, and the daemon runs on (as supervisord, which only logs)', async () => {
    for (const kind of ['directory', 'FIFO'] as const) {
      const dir = tmpDir('fv-unlink-');
      const pidfile = path.join(dir, 'odd.pid');
      if (kind === 'directory') mkdirSync(pidfile);
      else execFileSync('mkfifo', [pidfile]);
      const d = await startDaemon('fastvisor', `[supervisord]\npidfile=${pidfile}\n${PROGRAM}`, { dir });
      expect(d.mainLog()).toContain(`CRIT could not write pidfile ${pidfile}: it is a ${kind}, not a regular file`);
      expect(await d.stop()).toBe(0);
      const st = lstatSync(pidfile);
      expect(kind === 'directory' ? st.isDirectory() : st.isFIFO()).toBe(true);
    }
  });
});

describe('[unix_http_server] file=', () => {
  /** The harness's socket path, made `make` first; the daemon must exit 2 and leave it. */
  async function refused(kind: string, make: (sock: string, dir: string) => void): Promise<{ sock: string; dir: string }> {
    const dir = tmpDir('fv-unlink-');
    const sock = path.join(dir, 'supervisor.sock');
    make(sock, dir);
    const failure = await startDaemon('fastvisor', PROGRAM, { dir }).then(
      () => new Error('the daemon started'),
      (err: Error) => err,
    );
    // Its output (the main log echoed under -n, then the error) follows the exit status.
    expect(failure.message).toMatch(/^fastvisor exited at start-up \(2\): /);
    expect(failure.message).toContain(
      `\nError: Cannot open an HTTP server: ${sock} exists and is not a socket (it is ${kind}); ` +
        'not unlinking it: remove it, or name another file= in [unix_http_server]\nFor help, use ',
    );
    // Nothing started: no pid file, no child.
    expect(() => lstatSync(path.join(dir, 'supervisord.pid'))).toThrow(/ENOENT/);
    return { sock, dir };
  }

  it('a regular file at the path: refused, the file survives', async () => {
    const { sock } = await refused('a regular file', (sock) => writeFileSync(sock, 'not a socket\n'));
    expect(readFileSync(sock, 'utf8')).toBe('not a socket\n');
  });

  it('a symlink at the path: refused, the link and its target survive', async () => {
    let target = '';
    const { sock } = await refused('a symbolic link', (sock, dir) => {
      target = path.join(dir, 'target.txt');
      writeFileSync(target, 'target\n');
      symlinkSync(target, sock);
    });
    expect(readlinkSync(sock)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('target\n');
  });

  it('a fifo (as /dev/null would be, a special file) at the path: refused, the fifo survives', async () => {
    const { sock } = await refused('a FIFO', (sock) => execFileSync('mkfifo', [sock]));
    expect(lstatSync(sock).isFIFO()).toBe(true);
  });
});
