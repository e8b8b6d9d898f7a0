// SPDX-License-Identifier: MIT
// The running daemon: what supervisord.py's main()/run() and options.py do
// around the process groups. Start-up in supervisord's order (privileges,
// rlimits, main log, AUTO log cleanup, groups, HTTP servers, signals, pid
// file, then the first autostarts), signals (TERM/INT/QUIT shut down, HUP
// reloads, USR2 reopens logs), reload and shutdown.
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';

import type { Model } from '../config/model.js';
import { startHttpServers, type HttpServers } from '../http/server.js';
import { clearAutoChildLogs } from '../log/channel-spec.js';
import { MainLog, type LineSink } from '../log/main-log.js';
import { rotationSpec } from '../log/rotation.js';
import { SYSLOG_IDENT, syslogLineSink, syslogSocketPath } from '../log/syslog.js';
import { DEFAULT_CAPTURE_LAG_MS, fdHeadroom, fdReserve, IoCore, lookupUser, rlimit, tuneMalloc, type LogSink, type NativeEvent } from '../native/index.js';
import { RealClock } from '../process/clock.js';
import { FcgiSocketError } from '../process/fcgi-sockets.js';
import { FdGuard } from '../process/fd-guard.js';
import { SupervisorState } from '../process/states.js';
import { Supervisor } from '../process/supervisor.js';
import { createRpcHandler } from '../rpc/dispatcher.js';
import { METRICS_CONTENT_TYPE, renderMetrics, RpcMetrics } from '../rpc/metrics.js';
import { logFileFor, logSourcesFor } from '../rpc/supervisor-ns.js';
import { createWebHandler } from '../web/index.js';
import { MemoryReclaimer } from './reclaim.js';
import { SystemdNotifier } from './sd-notify.js';
import { UsageError } from './supervisord-options.js';

export interface DaemonOptions {
  /** loads (again, on reload) the configuration; throws a ConfigError */
  load(): Model;
  /** reports that start-up is over (the daemonizing parent exits then) */
  ready(): void;
  /** the process is the detached child of a daemonizing parent */
  daemonized: boolean;
}

/** What the RPC namespaces need from the daemon beyond the process groups. */
export interface DaemonControl {
  readonly supervisor: Supervisor;
  readonly model: Model;
  readonly mainLogFile: string | null;
  /** supervisor.shutdown(): after the answer went out */
  shutdown(): void;
  /** supervisor.restart(): stop everything, read the config again, start again */
  restart(): void;
  /** reloadConfig's model: read and validated, not applied */
  reread(): Model;
  /** after reloadConfig succeeded, addProcessGroup/update use this */
  adopt(model: Model): void;
  clearMainLog(): void;
}

const EXIT_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

export class Daemon implements DaemonControl {
  supervisor!: Supervisor;
  model: Model;
  private readonly core: IoCore;
  private readonly clock = new RealClock();
  private log!: MainLog;
  private logSink: LogSink | null = null;
  private http: HttpServers | null = null;
  /** the pid file we wrote our pid into: at exit it goes if it still holds that pid */
  private pidfileWritten: string | null = null;
  private exitCode: ((code: number) => void) | null = null;
  private phase: 'starting' | 'running' | 'stopping' | 'reloading' = 'starting';
  private readonly signalHandlers = new Map<string, () => void>();
  /** keeps descriptors for the control sockets; logs exhaustion episodes */
  private fdGuard: FdGuard | null = null;
  /** a full collection + malloc_trim after a burst grew RSS by half */
  private reclaimer: MemoryReclaimer | null = null;
  /** systemd's NOTIFY_SOCKET, taken out of the environment the children inherit */
  private readonly sd: SystemdNotifier | null;

  constructor(private readonly opts: DaemonOptions) {
    this.model = opts.load();
    // Children's environments are built from process.env at each spawn: with
    // these gone, no child sees NOTIFY_SOCKET / WATCHDOG_* (a program with
    // ready=notify gets a NOTIFY_SOCKET of fastvisor's own).
    this.sd = SystemdNotifier.fromEnv(process.env, process.pid, (m) => this.log?.warn(m));
    this.core = IoCore.start({
      batchMs: this.model.supervisord.capture_lag_ms ?? undefined,
      onEvents: (events) => this.onNative(events),
    });
    // Read once: the socket of every syslog message of this run (src/log/syslog.ts).
    this.core.configureSyslog({ path: syslogSocketPath(process.env), ident: SYSLOG_IDENT });
  }

