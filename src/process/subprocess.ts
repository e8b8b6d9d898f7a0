// SPDX-License-Identifier: MIT
// One supervised process: feeds its pure state machine (machine.ts) and
// carries out the effects through the native core: spawn, kill, timers, log
// lines, state-change events. supervisord's process.py Subprocess, minus the
// decisions, which all live in machine.ts.
import { readFileSync } from 'node:fs';

import { EnvFileError, readEnvFiles } from '../config/env-file.js';
import type { LineFormat, ProcessConfig } from '../config/model.js';
import { createAutoLogName, logfilePath } from '../log/channel-spec.js';
import { channelLineFormat } from '../log/line-format.js';
import { rotationSpec } from '../log/rotation.js';
import type { MainLog } from '../log/main-log.js';
import { lookupUser, type IoCore, type LogSink, type NativeError, type Spawned, type SpawnRequest } from '../native/index.js';
import type { Clock, Timer } from './clock.js';
import { processKey } from './dependencies.js';
import { commandProbe, type CheckChild } from './health-command.js';
import { healthNote, healthOptions, HealthMonitor, type Health, type HealthStatus } from './health.js';
import { httpProbe, tcpProbe, type Probe } from './health-probes.js';
import {
  backoffNote,
  decodeWaitStatus,
  initialStatus,
  signame,
  step,
  type EmitEffect,
  type Effect,
  type MachineConfig,
  type MachineEvent,
  type ProcessStatus,
} from './machine.js';
import { oomCause, wantsCgroup } from './cgroup-plan.js';
import { FcgiSocketError, type FcgiSocket } from './fcgi-sockets.js';
import type { Cgroups, ProcessCgroup } from './cgroups.js';
import { LineMatcher, readNotify, readyPattern } from './readiness.js';
import { machineConfigFor, ProgramSchedule, scheduleNote, type LastExit } from './schedule.js';
import { childEnvironment, execArgs, pathForConfig, SpawnRefused } from './spawn-plan.js';
import { ProcessState } from './states.js';

/** What a process needs from the daemon around it. */
export interface ProcessHost {
  readonly core: IoCore;
  readonly clock: Clock;
  readonly log: MainLog;
  /** the daemon's environment, which children inherit */
  readonly env: Record<string, string | undefined>;
  /** options.serverurl: the default SUPERVISOR_SERVER_URL */
  readonly serverurl: string | null;
  readonly childlogdir: string;
  readonly identifier: string;
  readonly stripAnsi: boolean;
  /** [supervisord] child_log_format (fastvisor): for channels logging to the daemon's stdout/stderr; raw when absent */
  readonly childLogFormat?: LineFormat;
  /** native child handle -> process, so exits find their way back */
  register(child: number, proc: Subprocess): void;
  /** a PROCESS_STATE_* change, for the event system */
  stateChanged(proc: Subprocess, change: EmitEffect): void;
  /** how a channel's bytes travel (event-hub.ts) */
  route(proc: Subprocess, channel: 'stdout' | 'stderr'): { tap: boolean; nativeSink: boolean; raw?: boolean };
  /** the child runs (its output may follow) */
  spawned(proc: Subprocess): void;
  /** depends_on: the answer now, or null (then it is fed later) */
  awaitDependencies(proc: Subprocess, pull: boolean): MachineEvent | null;
  /** depends_on: what a waiting start waits for, for the description */
  dependencyNote(proc: Subprocess): string | null;
  /** the health check's verdict changed */
  healthChanged(proc: Subprocess, now: HealthStatus, before: HealthStatus): void;
  /** ready=notify: a fresh socket path for this process (the daemon's notify directory) */
  notifySocketPath(proc: Subprocess): string;
  /** ready=notify: datagrams on this socket id come to this process */
  notifyRoute(socket: number, proc: Subprocess | null): void;
  /** a helper child (a health check command): its exit and output go to handler */
  adopt(child: number, handler: CheckChild): void;
  /** cgroups (fastvisor): detected at the first process that asks */
  readonly cgroups: Cgroups;
}

type Channel = 'stdout' | 'stderr';

const SIGKILL = 9;
/** Removal retries of an emptied cgroup whose processes are still on their way out: 100 x 50 ms. */
const CGROUP_REMOVE_TRIES = 100;
const CGROUP_REMOVE_RETRY_MS = 50;

