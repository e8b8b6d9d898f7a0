// SPDX-License-Identifier: MIT
// What can go wrong talking to a daemon, as the exceptions Python's supervisorctl
// sees (xmlrpc.client.Fault and ProtocolError, OSError and friends), and the
// `error: <class ...>, msg: file: F line: N` line its onecmd() prints for them.
import { pyRepr } from './py.js';

/**
 * Where Debian 12's Python (3.11) and supervisor 4.2.5 raise each exception we mirror.
 * supervisorctl prints the innermost frame of an uncaught exception (asyncore.compact_traceback);
 * scripts and people compare those lines, so ours name the same place.
 */
const PY = '/usr/lib/python3.11';
const SUP = '/usr/lib/python3/dist-packages/supervisor';
export const Site = {
  unknownProtocol: [`${SUP}/xmlrpc.py`, 505],
  protocolError: [`${SUP}/xmlrpc.py`, 539],
  unixConnect: [`${SUP}/xmlrpc.py`, 557],
  tcpConnect: [`${PY}/socket.py`, 836],
  getaddrinfo: [`${PY}/socket.py`, 962],
  socketRead: [`${PY}/socket.py`, 706],
  remoteDisconnected: [`${PY}/http/client.py`, 287],
  badStatusLine: [`${PY}/http/client.py`, 300],
  fault: [`${PY}/xmlrpc/client.py`, 668],
  intOverflow: [`${PY}/xmlrpc/client.py`, 552],
  startResult: [`${SUP}/supervisorctl.py`, 761],
  signalResult: [`${SUP}/supervisorctl.py`, 835],
  clearResult: [`${SUP}/supervisorctl.py`, 1260],
  authUsername: [`${SUP}/supervisorctl.py`, 212],
  getpassEof: [`${PY}/getpass.py`, 148],
  shutdownConfirm: [`${SUP}/supervisorctl.py`, 987],
  reloadConfirm: [`${SUP}/supervisorctl.py`, 1027],
  fgInput: [`${SUP}/supervisorctl.py`, 1380],
  /** cmd.Cmd.cmdloop's input(): its EOFError becomes the EOF command, so it is never printed. */
  cmdloop: ['/usr/lib/python3.11/cmd.py', 126],
} as const satisfies Record<string, readonly [string, number]>;
export type SiteName = keyof typeof Site;

/** A Python exception by class name and str(), raised at a known place. */
export class PyException extends Error {
  constructor(
    readonly pyClass: string,
    readonly pyMessage: string,
    readonly site: SiteName,
  ) {
    super(pyMessage);
    this.name = pyClass;
  }
}

/** xmlrpc.client.Fault: the daemon answered with a fault struct. */
export class Fault extends PyException {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super('xmlrpc.client.Fault', `<Fault ${faultCode}: ${pyRepr(faultString)}>`, 'fault');
  }

  /** str(Fault) is its repr: `<Fault 10: 'BAD_NAME: foo'>`. */
  override toString(): string {
    return this.pyMessage;
  }
}

/** xmlrpc.client.ProtocolError: an HTTP status other than 200 (supervisor's transport raises it). */
export class ProtocolError extends PyException {
  constructor(
    readonly url: string,
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super('xmlrpc.client.ProtocolError', `<ProtocolError for ${url}: ${errcode} ${errmsg}>`, 'protocolError');
  }
}

/** OSError and its subclasses; `errno` is the symbolic name (ECONNREFUSED), as Node reports it. */
export class SocketError extends PyException {
  constructor(
    pyClass: string,
    readonly errno: string,
    pyMessage: string,
    site: SiteName,
  ) {
    super(pyClass, pyMessage, site);
  }
}

/** Ctrl-C, as Python's KeyboardInterrupt: not an Exception, so onecmd() does not catch it. */
export class KeyboardInterrupt extends Error {
  constructor() {
    super('KeyboardInterrupt');
    this.name = 'KeyboardInterrupt';
  }
}

/** input() at end of file. */
export function eofError(site: SiteName): PyException {
  return new PyException('EOFError', 'EOF when reading a line', site);
}

/**
 * Ours, not Python's: something answered at the server URL but it does not speak
 * supervisord's XML-RPC (a web server, an SSH port, a proxy's error page). Python's
 * supervisorctl prints an ExpatError or ProtocolError line there; we say what is wrong.
 */
export class NotSupervisorError extends Error {
  constructor(
    readonly serverurl: string,
    readonly detail: string,
  ) {
    super(`Sorry, ${serverurl} responded but is not a supervisord XML-RPC server (${detail}).`);
    this.name = 'NotSupervisorError';
  }
}

