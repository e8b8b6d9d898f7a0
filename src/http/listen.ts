// SPDX-License-Identifier: MIT
// Binding the listening sockets as supervisord's http.py does, with its checks and its
// words: the unix socket is bound under a temporary name, chmod'ed, then hard-linked
// into place (so a live server's socket is never replaced), a stale one is unlinked
// (a socket only: anything else at the path is refused), then chown'ed; inet binds
// host:port (IPv4, as supervisord's AF_INET socket).
import { lookup } from 'node:dns/promises';
import { chmodSync, chownSync, linkSync, lstatSync, statSync, unlinkSync, type Stats } from 'node:fs';
import type { Server } from 'node:http';
import { connect, isIP } from 'node:net';
import { constants as osConstants, userInfo } from 'node:os';
import { dirname } from 'node:path';

/**
 * Start-up failures. The message is supervisord's usage text (options.py openhttpservers),
 * which the daemon prints as "Error: <message>" before exiting 2.
 */
export class HttpServerError extends Error {
  constructor(
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'HttpServerError';
  }
}

const ADDR_IN_USE =
  'Another program is already listening on a port that one of our HTTP servers is ' +
  'configured to use.  Shut this program down first before starting supervisord.';

/** options.py openhttpservers(): "socket.error reported errno.ENOENT (2)", or the bare args[0]. */
export function openError(err: unknown): HttpServerError {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : null;
  if (code === 'EADDRINUSE') return new HttpServerError(ADDR_IN_USE, code);
  const help = 'Cannot open an HTTP server: socket.error reported';
  // getaddrinfo failures: Python reports the EAI_* number (socket.gaierror), e.g. -2.
  const eai: Record<string, number> = { ENOTFOUND: -2, EAI_AGAIN: -3, EAI_FAIL: -4, EAI_NODATA: -5 };
  if (code && code in eai) return new HttpServerError(`${help} ${eai[code]}`, code);
  const errno = code ? (osConstants.errno as Record<string, number>)[code] : undefined;
  if (code && errno !== undefined) return new HttpServerError(`${help} errno.${code} (${errno})`, code);
  return new HttpServerError(`${help} ${e?.message ?? String(err)}`, code);
}

function listenOn(server: Server, opts: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // supervisord: listen(1024). Node sets SO_REUSEADDR on TCP listeners, as supervisord does.
    server.listen({ ...opts, backlog: 1024, exclusive: true });
  });
}

function closeListener(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/**
 * supervisor_af_unix_http_server.checkused(): connect, send a request, read one byte.
 * Anything that accepts the connection counts as a live server; only a refused (or
 * reset) connection means the file is stale. supervisord waits for the byte forever;
 * a listener that accepts but never answers is live too, so a timeout says "used".
 */
export function checkUsed(path: string, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (used: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(used);
    };
    const sock = connect({ path });
    const timer = setTimeout(() => done(sock.readyState === 'open'), timeoutMs);
    sock.once('connect', () => sock.write('GET / HTTP/1.0\r\n\r\n'));
    sock.once('data', () => done(true));
    sock.once('end', () => done(true));
    // A full backlog (EAGAIN) is a live listener too; refused or reset is stale.
    sock.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'EAGAIN'));
  });
}

/** Python's repr() of the (uid, gid) tuple in the chown message. */
function reprOwner(o: { uid: number; gid: number }): string {
  return `(${o.uid}, ${o.gid})`;
}

function effectiveUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.geteuid?.() ?? '?');
  }
}

export interface UnixBinding {
  path: string;
  /** the socket file we linked into place: close() removes it only if it is still this one */
  dev: number;
  ino: number;
}

// sun_path is 108 bytes; libuv wants room for the terminating NUL.
const SUN_PATH_MAX = 107;
// supervisord sleeps 0.3 s between attempts; it loops forever, here a few tries are enough.
const STALE_RETRY_MS = 300;
const STALE_TRIES = 5;

/**
 * supervisor_af_unix_http_server.__init__(). Binding `<file>.<pid>` and linking it to
 * `<file>` is the lock: link() fails if the name exists, so a running supervisord's socket
 * is never unlinked by a second one starting (bind() on an existing path fails too, but
 * unlinking first, as most servers do, would steal it).
 */