export class Subprocess {
  status: ProcessStatus = initialStatus;
  /** the native handle of the current child, or 0 */
  child = 0;
  /** children started since this process was created (the daemon's start, or its group's add): restarts are the ones after the first */
  spawns = 0;
  /** exit status of the last child reaped (-1 for a signal), kept across spawns; null before any */
  lastExitStatus: number | null = null;
  /** processes of its cgroup the OOM killer took, counted at each exit of the main child, across spawns */
  oomKills = 0;
  /** resolved log file paths (AUTO turned into a file in childlogdir), null for none */
  readonly logfiles: Record<Channel, string | null>;
  private readonly sinks: Record<Channel, LogSink | null> = { stdout: null, stderr: null };
  private timer: Timer | null = null;
  private readonly queue: MachineEvent[] = [];
  private draining = false;
  private removed = false;
  /** spawnAsync was called and its outcome has not arrived yet */
  private spawnInFlight = false;
  /** startNow(): this start spawns synchronously */
  private spawnNow = false;
  /** what step() sees: the config, or a scheduled program's derived one (schedule.ts) */
  private readonly machineConfig: ProcessConfig;
  /** `schedule=`: null without it; runs from startSchedule() to stopSchedule() */
  private readonly schedule: ProgramSchedule | null;
  /** how the last child ended, for a scheduled program's description */
  private lastExit: LastExit | null = null;
  /** healthcheck= (fastvisor): runs while RUNNING */
  private readonly healthMonitor: HealthMonitor | null;
  /** ready=log: one matcher per channel while STARTING; null once ready */
  private matchers: Partial<Record<Channel, LineMatcher>> | null = null;
  /** the event system taps this channel anyway: keep the tap on after a match */
  private hubTaps: Record<Channel, boolean> = { stdout: false, stderr: false };
  /** ready=notify: the socket (opened at the first spawn, kept across restarts) */
  private notify: { id: number; path: string } | null = null;
  /** sd_notify STATUS= / MAINPID= / STOPPING=1 of the current child */
  private notified: { status: string | null; mainpid: number | null; stopping: boolean } = { status: null, mainpid: null, stopping: false };
  private watchdog: Timer | null = null;
  /** the current (or last, until removed) child's cgroup; null without cgroup options */
  private cgroup: ProcessCgroup | null = null;
  /** retrying the removal of an emptied cgroup whose processes are still dying */
  private cgroupRemoval: Timer | null = null;
  /** `killed by the OOM killer (…)` for the description, until the next start */
  private oomNote: string | null = null;
  /** fcgi-program: this process holds a reference to its group's socket (from before a spawn to the child's exit) */
  private fcgiHeld = false;

  constructor(
    readonly config: ProcessConfig,
    readonly groupName: string,
    private readonly host: ProcessHost,
    /** [fcgi-program:x]: the group's socket, the child's fd 0 */
    private readonly fcgiSocket: FcgiSocket | null = null,
  ) {
    this.logfiles = {
      stdout: this.resolveLogfile('stdout'),
      // An AUTO stderr file exists even with redirect_stderr, as in supervisord
      // (create_autochildlogs); it just stays empty.
      stderr: this.resolveLogfile('stderr'),
    };
    this.machineConfig = withFastvisorRules(machineConfigFor(config));
    this.healthMonitor = this.makeHealthMonitor();
    this.schedule = ProgramSchedule.forConfig(config, host.clock, {
      name: config.name,
      status: () => this.status,
      start: () => this.feed({ kind: 'start' }),
      log: (level, message) => host.log[level](message),
    });
  }

  get name(): string {
    return this.config.name;
  }

  get state(): ProcessState {
    return this.status.state;
  }

  get pid(): number {
    return this.status.pid;
  }

  /** `group:name`: the dependency graph's key */
  get key(): string {
    return processKey(this.groupName, this.config.name);
  }

  /** The health check's verdict; null without a health check. */
  get health(): Health | null {
    return this.healthMonitor ? this.healthMonitor.status.health : null;
  }

  get healthStatus(): HealthStatus | null {
    return this.healthMonitor?.status ?? null;
  }

  /**
   * Feeds one event and everything it leads to. Returns the error of that
   * event's own step (kill/signal failures, as process.py's return values).
   * While a spawn is in flight (the native spawn thread has not answered yet)
   * events wait, in order, and run once the outcome has been fed: the machine
   * sees a spawn as one step, as in supervisord, where fork() returns before
   * anything else can happen.
   */
  feed(event: MachineEvent): string | null {
    if (this.draining || this.spawnInFlight) {
      // One pending tick is as good as many.
      if (event.kind !== 'tick' || !this.queue.some((e) => e.kind === 'tick')) this.queue.push(event);
      return null;
    }
    return this.drain(event);
  }

  /**
   * stop_report() as stopProcess(wait=True) polls it. supervisord reaps right
   * after each kill (stopProcess calls reap()) and so never reports a child
   * that died by then; here exits arrive from the I/O thread a moment later,
   * so a child that has exited already (the same waitpid() would find it)
   * counts as stopped and gets no "waiting for x to stop".
   */
  stopReport(): void {
    const pid = this.pid;
    if (this.state === ProcessState.STOPPING && pid > 0 && this.host.core.childExited(pid)) return;
    this.feed({ kind: 'stopReport' });
  }

  /**
   * startProcess's start: the spawn runs on this thread, as in supervisord,
   * so the caller sees its outcome at once. Automatic starts and restarts
   * (autostart, autorestart, backoff, schedules) use the spawn thread, so a
   * crash loop never stalls the daemon.
   */
  startNow(): string | null {
    this.spawnNow = true;
    try {
      return this.feed({ kind: 'start' });
    } finally {
      this.spawnNow = false;
    }
  }

