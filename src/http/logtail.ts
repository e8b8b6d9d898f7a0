// SPDX-License-Identifier: MIT
// `tail -f` over HTTP, as supervisord's tail_f_producer: the last 1024 bytes of a log
// file, then whatever is appended, following rotation (a new inode at the path) and
// truncation, for as long as the client stays. Used by /logtail/NAME and /mainlogtail.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

import { httpDate, startReply } from './reply.js';

/** tail_f_producer(request, logfile, 1024): how much of the existing file the stream starts with. */
export const TAIL_HEAD_BYTES = 1024;
/** tail_f_producer.delay: supervisord looks at the file every 0.1 s. */
export const TAIL_POLL_MS = 100;
export const TRUNCATED = Buffer.from('==> File truncated <==\n');
// One read per step at most; a client that reads slowly holds back the next read (backpressure).
const READ_CHUNK = 64 * 1024;
// Bytes one pump may send before it yields to the event loop.
const PUMP_BUDGET = 1024 * 1024;
// O_NONBLOCK: a log path that is a FIFO (stdout_logfile=/dev/stdout under some runtimes)
// would otherwise block the whole daemon in open() until a writer shows up.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

function openLog(path: string): number {
  const fd = openSync(path, OPEN_FLAGS);
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    // What Python's open() says for a directory (supervisord: HTTP 500).
    throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${path}'`), { code: 'EISDIR' });
  }
  return fd;
}

/**
 * The file side of a tail: an fd, its inode, and how far it has been sent. Synchronous
 * fs calls on purpose: each is one small syscall on a local log file (supervisord makes
 * the same ones), and there is no await between them for close() to race with.
 */
export class TailFollower {
  private fd: number;
  private dev: number;
  private ino: number;
  /** bytes of the current file already sent */
  private sent = 0;
  /** the file's mtime when the tail began: the reply's Last-Modified */
  readonly mtimeMs: number;
  /** where in the file the tail began (0: its first byte, else maybe inside a line) */
  readonly startOffset: number;

  constructor(
    readonly path: string,
    head = TAIL_HEAD_BYTES,
  ) {
    // Throws ENOENT, EACCES...: the caller answers 404 or 500 before any header is out.
    this.fd = openLog(path);
    const st = fstatSync(this.fd);
    this.dev = st.dev;
    this.ino = st.ino;
    this.mtimeMs = st.mtimeMs;
    this.sent = st.size >= head ? st.size - head : 0;
    this.startOffset = this.sent;
  }

  /** Bytes of the open file not sent yet: how far a reader has fallen behind (the merged tail skips past a long lag). */
  lag(): number {
    if (this.fd < 0) return 0;
    try {
      return Math.max(0, fstatSync(this.fd).size - this.sent);
    } catch {
      return 0;
    }
  }

  /**
   * The next piece of the stream: new bytes, the truncation notice, or null when there is
   * nothing new. Never throws once open: a vanished path keeps the old fd (tail_f_producer
   * _follow() does the same), and a failed reopen is retried on the next call.
   */
  next(max = READ_CHUNK): Buffer | null {
    if (this.fd < 0) return null;
    const rotated = this.rotated();
    const size = fstatSync(this.fd).size;
    if (size < this.sent) {
      this.sent = 0;
      return TRUNCATED;
    }
    if (size > this.sent) return this.read(Math.min(size - this.sent, max));
    if (rotated) {
      // Everything written to the old file before the rename is out (supervisord drops
      // what arrived between its last poll and the rotation); now switch to the new one.
      return this.reopen() ? this.next(max) : null;
    }
    return null;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private rotated(): boolean {
    try {
      const st = statSync(this.path);
      return st.ino !== this.ino || st.dev !== this.dev;
    } catch {
      // Unlinked (or not yet recreated): keep following what we have.
      return false;
    }
  }

  private reopen(): boolean {
    let fd: number;
    try {
      fd = openLog(this.path);
    } catch {
      return false;
    }
    closeSync(this.fd);
    const st = fstatSync(fd);
    this.fd = fd;
    this.dev = st.dev;
    this.ino = st.ino;
    this.sent = 0;
    return true;
  }

  private read(n: number): Buffer | null {
    const buf = Buffer.allocUnsafe(n);
    const got = readSync(this.fd, buf, 0, n, this.sent);
    if (got <= 0) return null;
    this.sent += got;
    return got === n ? buf : buf.subarray(0, got);
  }
}

export interface TailStreamOptions {
  pollMs?: number;
  /** logtail sets X-Accel-Buffering: no (nginx); mainlogtail does not */
  accelBufferingOff: boolean;
  /** each open stream registers its end function here so the server's close() can end it */
  streams: Set<() => void>;
}

/**
 * Opens the file to tail, or says how to refuse: 404 when it does not exist (supervisord:
 * "no logfile is a temporary condition"), 500 when it cannot be read (there an exception
 * escapes the handler).
 */
export function openTail(path: string): TailFollower | 404 | 500 {
  try {
    return new TailFollower(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 404 : 500;
  }
}

/**
 * Answers with the stream. From here the response belongs to the stream until the client
 * goes or the server ends it; the follower is closed either way.
 */
export function streamTail(res: ServerResponse, follower: TailFollower, opts: TailStreamOptions): void {
  const pollMs = opts.pollMs ?? TAIL_POLL_MS;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = null;
    res.off('drain', pump);
    opts.streams.delete(end);
    follower.close();
  };
  // Stop first: a write after end() would raise an error on the response.
  const end = (): void => {
    stop();
    if (!res.writableEnded) res.end();
  };

  function pump(): void {
    timer = null;
    if (stopped) return;
    let budget = PUMP_BUDGET;
    try {
      for (let piece = follower.next(); piece; piece = follower.next()) {
        // No Content-Length: HTTP/1.1 gets chunked framing, HTTP/1.0 a body ended by close.
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
        budget -= piece.length;
        if (budget <= 0) {
          // A file growing as fast as a fast client reads must not keep the loop to itself.
          timer = setTimeout(pump, 0);
          return;
        }
      }
    } catch {
      // An I/O error on the open fd: end the stream as supervisord does when fstat fails.
      end();
      return;
    }
    timer = setTimeout(pump, pollMs);
  }

  startReply(res);
  res.setHeader('Last-Modified', httpDate(follower.mtimeMs));
  res.setHeader('Content-Type', 'text/plain;charset=utf-8');
  if (opts.accelBufferingOff) res.setHeader('X-Accel-Buffering', 'no');
  res.statusCode = 200;
  // The client learns it is 200 at once, even when the file has nothing to send yet.
  res.flushHeaders();
  opts.streams.add(end);
  res.once('close', stop);
  pump();
}