  get mainLogFile(): string | null {
    return this.model.supervisord.logfile;
  }

  /** Runs until shutdown; resolves with the exit code. */
  async run(): Promise<number> {
    // The I/O thread's wake-ups are unref'd and a config may have no HTTP
    // server: without a handle of its own Node would find nothing to wait
    // for and exit under the running children.
    // It also drives TICK_5/60/3600: supervisord looks at the clock on every
    // pass of its loop, at most a second apart.
    const keepAlive = setInterval(() => {
      this.supervisor?.events.tick(this.clock.wall() / 1000);
      this.fdGuard?.check();
      this.reclaimer?.check();
    }, 1000);
    const done = new Promise<number>((resolve) => (this.exitCode = resolve)).finally(() => clearInterval(keepAlive));
    const s = this.model.supervisord;
    const criticals = this.dropPrivileges();
    const infos = this.raiseLimits();
    this.openMainLog();
    for (const m of criticals) this.log.critical(m);
    for (const m of this.model.warnings) this.log.warn(m);
    for (const m of [...infos, ...this.model.infos]) this.log.info(m);
    this.fdGuard = new FdGuard(this.log, rlimit('nofile').soft);
    // Big freed buffers go back to the system at once (glibc), the rest after a burst.
    tuneMalloc();
    this.reclaimer = new MemoryReclaimer();
    if (process.pid === 1) this.core.reapOrphans(true);
    if (!s.nocleanup) this.cleanupAutoLogs();
    await this.startServices();
    this.installSignals();
    if (this.opts.daemonized) this.log.info('daemonizing the supervisord process');
    if (s.directory && this.opts.daemonized) {
      try {
        process.chdir(s.directory);
        this.log.info(`set current directory: '${s.directory}'`);
      } catch (err) {
        this.log.critical(`can't chdir into '${s.directory}': ${(err as Error).message}`);
      }
    }
    // umask= (and directory=) apply when daemonizing only, as in supervisord's _daemonize.
    if (this.opts.daemonized) process.umask(s.umask);
    this.writePidfile();
    // A daemonized copy tells systemd it is the main process now, before its
    // launcher (the pid systemd started) exits on the status pipe.
    if (this.opts.daemonized) this.sd?.mainPid();
    this.opts.ready();
    this.phase = 'running';
    this.supervisor.start();
    // The sockets answer and every autostart program has been started
    // (spawned or on its way: not necessarily RUNNING; /readyz says that).
    this.sd?.ready(this.sdStatus());
    return done;
  }

  // options.py set_uid_or_exit(); the messages come out once the log exists.
  private dropPrivileges(): string[] {
    const user = this.model.supervisord.user;
    if (user === null) {
      return process.getuid?.() === 0
        ? [
            'Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.',
          ]
        : [];
    }
    const dropped = dropPrivilegesTo(user);
    if (typeof dropped === 'string') throw new UsageError(dropped);
    // supervisord logs self.uid, the number name_to_uid() made of user= ('0' for root).
    this.model.infos.unshift(`Set uid to user ${dropped.uid} succeeded`);
    return [];
  }

  // options.py set_rlimits_or_exit(): only at first start, not on reload.
  private raiseLimits(): string[] {
    const infos: string[] = [];
    const s = this.model.supervisord;
    const limits = [
      {
        name: 'RLIMIT_NOFILE',
        res: 'nofile' as const,
        min: s.minfds,
        msg: (hard: number) =>
          `The minimum number of file descriptors required to run this process is ${s.minfds} as per the "minfds" command-line argument or config file setting. The current environment will only allow you to open ${hard} file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start.`,
      },
      {
        name: 'RLIMIT_NPROC',
        res: 'nproc' as const,
        min: s.minprocs,
        msg: (hard: number) =>
          `The minimum number of available processes required to run this program is ${s.minprocs} as per the "minprocs" command-line argument or config file setting. The current environment will only allow you to open ${hard} processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start.`,
      },
    ];
    for (const l of limits) {
      let { soft, hard } = rlimit(l.res);
      if (soft < l.min && soft !== -1) {
        if (hard < l.min && hard !== -1) hard = l.min;
        try {
          rlimit(l.res, { soft: l.min, hard });
          infos.push(`Increased ${l.name} limit to ${l.min}`);
        } catch {
          throw new UsageError(l.msg(hard));
        }
      }
    }
    return infos;
  }