  private drain(event: MachineEvent): string | null {
    this.draining = true;
    let first: string | null | undefined;
    try {
      let next: MachineEvent | undefined = event;
      while (next) {
        const s = step(this.machineConfig, this.status, next, this.host.clock.now(), Math.random());
        this.status = s.status;
        if (first === undefined) first = s.error;
        for (const effect of s.effects) this.apply(effect);
        next = this.spawnInFlight ? undefined : this.queue.shift();
      }
    } finally {
      this.draining = false;
    }
    this.settleFcgi();
    return first ?? null;
  }

  private apply(effect: Effect): void {
    switch (effect.kind) {
      case 'spawn':
        this.spawn();
        return;
      case 'awaitDependencies': {
        const answer = this.host.awaitDependencies(this, effect.pull);
        if (answer) this.queue.push(answer);
        return;
      }
      case 'kill':
        this.kill(effect.pid, effect.signal, effect.group, effect.purpose);
        return;
      case 'startTimer':
        this.timer?.cancel();
        this.timer = this.host.clock.setTimer(effect.at, () => {
          this.timer = null;
          if (!this.removed) this.feed({ kind: 'tick' });
        });
        return;
      case 'cancelTimer':
        this.timer?.cancel();
        this.timer = null;
        return;
      case 'emit':
        this.stateEntered(effect);
        this.host.stateChanged(this, effect);
        return;
      case 'log':
        this.host.log[effect.level](effect.message);
        return;
    }
  }

  // process.py spawn() from get_execv_args on; the machine already moved to STARTING.
  private spawn(): void {
    const { config, host } = this;
    // fcgi-program: the group's socket first, as FastCGISubprocess's
    // before_spawn; every way this spawn fails gives the reference back.
    let stdinFd: number | undefined;
    if (this.fcgiSocket) {
      try {
        // Still held across an automatic restart (settleFcgi): no moment without the socket.
        if (!this.fcgiHeld) this.fcgiSocket.acquire();
        this.fcgiHeld = true;
        stdinFd = this.fcgiSocket.descriptor;
      } catch (err) {
        if (!(err instanceof FcgiSocketError)) throw err;
        this.queue.push({ kind: 'spawnFailed', message: err.message });
        return;
      }
    }
    // environment_file (fastvisor): read at every spawn, so an edit applies at
    // the next start; a bad or missing file is this start's spawn error.
    let fileEnv: Record<string, string>;
    try {
      fileEnv = this.fileEnvironment();
    } catch (err) {
      if (!(err instanceof EnvFileError)) throw err;
      this.refuse(err.message);
      return;
    }
    let args;
    try {
      args = execArgs(config.command, pathForConfig(host.env, config, fileEnv));
    } catch (err) {
      if (!(err instanceof SpawnRefused)) throw err;
      this.refuse(err.message);
      return;
    }
    try {
      this.openSinks();
    } catch (err) {
      const code = (err as NativeError).code ?? String(err);
      // One of the two may be open: keep neither while this start fails.
      this.closeSinks();
      this.refuse(code === 'EMFILE' ? `too many open files to spawn '${config.name}'` : `unknown error making dispatchers for '${config.name}': ${code}`);
      return;
    }
    const user = this.resolveUser();
    if (typeof user === 'string') {
      // supervisord forks and the child reports this on stderr before exiting
      // 127; without a fork there is no pid to report, so it is a spawn error.
      this.refuse(user);
      return;
    }
    const out = host.route(this, 'stdout');
    const err = host.route(this, 'stderr');
    const env = childEnvironment(host.env, config, this.groupName, host.serverurl, fileEnv);
    const ready = this.prepareReadiness(env, typeof user === 'object' && user ? user : null);
    if (typeof ready === 'string') {
      this.refuse(ready);
      return;
    }
    const cgroup = this.prepareCgroup();
    if (typeof cgroup === 'string') {
      this.refuse(cgroup);
      return;
    }
    const matchOutput = this.matchers !== null;
    this.hubTaps = { stdout: out.tap, stderr: err.tap };
    const req: SpawnRequest = {
      file: args.filename,
      argv: args.argv,
      env,
      ...(config.directory !== null ? { cwd: config.directory } : {}),
      ...(config.umask !== null ? { umask: config.umask } : {}),
      ...(user ? { user } : {}),
      processGroup: 'group',
      // ready=log: lines cross into JS only until the first match (then setTap off).
      stdout: { mode: 'pipe', sink: out.nativeSink ? this.sinks.stdout : null, tap: out.tap || matchOutput, stripAnsi: host.stripAnsi && !out.raw, syslog: out.nativeSink ? this.syslogPrefix('stdout') : null },
      stderr: config.redirect_stderr
        ? 'stdout'
        : { mode: 'pipe', sink: err.nativeSink ? this.sinks.stderr : null, tap: err.tap || matchOutput, stripAnsi: host.stripAnsi, syslog: err.nativeSink ? this.syslogPrefix('stderr') : null },
      ...(cgroup ? { cgroup: cgroup.request() } : {}),
      ...(stdinFd !== undefined ? { stdinFd } : {}),
    };
    if (this.spawnNow) {
      // startProcess: on this thread, as supervisord forks, so the reply can
      // tell at once (startsecs=0 is RUNNING before the reply, spawn errors
      // answer SPAWN_ERROR) and results come in supervisord's order. Inside
      // this drain, so the outcome is the next event it takes.
      let events: MachineEvent[];
      try {
        events = this.spawned(host.core.spawn(req));
      } catch (e) {
        if (!(e instanceof Error) || (e as NativeError).stage === undefined) throw e;
        events = this.spawnFailed(e as NativeError, args.argv[0]!);
      }
      this.queue.unshift(...events);
      return;
    }
    host.core.spawnAsync(req, (outcome) => {
      this.spawnInFlight = false;
      const events = outcome.ok ? this.spawned(outcome.spawned) : this.spawnFailed(outcome.error, args.argv[0]!);
      // The outcome goes before whatever waited for it.
      this.queue.unshift(...events);
      if (this.draining) return; // the running drain takes them
      const next = this.queue.shift();
      if (next) this.drain(next);
    });
    // After the call: it throws on misuse, and never answers synchronously.
    this.spawnInFlight = true;
  }

