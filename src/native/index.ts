// SPDX-License-Identifier: MIT
// The one door to the native addon: loads it (node-gyp-build: a matching
// prebuild, else build/Release), types its API, and turns its return values
// into Errors. Nothing else in src/ touches the .node file.
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import type { FcgiSocketConfig } from '../config/model.js';
import { decodeEvents, type NativeEvent, type Stream } from './events.js';
import { errnoName, nativeError, spawnError, type NativeError } from './errors.js';

export type { NativeEvent, Stream } from './events.js';
export type * from './events.js';
export { errnoName, type NativeError } from './errors.js';

interface Addon {
  start(opts: { backend?: string; batchMs?: number }, onEvents: (records: Float64Array, data: Buffer) => void): string | number;
  stop(): void;
  setBatchMs(ms: number): void;
  rlimit(name: string, soft?: number, hard?: number): [number, number] | number;
  spawn(plan: unknown): { pid: number; child: number } | { errno: number; stage: number; pid?: number };
  spawnAsync(request: number, plan: unknown): void;
  fdReserve(n?: number): number;
  fdHeadroom(want: number): number;
  testHooks(hooks: { registerDelayMs?: number; sharedTable?: boolean }): boolean | undefined;
  trimMemory(): boolean;
  tuneMalloc(): boolean;
  kill(pid: number, signal: number, group: boolean): number;
  childExited(pid: number): boolean;
  writeStdin(child: number, data: Buffer): number;
  closeStdin(child: number): number;
  setTap(child: number, stream: 1 | 2, on: boolean): number;
  childCounters(child: number): [number, number, number] | null;
  openSink(path: string, maxbytes: number, backups: number, format?: LineFormatSpec, rotation?: LogRotationSpec): { sink: number } | { errno: number };
  rotateSink(sink: number): number;
  nextRotationBoundary(every: 'hourly' | 'daily' | 'weekly', wallSecs: number): number;
  closeSink(sink: number): void;
  sinkCounters(sink: number, out: Float64Array): boolean;
  reopenSinks(sink?: number): number;
  writeSink(sink: number, data: Buffer, pid?: number): number;
  formatLines(format: LineFormatSpec, chunks: Array<[Buffer, number, number, number?]>, flushAll?: boolean): Buffer;
  clearSink(sink: number): number;
  openNotify(path: string, uid?: number, gid?: number): { socket: number } | { errno: number };
  syslogConfigure(path: string, ident: string): string;
  writeSyslog(data: Buffer, prefix?: string): void;
  syslogCounters(): [number, number, number];
  closeNotify(socket: number): void;
  sdNotify(path: string, text: string): number;
  fcgiListen(spec: { path: string; uid?: number; gid?: number; mode?: number; backlog?: number } | { host: string; port: number; backlog?: number }): { fd: number } | { errno: number; step: number; text: string };
  fcgiClose(fd: number): number;
  lookupUser(name: string): UserInfo | { errno: number };
  reapOrphans(on: boolean): number;
  cgroupSetup(dirs: string[], writes: Array<[string, string]>): number | { errno: number; path: string };
  cgroupSignal(dir: string, signal: number): number;
  cgroupKill(dir: string, how: 0 | 1 | 2): number;
  cgroupRead(path: string): string | number;
  cgroupRemove(dir: string): number;
  procStats(pids: Int32Array, out: Float64Array, cache?: boolean): number;
  procStatsForget(pid?: number): void;
}

/** The sink id of syslog's fault episodes ('sink-fault' / 'sink-recovered' events); no log file has it. */
export const SYSLOG_SINK = 0xffffffff;

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function load(): Addon {
  const require = createRequire(import.meta.url);
  try {
    const gypBuild = require('node-gyp-build') as (dir: string) => Addon;
    return gypBuild(packageRoot);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `fastvisor: cannot load its native addon from ${packageRoot} (tried prebuilds/ for ` +
        `${process.platform}-${process.arch} and build/Release): ${reason}. ` +
        `Build it with 'npm run rebuild' (needs python3, make and a C++ compiler).`,
    );
  }
}