  private openMainLog(): void {
    const s = this.model.supervisord;
    const sinks: LineSink[] = [];
    if (s.nodaemon && !s.silent && !this.opts.daemonized) sinks.push({ write: (line) => process.stdout.write(line) });
    if (s.logfile === 'syslog') {
      // options.py keeps the magic name as it is; loggers.handle_file makes it a SyslogHandler.
      this.logSink = null;
      sinks.push(syslogLineSink((m) => this.core.syslog(m)));
      this.log = new MainLog(s.loglevel, sinks, () => this.clock.wall());
      return;
    }
    try {
      const rotation = rotationSpec(s.logfile_rotation);
      this.logSink = this.core.openSink(s.logfile, { maxbytes: s.logfile_maxbytes, backups: s.logfile_backups, rotation });
      const sink = this.logSink;
      sinks.push({ write: (line) => sink.write(line) });
    } catch (err) {
      // supervisord dies on an unopenable log file with a traceback; say why instead.
      throw new UsageError(`could not open the log file ${s.logfile}: ${(err as { code?: string }).code ?? String(err)}`);
    }
    this.log = new MainLog(s.loglevel, sinks, () => this.clock.wall());
  }

  private cleanupAutoLogs(): void {
    const s = this.model.supervisord;
    const { failed } = clearAutoChildLogs(s.childlogdir, s.identifier);
    for (const f of failed) this.log.warn(`Failed to clean up ${JSON.stringify(f)}`);
  }

  // /healthz: this answer is the proof. /readyz: every autostart program is up.
  private probe(which: 'healthz' | 'readyz'): { status: number; body: string } {
    if (which === 'healthz') return { status: 200, body: 'ok\n' };
    if (this.supervisor.mood < SupervisorState.RUNNING) return { status: 503, body: 'shutting down\n' };
    const notReady = this.supervisor.notReady();
    if (!notReady.length) return { status: 200, body: 'ready\n' };
    return { status: 503, body: notReady.map((l) => `${l}\n`).join('') };
  }