  // This spawn cannot go ahead: the machine hears why (spawnerr), the socket reference goes back.
  private refuse(message: string): void {
    this.releaseFcgi();
    this.queue.push({ kind: 'spawnFailed', message });
  }

  /**
   * fcgi-program: the reference goes back once the process is at rest
   * (STOPPED, EXITED, FATAL) with no child and no spawn coming. supervisord
   * lets go at every exit (FastCGISubprocess.finish), so a lone process that
   * crashes and restarts closes and makes its socket again and connections
   * in between are refused; here a process in BACKOFF or restarting keeps it.
   */
  private settleFcgi(): void {
    if (!this.fcgiHeld || this.child !== 0 || this.spawnInFlight) return;
    const s = this.state;
    if (s === ProcessState.STOPPED || s === ProcessState.EXITED || s === ProcessState.FATAL) this.releaseFcgi();
  }

  private releaseFcgi(): void {
    if (!this.fcgiHeld) return;
    this.fcgiHeld = false;
    this.fcgiSocket?.release();
  }

  private spawned(spawned: Spawned): MachineEvent[] {
    if (this.removed) {
      // Removed while the spawn was in flight: nobody supervises this child.
      this.host.core.kill(spawned.pid, 'SIGKILL', true);
      this.releaseFcgi();
      return [];
    }
    this.child = spawned.child;
    this.spawns += 1;
    this.host.register(spawned.child, this);
    this.host.spawned(this);
    return [{ kind: 'spawned', pid: spawned.pid }];
  }

  private spawnFailed(e: NativeError, argv0: string): MachineEvent[] {
    const { config } = this;
    // Nothing ran in it (a child that failed before exec is reaped already).
    this.releaseCgroup();
    this.releaseFcgi();
    if (e.pid !== undefined) {
      // Failed after fork (setuid, chdir, exec): as supervisord's child, say
      // why on stderr, then the child is gone with 127.
      // _spawn_as_child's words: an exec failure names argv[0] and the errno.
      const why = e.stage === 'exec' ? `couldn't exec ${argv0}: ${e.code}` : e.message;
      this.writeLog(config.redirect_stderr ? 'stdout' : 'stderr', `supervisor: ${why}\nsupervisor: child process was not spawned\n`);
      if (this.schedule) this.lastExit = this.exitNote({ code: 127, signal: null });
      this.spawns += 1;
      this.lastExitStatus = 127;
      return [
        { kind: 'spawned', pid: e.pid },
        { kind: 'exited', pid: e.pid, code: 127, signal: null },
      ];
    }
    let message: string;
    if (e.code === 'EAGAIN') message = `Too many processes in process table to spawn '${config.name}'`;
    else if (e.code === 'EMFILE' || e.code === 'ENFILE') {
      message = `too many open files to spawn '${config.name}'`;
      // Out of descriptors: a process that cannot start holds none (its log
      // files reopen at the next try), as supervisord keeps none open for it.
      this.closeSinks();
    } else if (e.stage === 'fork') message = `unknown error during fork for '${config.name}': ${e.code}`;
    else message = `unknown error making dispatchers for '${config.name}': ${e.code}`;
    return [{ kind: 'spawnFailed', message }];
  }