const addon = load();

/**
 * How a log sink writes lines (native/line_format.h); without one, or with
 * mode 'raw', the bytes go to the file as read. program/process/group/stream
 * label json records (and prefixed's `process stream | `).
 */
export interface LineFormatSpec {
  mode: 'raw' | 'timestamped' | 'json' | 'prefixed';
  /** timestamped's stamp (json is always RFC 3339 UTC) */
  time?: 'rfc3339' | 'local';
  /** bytes; a longer line goes out in pieces marked partial (16 KiB) */
  maxLine?: number;
  program?: string;
  process?: string;
  group?: string;
  stream?: 'stdout' | 'stderr';
}

/**
 * Time rotation, retention and compression of a log sink (native/logfile.h,
 * native/compress.h); none set: supervisord's size rotation alone.
 */
export interface LogRotationSpec {
  /** rotate at each local hour / day / week (Monday) boundary, or every N seconds from the open */
  every?: 'hourly' | 'daily' | 'weekly' | number;
  /** seconds: at each rotation, backups last written longer ago are deleted */
  maxAge?: number;
  /** 'gzip': each backup becomes NAME.k.gz, compressed off the I/O thread */
  compress?: 'gzip' | 'none';
}

/**
 * Tests: the native line formatter alone. Each chunk is [bytes, wall ms (the
 * stamp), monotonic ms, pid?]; an empty chunk is the partial-line deadline
 * passing. flushAll: the writer went away after the last chunk.
 */
export function formatLines(format: LineFormatSpec, chunks: Array<[Buffer, number, number, number?]>, flushAll = false): Buffer {
  return addon.formatLines(format, chunks, flushAll);
}

/** Tests: the next hourly / daily / weekly (Monday) boundary after wallSecs, in the local time zone (TZ). */
export function nextRotationBoundary(every: 'hourly' | 'daily' | 'weekly', wallSecs: number): number {
  return addon.nextRotationBoundary(every, wallSecs);
}

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
  home: string;
  shell: string;
}

/** Resolves a user name or numeric uid; null when there is no such user. */
export function lookupUser(nameOrUid: string): UserInfo | null {
  const r = addon.lookupUser(nameOrUid);
  if ('errno' in r) {
    if (errnoName(r.errno) === 'ENOENT') return null;
    throw nativeError(r.errno, 'getpwnam_r', `couldn't look up user ${nameOrUid}: ${errnoName(r.errno)}`);
  }
  return r;
}

export function signalNumber(signal: number | NodeJS.Signals): number {
  if (typeof signal === 'number') return signal;
  const n = (osConstants.signals as Record<string, number>)[signal];
  if (n === undefined) throw new TypeError(`unknown signal ${signal}`);
  return n;
}

/**
 * Reads, and with soft+hard sets, a resource limit (supervisord's minfds →
 * 'nofile', minprocs → 'nproc'). -1 is unlimited. Throws a NativeError (EPERM…).
 */
export function rlimit(name: 'nofile' | 'nproc', set?: { soft: number; hard: number }): { soft: number; hard: number } {
  const r = set ? addon.rlimit(name, set.soft, set.hard) : addon.rlimit(name);
  if (typeof r === 'number') throw nativeError(-r, 'setrlimit', `setrlimit ${name}: ${errnoName(-r)}`);
  return { soft: r[0], hard: r[1] };
}

/**
 * Descriptors kept free for the daemon's own use (control connections, log
 * files): a spawn or a log file open that would leave fewer free fails with
 * EMFILE. 0 turns it off (the default). Returns the reserve now.
 */
export function fdReserve(n?: number): number {
  return n === undefined ? addon.fdReserve() : addon.fdReserve(n);
}

