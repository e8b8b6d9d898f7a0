// SPDX-License-Identifier: MIT
// An [fcgi-program:x]'s listening socket: supervisord's socket_manager.py
// SocketManager. Each child of the group holds one reference from just
// before its spawn (process.py FastCGISubprocess); the socket is made when
// the count leaves 0 and closed when it comes back to 0, so it stays open
// while any process of the group runs and is gone once the last one is at
// rest. The sockets themselves are native work (native/fcgi_socket.cc);
// this decides when.
//
// On purpose unlike supervisord: a process keeps its reference through an
// automatic restart (BACKOFF) instead of giving it back at each exit
// (Subprocess.settleFcgi), and closing also unlinks a unix socket's file
// (when it is still the one bound here), so no dead socket file is left.
import { lstatSync, unlinkSync } from 'node:fs';

import type { FcgiSocketConfig } from '../config/model.js';
import type { MainLog } from '../log/main-log.js';
import { fcgiClose, fcgiListen, type FcgiListenStep } from '../native/index.js';
import { pyRepr } from './py-repr.js';

/** The socket cannot be made; the message is supervisord's. */
export class FcgiSocketError extends Error {}

export class FcgiSocket {
  private fd = -1;
  private refs = 0;
  /** the file bound (unix), to unlink it at close only while it is still ours */
  private bound: { dev: bigint; ino: bigint } | null = null;

  constructor(
    readonly config: FcgiSocketConfig,
    private readonly log: MainLog,
  ) {}

  /**
   * FastCGIProcessGroup.__init__: the socket is made and closed again at
   * once when its group is added, so that a socket that cannot be made fails
   * the start-up or the addProcessGroup, not only each spawn later.
   */
  static probe(config: FcgiSocketConfig, log: MainLog): void {
    const s = new FcgiSocket(config, log);
    s.acquire();
    s.release();
  }

  /** How many children hold it (spawning or running). */
  get references(): number {
    return this.refs;
  }

  /** The descriptor while open, else -1. */
  get descriptor(): number {
    return this.fd;
  }

  /**
   * One reference, for a child about to spawn: the descriptor to make its
   * fd 0. Throws FcgiSocketError when the socket had to be made and could not.
   */
  acquire(): number {
    if (this.refs === 0) this.open();
    this.refs += 1;
    return this.fd;
  }

  /** That child is gone (exited, or its spawn failed). */
  release(): void {
    // supervisord raises here; a reference given back twice is a bug that must not close a socket others hold.
    if (this.refs <= 0) return;
    this.refs -= 1;
    if (this.refs === 0) this.close();
  }

  /** The group is gone (removal, shutdown): closed whatever the count says. */
  dispose(): void {
    if (this.fd < 0) return;
    this.refs = 0;
    this.close();
  }

  private open(): void {
    const c = this.config;
    this.log.info(`Creating socket ${c.url}`);
    const r = fcgiListen(c);
    if (!('fd' in r)) throw new FcgiSocketError(`Could not create FastCGI socket ${c.url}: ${failureText(r, c)}`);
    this.fd = r.fd;
    this.bound = null;
    if (c.kind === 'unix') {
      try {
        const st = lstatSync(c.path, { bigint: true });
        this.bound = { dev: st.dev, ino: st.ino };
      } catch {
        // gone already: nothing to unlink later
      }
    }
  }

  private close(): void {
    this.log.info(`Closing socket ${this.config.url}`);
    fcgiClose(this.fd);
    this.fd = -1;
    const c = this.config;
    if (c.kind !== 'unix' || !this.bound) return;
    const bound = this.bound;
    this.bound = null;
    try {
      const st = lstatSync(c.path, { bigint: true });
      if (st.isSocket() && st.dev === bound.dev && st.ino === bound.ino) unlinkSync(c.path);
    } catch {
      // removed or replaced by someone else: theirs now
    }
  }
}

// How Python words each step's OSError: create_and_bind's own prefixes for
// chown and chmod, the file name where os.* functions add it.
function failureText(r: { step: FcgiListenStep; errno: number; text: string }, c: FcgiSocketConfig): string {
  const oserror = `[Errno ${r.errno}] ${r.text}`;
  const path = c.kind === 'unix' ? pyRepr(c.path) : '';
  switch (r.step) {
    case 'path-too-long':
      return 'AF_UNIX path too long';
    case 'unlink':
      return `${oserror}: ${path}`;
    case 'chown':
      return `Could not change ownership of socket file: ${oserror}: ${path}`;
    case 'chmod':
      return `Could not change permissions of socket file: ${oserror}: ${path}`;
    default:
      return oserror;
  }
}