  private async startServices(): Promise<void> {
    this.supervisor = new Supervisor({
      model: this.model,
      core: this.core,
      clock: this.clock,
      log: this.log,
      // A copy, as Python's os.environ is: enumerating process.env asks getenv()
      // for every variable, and each spawn builds its child's environment from it.
      env: { ...process.env },
      serverurl: this.model.serverurl,
    });
    try {
      this.supervisor.probeFcgiSockets();
    } catch (err) {
      if (err instanceof FcgiSocketError) throw new UsageError(err.message);
      throw err;
    }
    const rpcMetrics = this.model.supervisord.metrics ? new RpcMetrics() : undefined;
    const rpc = createRpcHandler(this, rpcMetrics);
    // performance.timeOrigin: when this process started (ms since the epoch).
    const started = performance.timeOrigin;
    try {
      this.http = await startHttpServers(
        this.model.servers,
        {
          rpc: (body, ctx) => rpc(body, ctx),
          logFile: (name, channel) => logFileFor(this.supervisor, name, channel),
          logSources: (specs) => logSourcesFor(this.supervisor, specs),
          // Twice the spawn reserve stays free: a merged tail gives way to spawns and connections.
          spareDescriptor: () => fdHeadroom(2 * fdReserve() + 1) > 2 * fdReserve(),
          mainLogFile: () => this.mainLogFile,
          probe: (which) => this.probe(which),
          ...(rpcMetrics
            ? { metrics: () => ({ contentType: METRICS_CONTENT_TYPE, body: renderMetrics(this, rpcMetrics, started) }) }
            : {}),
          web: createWebHandler(this),
        },
        (level, msg) => this.log[level](msg),
        { rpcInterfaces: this.model.rpcinterfaces.map((r) => r.name) },
      );
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }

  private installSignals(): void {
    // A bug in one request or one process's handling must not take every
    // supervised program's supervisor down: say what broke, keep running.
    const crash = (what: string) => (err: unknown) =>
      this.log.critical(`${what}: ${(err as Error)?.stack ?? String(err)} (fastvisor keeps running; please report this)`);
    if (!this.signalHandlers.has('uncaughtException')) {
      const onCrash = crash('uncaught exception');
      const onRejection = crash('unhandled rejection');
      process.on('uncaughtException', onCrash);
      process.on('unhandledRejection', onRejection);
      this.signalHandlers.set('uncaughtException', onCrash as () => void);
      this.signalHandlers.set('unhandledRejection', onRejection as () => void);
    }
    const on = (sig: NodeJS.Signals, fn: () => void): void => {
      if (this.signalHandlers.has(sig)) return;
      this.signalHandlers.set(sig, fn);
      process.on(sig, fn);
    };
    for (const sig of EXIT_SIGNALS) {
      on(sig, () => {
        this.log.warn(`received ${sig} indicating exit request`);
        this.shutdown();
      });
    }
    on('SIGHUP', () => {
      if (this.phase === 'stopping') {
        this.log.warn('ignored SIGHUP indicating restart request (shutdown in progress)');
        return;
      }
      this.log.warn('received SIGHUP indicating restart request');
      this.restart();
    });
    on('SIGUSR2', () => {
      this.log.info('received SIGUSR2 indicating log reopen request');
      this.reopenLogs();
    });
    // Node kills itself on SIGPIPE/SIGUSR1 otherwise; supervisord does not.
    on('SIGUSR1', () => this.log.blather('received SIGUSR1 indicating nothing'));
  }

  private reopenLogs(): void {
    try {
      this.logSink?.reopen();
    } catch {
      // the sink reports the fault episode itself
    }
    this.supervisor.reopenLogs();
  }

  private writePidfile(): void {
    const file = this.model.supervisord.pidfile;
    this.pidfileWritten = null;
    const outcome = writePidfile(file, process.pid);
    if (outcome === 'failed') {
      this.log.critical(`could not write pidfile ${file}`);
      return;
    }
    if (outcome !== 'written' && outcome !== 'device') {
      this.log.critical(`could not write pidfile ${file}: it is ${outcome}, not a regular file`);
      return;
    }
    if (outcome === 'written') this.pidfileWritten = file;
    this.log.info(`supervisord started with pid ${process.pid}`);
  }

  private sdStatus(): string {
    const n = this.model.groups.reduce((sum, g) => sum + g.processes.length, 0);
    return `running; ${n} program${n === 1 ? '' : 's'} configured`;
  }

  private onNative(events: NativeEvent[]): void {
    this.supervisor?.handleNative(events);
  }

  shutdown(): void {
    if (this.phase === 'stopping') return;
    const reloading = this.phase === 'reloading';
    this.phase = 'stopping';
    this.sd?.stop();
    // A reload in progress is stopping everything already; it sees the new
    // phase and ends there instead of starting again (as supervisord's mood
    // turns from RESTARTING to SHUTDOWN).
    if (reloading) {
      this.supervisor.setMood(SupervisorState.SHUTDOWN);
      return;
    }
    void this.supervisor.stopAll(SupervisorState.SHUTDOWN).then(() => this.finish(0));
  }

  /**
   * supervisord's restart re-reads the config after stopping everything and
   * exits on a bad one. fastvisor reads it first: a broken config is logged
   * and the running processes are left alone.
   */
  restart(): void {
    if (this.phase !== 'running') return;
    // RELOADING=1 first, READY=1 after, even when the reload is refused: a
    // Type=notify-reload unit waits for that pair after its SIGHUP.
    this.sd?.reloading();
    let next: Model;
    try {
      next = this.opts.load();
    } catch (err) {
      this.log.critical(`restart aborted, the configuration has an error: ${(err as Error).message}`);
      this.sd?.ready(`reload aborted, the configuration has an error; ${this.sdStatus()}`);
      return;
    }
    this.phase = 'reloading';
    void this.supervisor
      .stopAll(SupervisorState.RESTARTING)
      .then(async () => {
        if (this.stopRequested()) return this.finish(0);
        await this.http?.close();
        this.http = null;
        if (this.stopRequested()) return this.finish(0);
        this.supervisor.dispose();
        this.logSink?.close();
        this.model = next;
        this.core.setBatchMs(next.supervisord.capture_lag_ms ?? DEFAULT_CAPTURE_LAG_MS);
        // supervisord's main() runs again on a restart: the same start-up lines.
        const criticals = this.dropPrivileges();
        this.openMainLog();
        for (const m of criticals) this.log.critical(m);
        for (const m of next.warnings) this.log.warn(m);
        for (const m of next.infos) this.log.info(m);
        if (!next.supervisord.nocleanup) this.cleanupAutoLogs();
        await this.startServices();
        this.writePidfile();
        // A TERM while the servers opened: nothing of the new config runs yet.
        if (this.stopRequested()) return this.finish(0);
        this.phase = 'running';
        this.supervisor.start();
        this.sd?.ready(this.sdStatus());
      })
      .catch((err: unknown) => {
        this.log.critical(`restart failed: ${(err as Error).message}`);
        this.finish(2);
      });
  }

  // A method, not `phase === 'stopping'` inline: TypeScript narrows `phase`
  // across the awaits of restart() and would call the check impossible.
  private stopRequested(): boolean {
    return this.phase === 'stopping';
  }

  reread(): Model {
    return this.opts.load();
  }

  adopt(model: Model): void {
    this.model = model;
    this.supervisor.model = model;
  }

  clearMainLog(): void {
    this.logSink?.clear();
  }

  remoteComm(type: string, data: string): void {
    this.supervisor.events.notify({ name: 'REMOTE_COMMUNICATION', type, data });
  }

  private finish(code: number): void {
    this.sd?.stop(code === 0 ? 'shutting down' : `exiting with status ${code}`);
    void (async () => {
      await this.http?.close();
      this.http = null;
      if (this.pidfileWritten) {
        const file = this.pidfileWritten;
        this.pidfileWritten = null;
        if (!removePidfile(file, process.pid)) {
          this.log.warn(`not unlinking pidfile ${file}: it no longer holds pid ${process.pid}`);
        }
      }
      this.supervisor.dispose();
      this.logSink?.close();
      for (const [sig, fn] of this.signalHandlers) process.off(sig as NodeJS.Signals, fn);
      this.core.stop();
      this.sd?.close();
      this.exitCode?.(code);
    })();
  }
}

// options.py drop_privileges() for the daemon itself: the uid, or why not.
function dropPrivilegesTo(user: string): { uid: number } | string {
  let uid: number;
  let name: string;
  let gid: number;
  const pw = lookupPasswd(user);
  if (typeof pw === 'string') return pw;
  ({ uid, name, gid } = pw);
  if (process.getuid!() === uid) return { uid };
  if (process.getuid!() !== 0) return "Can't drop privilege as nonroot user";
  try {
    // Node's own calls: the daemon changes itself, every thread included.
    (process as unknown as { initgroups(user: string, gid: number): void }).initgroups(name, gid);
    process.setgid!(gid);
    process.setuid!(uid);
  } catch (err) {
    return `Could not set user id: ${(err as Error).message}`;
  }
  return { uid };
}

function lookupPasswd(user: string): { uid: number; gid: number; name: string } | string {
  const u = lookupUser(user);
  if (!u) return /^\d+$/.test(user) ? `Can't find uid ${user}` : `Can't find username '${user}'`;
  return { uid: u.uid, gid: u.gid, name: u.name };
}

const O_NOFOLLOW_NONBLOCK = fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isBlockDevice()) return 'a block device';
  return 'a special file';
}