/** How many more descriptors this process could open now, counting up to want. */
export function fdHeadroom(want: number): number {
  return addon.fdHeadroom(want);
}

/** Gives the C heap's free memory back to the system (glibc's malloc_trim); false where there is none. */
export function trimMemory(): boolean {
  return addon.trimMemory();
}

/** The daemon's malloc settings (glibc): a fixed mmap threshold, so big freed buffers go back at once. */
export function tuneMalloc(): boolean {
  return addon.tuneMalloc();
}

/**
 * The daemon's own sd_notify: sends text (e.g. "READY=1\nMAINPID=42") as one
 * datagram to socketPath, the NOTIFY_SOCKET its supervisor (systemd) set: an
 * absolute path, or '@name' for an abstract socket. Returns 0 or -errno
 * (-EINVAL for an address of another form, -ENAMETOOLONG, -EMSGSIZE over
 * 4096 bytes, -ECONNREFUSED/-ENOENT when nobody listens). Never throws for
 * those: a lost notification must not take the daemon down.
 */
export function sdNotify(socketPath: string, text: string): number {
  return addon.sdNotify(socketPath, text);
}

/** Where fcgiListen failed: Python words each step's error differently (native/fcgi_socket.h FcgiStep). */
export type FcgiListenStep = 'resolve' | 'socket' | 'unlink' | 'bind' | 'chown' | 'chmod' | 'listen' | 'path-too-long';
const FCGI_STEPS: readonly FcgiListenStep[] = ['resolve', 'socket', 'unlink', 'bind', 'chown', 'chmod', 'listen', 'path-too-long'];

/** The socket= of an fcgi-program, as config/ reads it, less the url (only for messages). */
export type FcgiListenSpec = FcgiSocketConfig extends infer C ? (C extends unknown ? Omit<C, 'url'> : never) : never;

/**
 * A listening socket for an fcgi-program (blocking: its children accept() on
 * it; close-on-exec in the daemon), as supervisord's create_and_bind + listen:
 * SO_REUSEADDR for tcp; for unix, whatever is at the path is unlinked first,
 * then bind, chown, chmod. backlog null: SOMAXCONN. Never throws for a
 * system error: the step that failed, its errno (EAI_* for 'resolve') and
 * the C library's text for it.
 */
export function fcgiListen(spec: FcgiListenSpec): { fd: number } | { step: FcgiListenStep; errno: number; text: string } {
  const backlog = spec.backlog ?? undefined;
  const r =
    spec.kind === 'unix'
      ? addon.fcgiListen({ path: spec.path, mode: spec.mode, ...(spec.owner ? { uid: spec.owner[0], gid: spec.owner[1] } : {}), ...(backlog ? { backlog } : {}) })
      : addon.fcgiListen({ host: spec.host, port: spec.port, ...(backlog ? { backlog } : {}) });
  if ('fd' in r) return r;
  return { step: FCGI_STEPS[r.step - 1] ?? 'socket', errno: r.errno, text: r.text };
}

/** Closes the daemon's copy of an fcgi socket (children keep theirs). 0 or -errno. */
export function fcgiClose(fd: number): number {
  return addon.fcgiClose(fd);
}

/**
 * For tests: registerDelayMs sleeps between fork and the child's registration
 * (fault injection); sharedTable false makes children copy the whole descriptor
 * table (the path of kernels before 5.9 and other systems), true restores the
 * default; then the answer is whether children share the table now.
 */
export function testHooks(hooks: { registerDelayMs?: number; sharedTable?: boolean }): boolean | undefined {
  return addon.testHooks(hooks);
}

export interface ChannelRequest {
  /** 'pipe' (read by the I/O thread) or 'null' (/dev/null: the bytes never reach us) */
  mode?: 'pipe' | 'null';
  sink?: LogSink | null;
  /** deliver the bytes to onEvents as 'tap' events too */
  tap?: boolean;
  stripAnsi?: boolean;
  /** also send each line to syslog as "<this> <line>" (supervisord's *_syslog; the process name) */
  syslog?: string | null;
}