  /**
   * getProcessInfo's description: supervisord's (`base`), plus what only
   * fastvisor knows (a backoff wait, a schedule), after a '; '. Without the
   * fastvisor-only options it is `base` unchanged.
   */
  describe(base: string, now: number, wall: number): string {
    const notes = this.descriptionNotes(now, wall);
    if (!notes.length) return base;
    return base ? `${base}; ${notes.join('; ')}` : notes.join('; ');
  }

  private descriptionNotes(now: number, wall: number): string[] {
    const notes: string[] = [];
    const waiting = this.status.waiting ? this.host.dependencyNote(this) : null;
    if (waiting) notes.push(waiting);
    if (this.status.pid) {
      if (this.notified.status) notes.push(this.notified.status);
      if (this.notified.mainpid !== null) notes.push(`main pid ${this.notified.mainpid}`);
      if (this.notified.stopping) notes.push('stopping');
      if (this.matchers && this.config.fastvisor.ready.kind === 'log') notes.push('waiting for its ready line');
      if (this.state === ProcessState.STARTING && this.config.fastvisor.ready.kind === 'notify' && !this.notified.status) notes.push('waiting for READY=1');
    }
    if (this.oomNote && !this.status.pid) notes.push(this.oomNote);
    const health = this.healthMonitor ? healthNote(this.healthMonitor.status) : null;
    if (health) notes.push(health);
    const scheduled = this.scheduleNote(wall);
    if (scheduled) notes.push(scheduled);
    // a backoff or restart_delay wait: `exited 3 times in 2 min; next start in 32 s`
    const backingOff = backoffNote(this.machineConfig, this.status, now);
    if (backingOff) notes.push(backingOff);
    return notes;
  }

  /** `next run 2026-12-06 10:05:00 CET, last exit 0 at 10:00:03`; null without a schedule. */
  private scheduleNote(wall: number): string | null {
    if (!this.schedule) return null;
    return scheduleNote(this.schedule.next, this.lastExit, wall, this.schedule.timeZone) || null;
  }

  /** The schedule runs (ProcessGroup.transition(): at start-up, or when the group is added). */
  startSchedule(): void {
    if (!this.removed) this.schedule?.start();
  }

  /** No more scheduled runs: shutdown, reload, removal. */
  stopSchedule(): void {
    this.schedule?.stop();
  }

  /** The environment_file values now (throws EnvFileError); {} without the option. */
  fileEnvironment(): Record<string, string> {
    const files = this.config.fastvisor.environment_file;
    return files.length ? readEnvFiles(files) : {};
  }

  /** The PATH a spawn would search now: startProcess checks the command with it first. */
  searchPath(): string[] {
    let fileEnv: Record<string, string> = {};
    try {
      fileEnv = this.fileEnvironment();
    } catch {
      // the spawn itself reports a bad file
    }
    return pathForConfig(this.host.env, this.config, fileEnv);
  }

  // options.py drop_privileges(), the parent's half: nothing to do for the
  // daemon's own uid; a non-root daemon cannot become anyone else.
  private resolveUser(): { uid: number; gid: number; groups: number[] } | null | string {
    const name = this.config.user;
    if (name === null) return null;
    const u = lookupUser(name);
    if (!u) return /^\d+$/.test(name) ? `couldn't setuid to ${name}: Can't find uid ${name}` : `couldn't setuid to ${name}: Can't find username '${name}'`;
    const me = process.getuid?.() ?? 0;
    if (u.uid === me) return null;
    if (me !== 0) return `couldn't setuid to ${u.uid}: Can't drop privilege as nonroot user`;
    // Primary gid first, as supervisord orders setgroups().
    const groups = [u.gid, ...u.groups.filter((g) => g !== u.gid)];
    return { uid: u.uid, gid: u.gid, groups };
  }

  private resolveLogfile(channel: Channel): string | null {
    const setting = channel === 'stdout' ? this.config.stdout_logfile : this.config.stderr_logfile;
    return logfilePath(setting, () => createAutoLogName(this.host.childlogdir, this.config.name, channel, this.host.identifier));
  }

  // The files stay open across restarts (supervisord reopens them at every
  // spawn, in append mode: the same bytes end up in the same file).
  private openSinks(): void {
    for (const channel of ['stdout', 'stderr'] as const) {
      const file = channel === 'stderr' && this.config.redirect_stderr ? null : this.logfiles[channel];
      if (!file || (this.sinks[channel] && !this.sinks[channel].closed)) continue;
      const c = this.config;
      this.sinks[channel] = this.host.core.openSink(file, {
        maxbytes: channel === 'stdout' ? c.stdout_logfile_maxbytes : c.stderr_logfile_maxbytes,
        backups: channel === 'stdout' ? c.stdout_logfile_backups : c.stderr_logfile_backups,
        format: channelLineFormat(c, this.groupName, channel, file, this.host.childLogFormat) ?? undefined,
        rotation: rotationSpec(channel === 'stdout' ? c.fastvisor.stdout_logfile_rotation : c.fastvisor.stderr_logfile_rotation),
      });
    }
  }