export async function bindUnix(
  server: Server,
  cfg: { file: string; chmod?: number; chown?: { uid: number; gid: number } | null },
  stderr: (line: string) => void,
): Promise<UnixBinding> {
  const file = cfg.file;
  const tempname = `${file}.${process.pid}`;
  if (Buffer.byteLength(tempname) > SUN_PATH_MAX) throw openError(new Error('AF_UNIX path too long'));
  // A socket left by an earlier process with our pid goes; anything else is not ours to delete.
  const leftover = lstatOrNull(tempname);
  if (leftover && !leftover.isSocket()) throw notASocket(tempname, leftover);
  if (leftover) unlinkQuietly(tempname);
  for (let attempt = 1; ; attempt++) {
    let bound: { dev: number; ino: number } | null = null;
    try {
      try {
        await listenOn(server, { path: tempname });
      } catch (err) {
        throw openError(realBindError(err, tempname));
      }
      bound = inodeOf(tempname);
      try {
        chmodSync(tempname, cfg.chmod ?? 0o700);
      } catch (err) {
        await closeListener(server);
        throw openError(err);
      }
      try {
        linkSync(tempname, file);
      } catch (linkErr) {
        // Lock contention or a stale socket.
        await closeListener(server);
        if (await checkUsed(file)) throw new HttpServerError(ADDR_IN_USE, 'EADDRINUSE');
        // supervisord unlinks whatever is there, a regular file, a symlink, /dev/null
        // (it loops forever on a directory): only a socket is a stale socket.
        const there = lstatOrNull(file);
        if (there && !there.isSocket()) throw notASocket(file, there);
        if (there) {
          stderr(`Unlinking stale socket ${file}\n`);
          try {
            unlinkSync(file);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw openError(err);
          }
        }
        if (attempt >= STALE_TRIES) throw openError(linkErr);
        await new Promise((r) => setTimeout(r, STALE_RETRY_MS));
        continue;
      }
      try {
        // chown=None in the config is (-1, -1) in supervisord: nothing to do.
        if (cfg.chown) chownSync(file, cfg.chown.uid, cfg.chown.gid);
      } catch (err) {
        await closeListener(server);
        removeIfOurs({ path: file, ...inodeOf(file) });
        if ((err as NodeJS.ErrnoException).code === 'EPERM') {
          throw new HttpServerError(
            `Not permitted to chown ${file} to uid/gid ${reprOwner(cfg.chown!)}; adjust "sockchown" ` +
              'value in config file or on command line to values that the current user ' +
              `(${effectiveUserName()}) can successfully chown`,
            'EPERM',
          );
        }
        throw openError(err);
      }
      return { path: file, ...inodeOf(file) };
    } finally {
      // The temporary name, if we bound it and it is still our socket.
      if (bound) removeIfOurs({ path: tempname, ...bound });
    }
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'another kind of file';
}

/** Something other than a socket sits where the socket goes: say so, delete nothing. */
function notASocket(path: string, st: Stats): HttpServerError {
  return new HttpServerError(
    `Cannot open an HTTP server: ${path} exists and is not a socket (it is ${kindOf(st)}); ` +
      'not unlinking it: remove it, or name another file= in [unix_http_server]',
    'ENOTSOCK',
  );
}

/**
 * libuv turns bind()'s ENOENT into EACCES ("for compatibility with Windows"); supervisord
 * reports errno.ENOENT for a missing directory, so look at the directory to tell them apart.
 */
function realBindError(err: unknown, path: string): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'EACCES') return err;
  try {
    statSync(dirname(path));
    return err;
  } catch (dirErr) {
    return dirErr;
  }
}

function inodeOf(path: string): { dev: number; ino: number } {
  const st = lstatOrNull(path);
  return st ? { dev: st.dev, ino: st.ino } : { dev: -1, ino: -1 };
}

/**
 * options.py cleanup() unlinks the socket file at exit. Only when it is still the one we
 * made: after a restart race it may belong to another daemon by now.
 */
export function removeIfOurs(b: UnixBinding): void {
  const now = inodeOf(b.path);
  if (now.ino !== b.ino || now.dev !== b.dev || b.ino < 0) return;
  try {
    unlinkSync(b.path);
  } catch {
    // gone already
  }
}

/**
 * supervisor_af_inet_http_server: an AF_INET socket bound to (host, port). An empty host
 * is every interface; a name is resolved to its IPv4 address, as Python's bind() does
 * for AF_INET (Node's own lookup might pick ::1 for "localhost"). IPv6 literals work too.
 */
export async function bindInet(server: Server, cfg: { host?: string; port?: number }): Promise<{ host: string; port: number }> {
  const host = cfg.host ?? '';
  const port = cfg.port;
  if (port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new HttpServerError(`Cannot open an HTTP server: bad port ${String(port)}`);
  }
  let address: string;
  try {
    address = host === '' ? '0.0.0.0' : isIP(host) ? host : (await lookup(host, { family: 4 })).address;
  } catch (err) {
    throw openError(err);
  }
  try {
    await listenOn(server, { host: address, port });
  } catch (err) {
    throw openError(err);
  }
  const a = server.address();
  return { host: address, port: typeof a === 'object' && a ? a.port : port };
}