export interface SpawnRequest {
  /** an explicit path; see resolveCommand() for PATH search */
  file: string;
  argv: string[];
  env: Record<string, string> | string[];
  cwd?: string;
  umask?: number;
  /** run as this user (setgroups + setgid + setuid); needs root */
  user?: Pick<UserInfo, 'uid' | 'gid' | 'groups'>;
  /** 'group' (setpgid, supervisord's default), 'session' (setsid) or 'inherit' */
  processGroup?: 'group' | 'session' | 'inherit';
  stdout?: ChannelRequest;
  /** 'stdout' sends stderr down the stdout pipe (redirect_stderr) */
  stderr?: ChannelRequest | 'stdout';
  /**
   * Linux cgroups, made beforehand (cgroupfs.setup): the child enters them
   * between fork and exec. procs: one cgroup.procs per hierarchy; dir (v2):
   * the leaf for clone3(CLONE_INTO_CGROUP), tried first.
   */
  cgroup?: { procs: string[]; dir?: string };
  /**
   * The child's fd 0 is this descriptor of the daemon's (an fcgi-program's
   * listening socket, from fcgiListen) instead of a stdin pipe: writeStdin
   * then answers 'closed'. It must stay open until the spawn has answered.
   */
  stdinFd?: number;
}

export interface Spawned {
  pid: number;
  /** the handle that events and per-child calls use; never reused */
  child: number;
}

/** The outcome of spawnAsync: the child, or why it could not start. */
export type SpawnOutcome = { ok: true; spawned: Spawned } | { ok: false; error: NativeError };

export interface SinkCounters {
  /** bytes written to files, across rotations */
  written: number;
  /** bytes lost to write errors */
  dropped: number;
  /** bytes in the current file */
  size: number;
  rotations: number;
  /** errno of the ongoing write-error episode, or 0 */
  faultErrno: number;
}