  private kill(pid: number, signal: number, group: boolean, purpose: 'kill' | 'signal'): void {
    try {
      // kill_mode=cgroup: a stop or kill reaches every process of the cgroup,
      // however it was forked; the main pid still answers for ESRCH.
      if (purpose === 'kill' && this.cgroup && this.config.fastvisor.kill_mode === 'cgroup') {
        const alive = this.host.core.kill(pid, signal, true);
        if (signal === SIGKILL) this.cgroup.kill();
        else this.cgroup.signal(signal);
        if (!alive) this.queue.push({ kind: 'killFailed', purpose, code: 'ESRCH', message: `[Errno 3] No such process` });
        return;
      }
      if (!this.host.core.kill(pid, signal, group)) {
        this.queue.push({ kind: 'killFailed', purpose, code: 'ESRCH', message: `[Errno 3] No such process` });
      }
    } catch (err) {
      const e = err as NativeError;
      this.queue.push({ kind: 'killFailed', purpose, code: e.code ?? 'EIO', message: e.message });
    }
  }

  /** The child was reaped (native exit event). */
  exited(e: { pid: number; code: number | null; signal: number | null; coreDumped: boolean }): void {
    this.child = 0;
    const cause = e.pid === this.pid ? this.cgroupExited(e.signal) : undefined;
    if (e.pid === this.pid) this.lastExitStatus = decodeWaitStatus(e)[0];
    if (this.schedule && e.pid === this.pid) this.lastExit = this.exitNote(e);
    // cause is only ever the OOM killer's (cgroupExited)
    this.feed({ kind: 'exited', pid: e.pid, code: e.code, signal: e.signal, coreDumped: e.coreDumped, ...(cause ? { cause, oomKilled: true } : {}) });
  }

  // ---- fastvisor: cgroups --------------------------------------------------

  /** The memory of the process's cgroup while it has one (the figure memory_max is held against); else null. */
  cgroupMemory(): number | null {
    return this.cgroup && this.pid ? this.cgroup.memoryBytes() : null;
  }

  /** The cgroup for this spawn (limits written), null without cgroup options, or why it cannot be made. */
  private prepareCgroup(): ProcessCgroup | null | string {
    const f = this.config.fastvisor;
    if (!wantsCgroup(f.cgroup, f.kill_mode)) return null;
    this.cgroupRemoval?.cancel();
    this.cgroupRemoval = null;
    this.oomNote = null;
    const cg = this.host.cgroups.prepare(this.groupName, this.config.name, f.cgroup, f.kill_mode);
    if (typeof cg === 'string') return cg;
    this.cgroup = cg;
    return cg;
  }

  // The main process is gone: OOM kills are told as such, kill_mode=cgroup
  // takes whatever it left behind, and the cgroup goes once empty.
  private cgroupExited(signal: number | null): string | undefined {
    const cg = this.cgroup;
    if (!cg) return undefined;
    let cause: string | undefined;
    const ooms = cg.oomKillsSinceSpawn();
    if (ooms > 0) {
      this.oomKills += ooms;
      const why = oomCause(cg.limits);
      if (signal === SIGKILL) {
        cause = why;
        this.oomNote = why;
      }
      this.host.log.warn(`oom: ${this.config.name}: ${ooms === 1 ? '1 process' : `${ooms} processes`} of its cgroup ${why}`);
    }
    if (this.config.fastvisor.kill_mode === 'cgroup') {
      try {
        cg.kill();
      } catch (err) {
        this.host.log.warn(`cgroup of ${this.config.name}: ${(err as Error).message}`);
      }
    }
    this.releaseCgroup();
    return cause;
  }

  /** A cgroup removal is still being retried (shutdown waits for it, briefly). */
  get cgroupPending(): boolean {
    return this.cgroupRemoval !== null;
  }

  // Killed processes leave their cgroup a moment after the signal: retry the
  // removal on a timer, for a while. With kill_mode=group a daemonized
  // grandchild may stay for good; its cgroup then stays (and is reused).
  private releaseCgroup(attempt = 0): void {
    const cg = this.cgroup;
    if (!cg) return;
    if (cg.remove()) {
      this.cgroup = null;
      this.cgroupRemoval = null;
      return;
    }
    if (attempt >= CGROUP_REMOVE_TRIES) {
      this.cgroupRemoval = null;
      this.host.log.warn(`cgroup of ${this.config.name} not removed: processes are left in ${cg.plan.dirs.join(', ')}${this.config.fastvisor.kill_mode === 'cgroup' ? '' : ' (kill_mode=cgroup would stop them too)'}`);
      return;
    }
    const clock = this.host.clock;
    this.cgroupRemoval = clock.setTimer(clock.now() + CGROUP_REMOVE_RETRY_MS, () => {
      this.cgroupRemoval = null;
      if (this.cgroup === cg && !this.child) this.releaseCgroup(attempt + 1);
    });
  }

