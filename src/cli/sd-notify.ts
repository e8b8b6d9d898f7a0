// SPDX-License-Identifier: MIT
// The daemon's side of systemd's sd_notify protocol, so that a unit can be
// Type=notify: READY=1 once the HTTP servers answer and the autostart
// programs have been started, RELOADING=1 / READY=1 around a reload (SIGHUP),
// STOPPING=1 at shutdown, and WATCHDOG=1 pings when the unit has
// WatchdogSec=. Only the process that stays running sends (the daemonized
// copy, never its launcher), and NOTIFY_SOCKET does not reach the children:
// a program that inherited it could tell systemd the service is ready, or
// stopping (sd_notify's unset_environment). A `ready = notify` program gets
// a socket of its own from fastvisor.
import { errnoName, sdNotify } from '../native/index.js';

/** The variables systemd sets for the main process, taken out of the environment children inherit. */
const SD_VARS = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;

export class SystemdNotifier {
  private watchdog: NodeJS.Timeout | null = null;
  private failedOnce = false;
  private stopping = false;

  private constructor(
    readonly socket: string,
    /** WATCHDOG_USEC when it is meant for this process, else null */
    readonly watchdogUsec: number | null,
    private readonly warn: (msg: string) => void,
  ) {}

  /**
   * Reads NOTIFY_SOCKET (and WATCHDOG_USEC / WATCHDOG_PID) and removes them
   * from env, whether or not they were usable. Null without a NOTIFY_SOCKET.
   */
  static fromEnv(env: NodeJS.ProcessEnv, pid = process.pid, warn: (msg: string) => void = () => {}): SystemdNotifier | null {
    const socket = env.NOTIFY_SOCKET;
    const usec = Number(env.WATCHDOG_USEC);
    const wdPid = env.WATCHDOG_PID;
    for (const k of SD_VARS) delete env[k];
    if (!socket) return null;
    // sd_watchdog_enabled(): the pings are ours only when WATCHDOG_PID is unset or names us.
    const mine = wdPid === undefined || wdPid === '' || Number(wdPid) === pid;
    return new SystemdNotifier(socket, mine && Number.isSafeInteger(usec) && usec > 0 ? usec : null, warn);
  }

  /** Sends "K=V" lines as one datagram; a failure is logged once and otherwise ignored. */
  send(fields: Record<string, string | number>): number {
    const text = Object.entries(fields)
      .map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`)
      .join('\n');
    const rc = sdNotify(this.socket, text);
    if (rc < 0 && !this.failedOnce) {
      this.failedOnce = true;
      this.warn(`sd_notify to ${this.socket} failed: ${errnoName(-rc)} (further failures are not logged)`);
    }
    return rc;
  }

  /** A daemonized copy names itself before its launcher (systemd's main pid) exits; needs NotifyAccess=all. */
  mainPid(): void {
    this.send({ MAINPID: process.pid });
  }

  ready(status: string): void {
    if (this.stopping) return;
    this.send({ READY: 1, MAINPID: process.pid, STATUS: status });
    this.startWatchdog();
  }

  reloading(): void {
    if (this.stopping) return;
    // systemd >= 253 wants the CLOCK_MONOTONIC time of the reload's start;
    // process.hrtime is CLOCK_MONOTONIC on Linux.
    this.send({ RELOADING: 1, MONOTONIC_USEC: (process.hrtime.bigint() / 1000n).toString(), STATUS: 'reloading' });
  }

  stop(status = 'shutting down'): void {
    if (this.stopping) return;
    this.stopping = true;
    this.send({ STOPPING: 1, STATUS: status });
  }

  /** WATCHDOG=1 every half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises. */
  private startWatchdog(): void {
    if (this.watchdogUsec === null || this.watchdog) return;
    const ms = Math.max(1, Math.floor(this.watchdogUsec / 2000));
    this.send({ WATCHDOG: 1 });
    this.watchdog = setInterval(() => this.send({ WATCHDOG: 1 }), ms);
    this.watchdog.unref();
  }

  close(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}