export class LogSink {
  readonly #core: IoCore;
  readonly #scratch = new Float64Array(5);
  closed = false;
  constructor(core: IoCore, readonly id: number, readonly path: string) {
    this.#core = core;
  }
  counters(): SinkCounters {
    if (!addon.sinkCounters(this.id, this.#scratch)) return { written: 0, dropped: 0, size: 0, rotations: 0, faultErrno: 0 };
    const [written, dropped, size, rotations, faultErrno] = this.#scratch as unknown as number[];
    return { written: written!, dropped: dropped!, size: size!, rotations: rotations!, faultErrno: faultErrno! };
  }
  /**
   * Appends bytes from JS (the daemon's own log) with the same rotation and
   * write-error handling as child output; asynchronous, in call order. A
   * formatted sink formats them as a child's (pid: whose they are).
   */
  write(data: Buffer | string, pid?: number): void {
    if (this.closed) return;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    addon.writeSink(this.id, bytes, pid);
  }
  /** Opens the path again (after logrotate moved the file away). */
  reopen(): void {
    check(addon.reopenSinks(this.id), 'open', this.path);
  }
  /**
   * Rotates now, whatever the size (fastvisorctl rotate): the file becomes
   * NAME.1 and the others shift; with backups 0 the file is truncated. A
   * file that is not a regular one (/dev/stdout) has nothing to rotate.
   */
  rotate(): void {
    check(addon.rotateSink(this.id), 'rename', this.path);
  }
  /** supervisord's clearProcessLogs: remove the current file, start a new one. */
  clear(): void {
    check(addon.clearSink(this.id), 'unlink', this.path);
  }
  /** The file stays open until the last child writing to it is gone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    addon.closeSink(this.id);
    this.#core.forgetSink(this);
  }
}

function check(rc: number, syscall: string, p?: string): void {
  if (rc < 0) throw nativeError(-rc, syscall, `${syscall} ${p ?? ''}: ${errnoName(-rc)}`.replace(/ +:/, ':'), p);
}

export type Backend = 'default' | 'epoll' | 'kqueue' | 'poll';

export interface CoreOptions {
  /** FASTVISOR_BACKEND overrides 'default' */
  backend?: Backend;
  /**
   * The capture lag bound, ms: the longest trickling output waits in its pipe
   * before it is read and written to its log ([supervisord] capture_lag_ms;
   * default DEFAULT_CAPTURE_LAG_MS; 0: read at every wake-up). After a wave of
   * small reads the loop waits 1 ms per fd it served, up to this.
   */
  batchMs?: number;
  onEvents: (events: NativeEvent[]) => void;
}

/** [supervisord] capture_lag_ms when not set; chosen with `npm run bench -- chatty` (README, Numbers). */
export const DEFAULT_CAPTURE_LAG_MS = 30;

let running: IoCore | null = null;

/** The I/O thread and everything that crosses to it. One per process. */
export class IoCore {
  readonly backend: string;
  readonly #sinks = new Map<number, LogSink>();
  readonly #pendingSpawns = new Map<number, { req: SpawnRequest; done: (outcome: SpawnOutcome) => void }>();
  #nextRequest = 1;
  #syslogPath = '';

  private constructor(backend: string) {
    this.backend = backend;
  }

  static start(opts: CoreOptions): IoCore {
    if (running) throw new Error('fastvisor: the I/O core is already running in this process');
    let backend: string = opts.backend ?? 'default';
    if (backend === 'default' && process.env.FASTVISOR_BACKEND) backend = process.env.FASTVISOR_BACKEND;
    const onEvents = opts.onEvents;
    const r = addon.start({ backend, batchMs: opts.batchMs ?? DEFAULT_CAPTURE_LAG_MS }, (records, data) => {
      const events = decodeEvents(records, data);
      // Spawn outcomes first: a child's own events (output, exit) always come
      // after its outcome, so whoever waits for the spawn knows the handle
      // before anything else of that child arrives.
      if (running && events.some((e) => e.kind === 'spawned' || e.kind === 'spawn-failed')) {
        running.settleSpawns(events);
        onEvents(events.filter((e) => e.kind !== 'spawned' && e.kind !== 'spawn-failed'));
      } else {
        onEvents(events);
      }
    });
    if (typeof r === 'number') {
      if (errnoName(-r) === 'ENOENT') throw new Error(`fastvisor: no I/O backend '${backend}' on ${process.platform}`);
      throw nativeError(-r, 'start', `fastvisor: cannot start the I/O thread: ${errnoName(-r)}`);
    }
    running = new IoCore(r);
    return running;
  }

  /** A new capture lag bound (see CoreOptions.batchMs), from the loop's next wave on. */
  setBatchMs(ms: number): void {
    if (running !== this) return;
    addon.setBatchMs(Math.max(0, Math.min(ms, 60_000)));
  }

  stop(): void {
    if (running !== this) return;
    addon.stop();
    this.#sinks.clear();
    running = null;
  }

  /**
   * Throws a NativeError (code ENOENT, EACCES, …; stage exec, chdir, …) when
   * the child could not start. The calling thread waits until the child has
   * exec'd; the daemon uses spawnAsync.
   */
  spawn(req: SpawnRequest): Spawned {
    const r = addon.spawn(spawnPlan(req));
    if ('errno' in r) throw spawnFailure(req, r.errno, r.stage, r.pid);
    return r;
  }

  /**
   * Queues the spawn for the native spawn thread and returns at once; done()
   * runs from the event batch that reports the outcome, before any other
   * event of that child. Throws only on misuse (bad arguments).
   */
  spawnAsync(req: SpawnRequest, done: (outcome: SpawnOutcome) => void): void {
    const request = this.#nextRequest++;
    if (this.#nextRequest > 0xffffffff) this.#nextRequest = 1;
    addon.spawnAsync(request, spawnPlan(req));
    this.#pendingSpawns.set(request, { req, done });
  }

  /** Spawns queued but not yet answered. */
  get spawnsPending(): number {
    return this.#pendingSpawns.size;
  }

  private settleSpawns(events: NativeEvent[]): void {
    for (const e of events) {
      if (e.kind !== 'spawned' && e.kind !== 'spawn-failed') continue;
      const p = this.#pendingSpawns.get(e.request);
      if (!p) continue;
      this.#pendingSpawns.delete(e.request);
      p.done(e.kind === 'spawned' ? { ok: true, spawned: { pid: e.pid, child: e.child } } : { ok: false, error: spawnFailure(p.req, e.errno, e.stage, e.pid) });
    }
  }

  /** Sends a signal to pid, or to its process group. False when it is already gone. */
  kill(pid: number, signal: number | NodeJS.Signals, group = false): boolean {
    const rc = addon.kill(pid, signalNumber(signal), group);
    if (rc === 0) return true;
    if (errnoName(-rc) === 'ESRCH') return false;
    throw nativeError(-rc, 'kill', `kill ${group ? -pid : pid}: ${errnoName(-rc)}`);
  }

  /**
   * Whether a child has exited (a zombie, or reaped and its exit event not yet
   * delivered), without reaping it: what a waitpid() right now would find.
   */
  childExited(pid: number): boolean {
    return addon.childExited(pid);
  }

  /**
   * Queues bytes for the child's stdin without blocking. 'full' when the
   * bounded buffer (1 MiB) has no room (nothing was taken); 'closed' when the
   * child's stdin is gone.
   */
  writeStdin(child: number, data: Buffer | string): 'ok' | 'full' | 'closed' {
    const rc = addon.writeStdin(child, typeof data === 'string' ? Buffer.from(data) : data);
    if (rc === 0) return 'ok';
    const name = errnoName(-rc);
    if (name === 'EAGAIN') return 'full';
    return 'closed';
  }

  closeStdin(child: number): void {
    addon.closeStdin(child);
  }

  setTap(child: number, stream: Stream, on: boolean): boolean {
    return addon.setTap(child, stream === 'stderr' ? 2 : 1, on) === 0;
  }

  /** Bytes read from the child's pipes so far; null once the child is gone. */
  childCounters(child: number): { stdout: number; stderr: number; stdinPending: number } | null {
    const c = addon.childCounters(child);
    return c ? { stdout: c[0], stderr: c[1], stdinPending: c[2] } : null;
  }

  /**
   * Opens (creates, appends to) a log file. maxbytes 0: no size rotation.
   * format: lines formatted natively (LineFormatSpec); rotation: by time,
   * retention and compression (LogRotationSpec).
   */
  openSink(
    file: string,
    opts: { maxbytes?: number; backups?: number; format?: LineFormatSpec | undefined; rotation?: LogRotationSpec | undefined } = {},
  ): LogSink {
    // The addon takes an undefined format or rotation as none.
    const r = addon.openSink(file, opts.maxbytes ?? 0, opts.backups ?? 0, opts.format, opts.rotation);
    if ('errno' in r) throw nativeError(r.errno, 'open', `couldn't open log file ${file}: ${errnoName(r.errno)}`, file);
    const sink = new LogSink(this, r.sink, file);
    this.#sinks.set(sink.id, sink);
    return sink;
  }

  forgetSink(sink: LogSink): void {
    this.#sinks.delete(sink.id);
  }

  /** The path of an open log sink (for messages about its events), or null. */
  sinkPath(id: number): string | null {
    return this.#sinks.get(id)?.path ?? null;
  }

  /**
   * Where syslog messages go (path '' or omitted: the platform's socket,
   * /dev/log, /var/run/syslog on macOS, /var/run/log on the BSDs) and the tag
   * they carry. Returns the path in use. Takes effect at the next message.
   */
  configureSyslog(opts: { path?: string; ident: string }): string {
    this.#syslogPath = addon.syslogConfigure(opts.path ?? '', opts.ident);
    return this.#syslogPath;
  }

  /**
   * Sends to syslog from the I/O thread, in call order, never blocking. With
   * a prefix, data is a chunk of a child's output (one message per line, as a
   * channel with *_syslog on sends it); without, data is one message.
   */
  syslog(data: Buffer | string, prefix?: string): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    addon.writeSyslog(buf, prefix);
  }

  /** The syslog socket's path (configureSyslog's, or the platform's). */
  syslogPath(): string {
    return this.#syslogPath;
  }

  /** Messages syslog took and lost so far; faultErrno: the ongoing episode's errno, or 0. */
  syslogCounters(): { sent: number; dropped: number; faultErrno: number } {
    const [sent, dropped, faultErrno] = addon.syslogCounters();
    return { sent, dropped, faultErrno };
  }

  /** Reopens every log file (SIGUSR2). Throws the first failure; the rest are still reopened. */
  reopenLogs(): void {
    check(addon.reopenSinks(0), 'open');
  }

  /**
   * A unix datagram socket bound at path (an existing socket file there is unlinked first; a non-socket file
   * there is an error EEXIST), mode 0600, chowned to owner when given (the daemon runs as root and the child as
   * that user). Datagrams arrive as 'notify' events. Throws a NativeError (code like 'EACCES', 'ENAMETOOLONG')
   * on failure. The path must be shorter than sockaddr_un's sun_path (108 bytes on Linux, 104 on macOS).
   */
  openNotify(path: string, owner?: { uid: number; gid: number }): number {
    const r = owner ? addon.openNotify(path, owner.uid, owner.gid) : addon.openNotify(path);
    if ('errno' in r) throw nativeError(r.errno, 'bind', `couldn't open notify socket ${path}: ${errnoName(r.errno)}`, path);
    return r.socket;
  }

  /** Stop listening, close the fd and unlink the path. Unknown ids are ignored. */
  closeNotify(id: number): void {
    addon.closeNotify(id);
  }

  /** PID 1 / subreaper mode: reap orphaned grandchildren too ('orphan' events). */
  reapOrphans(on: boolean): void {
    check(addon.reapOrphans(on), 'prctl');
  }
}

/** How cgroupfs.kill reaches everything: v2 (cgroup.kill, else freeze), v1 with a freezer, v1 without. */
export type CgroupKillHow = 'v2' | 'v1-freezer' | 'v1';

/**
 * cgroupfs (Linux): the system work behind fastvisor's cgroups. Which files
 * and values is decided in process/; these make, write, signal, read and
 * remove. cgroupfs answers at once, so they run on the calling (JS) thread.
 */
export const cgroupfs = {
  /** mkdir -p each dir, then each [path, value] written in order; throws a NativeError naming the failing path. */
  setup(dirs: string[], writes: Array<[string, string]>): void {
    const r = addon.cgroupSetup(dirs, writes);
    if (typeof r === 'object') throw nativeError(r.errno, 'write', `${r.path}: ${errnoName(r.errno)}`, r.path);
  },
  /** The signal to every process in dir/cgroup.procs; how many got it (0 when the file is gone). */
  signal(dir: string, signal: number | NodeJS.Signals): number {
    const r = addon.cgroupSignal(dir, signalNumber(signal));
    return r < 0 ? 0 : r;
  },
  /** SIGKILL to everything in the cgroup, forks in flight included; throws on failure (ENOENT: already gone is 0). */
  kill(dir: string, how: CgroupKillHow): number {
    const r = addon.cgroupKill(dir, how === 'v2' ? 0 : how === 'v1-freezer' ? 1 : 2);
    if (r >= 0) return r;
    if (errnoName(-r) === 'ENOENT') return 0;
    throw nativeError(-r, 'write', `killing cgroup ${dir}: ${errnoName(-r)}`, dir);
  },
  /** A small cgroup file's text; null when it cannot be read. */
  read(file: string): string | null {
    const r = addon.cgroupRead(file);
    return typeof r === 'string' ? r : null;
  },
  /** rmdir: true when gone (or was not there), false while processes are left (EBUSY) or it has sub-cgroups. */
  remove(dir: string): boolean {
    const r = addon.cgroupRemove(dir);
    return r === 0 || errnoName(-r) === 'ENOENT';
  },
};

function spawnPlan(req: SpawnRequest): unknown {
  const env = Array.isArray(req.env) ? req.env : Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
  const channel = (c: ChannelRequest | undefined) => ({
    mode: c?.mode ?? 'pipe',
    sink: c?.sink && !c.sink.closed ? c.sink.id : undefined,
    tap: c?.tap ?? false,
    stripAnsi: c?.stripAnsi ?? false,
    syslog: typeof c?.syslog === 'string' ? c.syslog : undefined,
  });
  return {
    file: req.file,
    argv: req.argv,
    env,
    cwd: req.cwd,
    umask: req.umask,
    uid: req.user?.uid,
    gid: req.user?.gid,
    groups: req.user?.groups,
    pgroup: req.processGroup === 'inherit' ? 0 : req.processGroup === 'session' ? 2 : 1,
    stdout: channel(req.stdout),
    stderr: req.stderr === 'stdout' ? { mode: 'stdout' } : channel(req.stderr),
    cgroupProcs: req.cgroup?.procs,
    cgroupDir: req.cgroup?.dir,
    stdinFd: req.stdinFd,
  };
}

function spawnFailure(req: SpawnRequest, errno: number, stage: number, pid: number | undefined): NativeError {
  const err = spawnError(errno, stage, { file: req.file, cwd: req.cwd, uid: req.user?.uid, gid: req.user?.gid });
  if (pid !== undefined) err.pid = pid;
  return err;
}

/**
 * PATH search the way supervisord does it before spawning (options.py
 * get_execv_args): a name without a slash is looked up in PATH; the first
 * match wins. Returns the name unchanged when nothing matches, so spawn
 * reports ENOENT for it.
 */
export function resolveCommand(file: string, pathEnv: string | undefined, exists: (p: string) => boolean): string {
  if (file.includes('/')) return file;
  for (const dir of (pathEnv ?? '').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, file);
    if (exists(candidate)) return candidate;
  }
  return file;
}

export type { NativeError as SpawnError };
export { spawnError };

/** Figures per pid in procStats' answer: [cpuSeconds, rssBytes, threads, openFds]. */
export const PROC_STAT_FIELDS = 4;

/**
 * /proc figures of many processes in one call (Linux; NaN elsewhere, and for a
 * pid that is gone or unreadable): out[i * 4 + k] is pids[i]'s CPU seconds
 * (utime + stime), resident bytes, threads and open fds. With cache, each
 * pid's /proc/PID/stat stays open for the next call (pread instead of open +
 * read + close), while descriptors are plentiful above the spawn reserve;
 * procStatsForget(pid) closes it when the child is reaped.
 */
export function procStats(pids: Int32Array, out = new Float64Array(pids.length * PROC_STAT_FIELDS), cache = true): Float64Array {
  addon.procStats(pids, out, cache);
  return out;
}

/** The child pid was reaped: close its cached /proc/PID/stat (without a pid: all of them). */
export function procStatsForget(pid?: number): void {
  if (pid === undefined) addon.procStatsForget();
  else addon.procStatsForget(pid);
}

/** How many /proc/PID/stat descriptors procStats keeps open now (tests). */
export function procStatsCached(): number {
  return addon.procStats(new Int32Array(0), new Float64Array(0), false);
}