  /**
   * Output that JS handles (capture mode, a spawn failure's words) goes where
   * the native side sends a channel's bytes: the file, then syslog.
   */
  writeLog(channel: Channel, data: Buffer | string, pid?: number): void {
    this.sinks[channel]?.write(data, pid);
    const prefix = this.syslogPrefix(channel);
    if (prefix !== null) this.host.core.syslog(data, prefix);
  }

  /** dispatchers.py: a channel with *_syslog logs each line as "<name> <line>". */
  private syslogPrefix(channel: Channel): string | null {
    return (channel === 'stdout' ? this.config.stdout_syslog : this.config.stderr_syslog) ? this.config.name : null;
  }

  sink(channel: Channel): LogSink | null {
    return this.sinks[channel];
  }

  /**
   * fastvisor: rotates every open log of the process now (fastvisorctl
   * rotate). The files rotated, or the first error (a NativeError).
   */
  rotateLogs(): string[] {
    const done: string[] = [];
    for (const s of Object.values(this.sinks)) {
      if (!s || s.closed) continue;
      s.rotate();
      done.push(s.path);
    }
    return done;
  }

  reopenLogs(): void {
    for (const s of Object.values(this.sinks)) {
      try {
        s?.reopen();
      } catch {
        // the sink reports its own fault episode
      }
    }
  }

  // A stop someone asked for ends the run as expected; otherwise exitcodes say, as in finish().
  private exitNote(e: { code: number | null; signal: number | null }): LastExit {
    const [status] = decodeWaitStatus(e);
    const stopping = this.state === ProcessState.STOPPING;
    return {
      how: e.code === null && e.signal !== null ? signame(e.signal) : status,
      expected: stopping || this.config.exitcodes.includes(status),
      wall: this.host.clock.wall(),
    };
  }

  private closeSinks(): void {
    for (const channel of ['stdout', 'stderr'] as const) {
      this.sinks[channel]?.close();
      this.sinks[channel] = null;
    }
  }

  /** removeProcessGroup / shutdown: no more timers, files closed. */
  dispose(): void {
    this.removed = true;
    this.schedule?.stop();
    this.timer?.cancel();
    this.timer = null;
    this.healthMonitor?.dispose();
    this.watchdog?.cancel();
    this.watchdog = null;
    this.closeNotify();
    for (const s of Object.values(this.sinks)) s?.close();
    this.cgroupRemoval?.cancel();
    this.cgroupRemoval = null;
    if (this.cgroup && !this.child && this.cgroup.remove()) this.cgroup = null;
  }

  // ---- fastvisor: readiness, health, watchdog ------------------------------

  // Before each spawn: ready=notify opens the socket (once) and tells the
  // child where it is; ready=log: arms the line matchers. A string is why the
  // spawn cannot go ahead.
  private prepareReadiness(env: Record<string, string>, owner: { uid: number; gid: number } | null): string | null {
    const ready = this.config.fastvisor.ready;
    this.notified = { status: null, mainpid: null, stopping: false };
    this.matchers = null;
    if (ready.kind === 'log') {
      const pattern = readyPattern(ready.pattern);
      this.matchers = { stdout: new LineMatcher(pattern) };
      if (!this.config.redirect_stderr) this.matchers.stderr = new LineMatcher(pattern);
    } else if (ready.kind === 'notify') {
      if (!this.notify) {
        const path = this.host.notifySocketPath(this);
        try {
          const id = this.host.core.openNotify(path, owner ?? undefined);
          this.notify = { id, path };
          this.host.notifyRoute(id, this);
        } catch (err) {
          return `cannot create the notify socket ${path} for '${this.config.name}': ${(err as NativeError).code ?? String(err)}`;
        }
      }
      env.NOTIFY_SOCKET = this.notify.path;
      const wd = this.config.fastvisor.watchdog_sec;
      if (wd > 0) env.WATCHDOG_USEC = String(Math.round(wd * 1e6));
    }
    return null;
  }

  private closeNotify(): void {
    if (!this.notify) return;
    this.host.notifyRoute(this.notify.id, null);
    this.host.core.closeNotify(this.notify.id);
    this.notify = null;
  }

  /** Tapped output (ready=log: until the first match). */
  sawOutput(channel: Channel, data: Buffer): void {
    const m = this.matchers?.[channel];
    if (!m || this.state !== ProcessState.STARTING || !this.status.pid) return;
    const line = m.feed(data);
    if (line === null) return;
    const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
    this.feed({ kind: 'ready', how: `its output matched the ready pattern: ${JSON.stringify(shown)}` });
  }