/**
 * options.py write_pidfile(): open(pidfile, 'w'), which follows a symlink and truncates
 * whatever it reaches (and blocks forever on a FIFO). Here only a regular file, or a new
 * one, gets the pid. A character device (pidfile=/dev/null, the usual "no pid file") is
 * left alone: writing to /dev/null does nothing, writing to another device is not ours
 * to do. Returns what happened, or the kind of file refused.
 */
function writePidfile(file: string, pid: number): 'written' | 'device' | 'failed' | string {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    st = null;
  }
  if (st?.isCharacterDevice()) return 'device';
  if (st && !st.isFile()) return kindOf(st);
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink put there since the lstat is refused too (ELOOP).
    fd = openSync(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | O_NOFOLLOW_NONBLOCK, 0o666);
  } catch {
    return 'failed';
  }
  try {
    const now = fstatSync(fd);
    if (!now.isFile()) return now.isCharacterDevice() ? 'device' : kindOf(now);
    ftruncateSync(fd, 0);
    writeSync(fd, `${pid}\n`);
    return 'written';
  } catch {
    return 'failed';
  } finally {
    closeSync(fd);
  }
}

/**
 * options.py cleanup() unlinks the pid file whatever it has become. Here only while it is
 * a regular file that still holds our pid: another daemon may have taken the path over,
 * or the path may name something that was never a pid file. False when it was left.
 */
function removePidfile(file: string, pid: number): boolean {
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | O_NOFOLLOW_NONBLOCK);
  } catch (err) {
    // Already gone is fine; a symlink (ELOOP) or anything unreadable is left.
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  let ours = false;
  try {
    const buf = Buffer.alloc(64);
    const n = fstatSync(fd).isFile() ? readSync(fd, buf, 0, buf.length, 0) : 0;
    ours = n > 0 && buf.toString('latin1', 0, n).trim() === String(pid);
  } catch {
    ours = false;
  } finally {
    closeSync(fd);
  }
  if (!ours) return false;
  try {
    unlinkSync(file);
  } catch {
    // gone meanwhile
  }
  return true;
}