/** The line Controller.onecmd prints for an exception no command handled. */
export function uncaughtLine(e: unknown): string {
  if (e instanceof PyException) {
    const [file, line] = Site[e.site];
    return `error: <class '${e.pyClass}'>, ${e.pyMessage}: file: ${file} line: ${line}`;
  }
  if (e instanceof NotSupervisorError) return e.message;
  // A bug of ours or a reply shape Python would trip over too: say so plainly, without a stack.
  const err = e instanceof Error ? e : new Error(String(e));
  return `error: <class '${err.name}'>, ${err.message}`;
}

// strerror() texts (glibc) for the errors a connection can meet, and the OSError
// subclass Python raises for each (PEP 3151).
const ERRNO: Record<string, [number, string, string]> = {
  EPERM: [1, 'Operation not permitted', 'PermissionError'],
  ENOENT: [2, 'No such file or directory', 'FileNotFoundError'],
  EINTR: [4, 'Interrupted system call', 'InterruptedError'],
  EIO: [5, 'Input/output error', 'OSError'],
  EBADF: [9, 'Bad file descriptor', 'OSError'],
  EAGAIN: [11, 'Resource temporarily unavailable', 'BlockingIOError'],
  ENOMEM: [12, 'Cannot allocate memory', 'OSError'],
  EACCES: [13, 'Permission denied', 'PermissionError'],
  ENOTDIR: [20, 'Not a directory', 'NotADirectoryError'],
  EINVAL: [22, 'Invalid argument', 'OSError'],
  EMFILE: [24, 'Too many open files', 'OSError'],
  EPIPE: [32, 'Broken pipe', 'BrokenPipeError'],
  ENAMETOOLONG: [36, 'File name too long', 'OSError'],
  ELOOP: [40, 'Too many levels of symbolic links', 'OSError'],
  ENOTSOCK: [88, 'Socket operation on non-socket', 'OSError'],
  EPROTOTYPE: [91, 'Protocol wrong type for socket', 'OSError'],
  EAFNOSUPPORT: [97, 'Address family not supported by protocol', 'OSError'],
  EADDRINUSE: [98, 'Address already in use', 'OSError'],
  EADDRNOTAVAIL: [99, 'Cannot assign requested address', 'OSError'],
  ENETDOWN: [100, 'Network is down', 'OSError'],
  ENETUNREACH: [101, 'Network is unreachable', 'OSError'],
  ECONNABORTED: [103, 'Software caused connection abort', 'ConnectionAbortedError'],
  ECONNRESET: [104, 'Connection reset by peer', 'ConnectionResetError'],
  ENOTCONN: [107, 'Transport endpoint is not connected', 'OSError'],
  ETIMEDOUT: [110, 'Connection timed out', 'TimeoutError'],
  ECONNREFUSED: [111, 'Connection refused', 'ConnectionRefusedError'],
  EHOSTDOWN: [112, 'Host is down', 'OSError'],
  EHOSTUNREACH: [113, 'No route to host', 'OSError'],
};

// socket.gaierror texts (gai_strerror) by Node's code for them.
const GAI: Record<string, [number, string]> = {
  ENOTFOUND: [-2, 'Name or service not known'],
  EAI_NONAME: [-2, 'Name or service not known'],
  EAI_AGAIN: [-3, 'Temporary failure in name resolution'],
  EAI_FAIL: [-4, 'Non-recoverable failure in name resolution'],
  EAI_NODATA: [-5, 'No address associated with hostname'],
  EAI_FAMILY: [-6, 'ai_family not supported'],
  EAI_SERVICE: [-8, 'Servname not supported for ai_socktype'],
};

/** A Node socket error, as the Python exception the same failure raises there. */
export function fromNodeError(err: unknown, phase: 'connect' | 'read', unix: boolean): PyException {
  let e = err as NodeJS.ErrnoException & { errors?: unknown[] };
  // Happy eyeballs (autoSelectFamily) reports every address's failure; Python re-raises the first.
  if (e && Array.isArray(e.errors) && e.errors.length > 0) e = e.errors[0] as NodeJS.ErrnoException;
  const code = e?.code ?? 'EIO';
  const gai = GAI[code];
  if (gai && e.syscall === 'getaddrinfo') {
    return new SocketError('socket.gaierror', code, `[Errno ${gai[0]}] ${gai[1]}`, 'getaddrinfo');
  }
  const known = ERRNO[code];
  const site: SiteName = phase === 'read' ? 'socketRead' : unix ? 'unixConnect' : 'tcpConnect';
  if (known) return new SocketError(known[2], code, `[Errno ${known[0]}] ${known[1]}`, site);
  return new SocketError('OSError', code, e?.message ?? String(err), site);
}