  /**
   * A datagram on this process's notify socket. Accepted from the child, the
   * MAINPID it named, or anything in its process group (systemd's
   * NotifyAccess=main, widened to the group so a wrapper script's program
   * counts); sender 0 is an OS that does not say (not Linux).
   */
  notifyDatagram(data: Buffer, sender: number): void {
    if (!this.status.pid || (this.state !== ProcessState.STARTING && this.state !== ProcessState.RUNNING)) return;
    if (sender !== 0 && sender !== this.status.pid && sender !== this.notified.mainpid && processGroupOf(sender) !== this.status.pid) {
      this.host.log.debug(`ignored a notify message for ${this.config.name} from pid ${sender}, outside its process group`);
      return;
    }
    const m = readNotify(data.toString('utf8'));
    if (m.status !== null) this.notified.status = m.status || null;
    if (m.mainpid !== null) this.notified.mainpid = m.mainpid;
    if (m.stopping) this.notified.stopping = true;
    if (m.ready) this.feed({ kind: 'ready', how: 'it sent READY=1' });
    if (m.watchdog) this.armWatchdog();
    if (m.watchdogTrigger) this.feed({ kind: 'restart', reason: 'it sent WATCHDOG=trigger' });
  }

  // WATCHDOG=1 must come every watchdog_sec once RUNNING (systemd's WatchdogSec=).
  private armWatchdog(): void {
    const wd = this.config.fastvisor.watchdog_sec;
    if (wd <= 0 || this.state !== ProcessState.RUNNING) return;
    this.watchdog?.cancel();
    const clock = this.host.clock;
    this.watchdog = clock.setTimer(clock.now() + wd * 1000, () => {
      this.watchdog = null;
      if (this.removed || this.state !== ProcessState.RUNNING) return;
      this.feed({ kind: 'restart', reason: `no WATCHDOG=1 for ${wd} seconds (watchdog_sec)` });
    });
  }

  // Whatever the step's states were, these follow the state entered.
  private stateEntered(effect: EmitEffect): void {
    if (effect.event === 'PROCESS_STATE_RUNNING') {
      this.readinessDone();
      this.healthMonitor?.start();
      this.armWatchdog();
    } else if (effect.from_state === 'RUNNING' || effect.event !== 'PROCESS_STATE_STARTING') {
      this.healthMonitor?.stop();
      this.watchdog?.cancel();
      this.watchdog = null;
      if (effect.event !== 'PROCESS_STATE_STARTING') this.readinessDone();
    }
  }

  // The matchers are done: output goes back to the native path alone.
  private readinessDone(): void {
    if (!this.matchers) return;
    this.matchers = null;
    if (!this.child) return;
    for (const channel of ['stdout', 'stderr'] as const) {
      if (channel === 'stderr' && this.config.redirect_stderr) continue;
      if (!this.hubTaps[channel]) this.host.core.setTap(this.child, channel, false);
    }
  }

  private makeHealthMonitor(): HealthMonitor | null {
    const f = this.config.fastvisor;
    const check = f.healthcheck;
    if (!check) return null;
    let probe: Probe;
    if (check.kind === 'http') probe = httpProbe(check.url);
    else if (check.kind === 'tcp') probe = tcpProbe(check.host, check.port);
    else {
      probe = commandProbe(check.command, {
        core: this.host.core,
        adopt: (child, handler) => this.host.adopt(child, handler),
        request: () => this.checkRequest(),
      });
    }
    return new HealthMonitor(healthOptions(f), probe, this.host.clock, (now, before) => {
      if (this.removed) return;
      this.host.healthChanged(this, now, before);
      if (now.health === 'unhealthy' && f.healthcheck_action === 'restart' && this.state === ProcessState.RUNNING) {
        this.feed({ kind: 'restart', reason: `health check failed ${now.failures} times${now.lastDetail ? ` (${now.lastDetail})` : ''}` });
      }
    });
  }

  // A check command runs as the program would: user, directory, umask, environment.
  private checkRequest(): { env: Record<string, string>; cwd?: string; umask?: number; user?: { uid: number; gid: number; groups: number[] } } | string {
    let fileEnv: Record<string, string>;
    try {
      fileEnv = this.fileEnvironment();
    } catch (err) {
      return (err as Error).message;
    }
    const user = this.resolveUser();
    if (typeof user === 'string') return user;
    return {
      env: childEnvironment(this.host.env, this.config, this.groupName, this.host.serverurl, fileEnv),
      ...(this.config.directory !== null ? { cwd: this.config.directory } : {}),
      ...(this.config.umask !== null ? { umask: this.config.umask } : {}),
      ...(user ? { user } : {}),
    };
  }
}

// Linux: field 5 of /proc/PID/stat (after the parenthesised command name).
function processGroupOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[2]);
  } catch {
    return null;
  }
}

// The machine's view of fastvisor's readiness and dependency options.
function withFastvisorRules(config: ProcessConfig): ProcessConfig & MachineConfig {
  // kill_mode=group: both signals to the process group (stopasgroup + killasgroup).
  if (config.fastvisor.kill_mode === 'group') config = { ...config, stopasgroup: true, killasgroup: true };
  const f = config.fastvisor;
  const dependsOn = f.dependencies.length > 0;
  const readyBy = f.ready.kind === 'started' ? 'startsecs' : 'signal';
  if (!dependsOn && readyBy === 'startsecs') return config;
  return { ...config, dependsOn, readyBy };
}
