// SPDX-License-Identifier: MIT
// A process group: its processes in priority order, and the group-wide stop
// supervisord's ProcessGroupBase does (stop_all, get_unstopped_processes).
import type { ProcessGroupConfig } from '../config/model.js';
import { FcgiSocket } from './fcgi-sockets.js';
import { ProcessState, STOPPED_STATES } from './states.js';
import { Subprocess, type ProcessHost } from './subprocess.js';

export class ProcessGroup {
  /** insertion order = priority order (the loader sorts them) */
  readonly processes = new Map<string, Subprocess>();
  /** [fcgi-program:x]: the socket its processes share as fd 0 (FastCGIProcessGroup) */
  private readonly fcgiSocket: FcgiSocket | null;

  constructor(
    readonly config: ProcessGroupConfig,
    host: ProcessHost,
  ) {
    this.fcgiSocket = config.kind === 'fcgi-program' && config.socket ? new FcgiSocket(config.socket, host.log) : null;
    for (const pc of config.processes) this.processes.set(pc.name, new Subprocess(pc, config.name, host, this.fcgiSocket));
  }

  get name(): string {
    return this.config.name;
  }

  /** transition(): lets each process look at the time (autostart, the first time); schedules start. */
  transition(): void {
    for (const p of this.processes.values()) {
      p.feed({ kind: 'tick' });
      p.startSchedule();
    }
  }

  // stop_all(): highest priority number first; BACKOFF gives up. mayStop
  // holds back a process whose dependents still run (depends_on, fastvisor).
  stopAll(mayStop: (p: Subprocess) => boolean = () => true): void {
    const procs = [...this.processes.values()].reverse();
    for (const p of procs) {
      const s = p.state;
      if ((s === ProcessState.RUNNING || s === ProcessState.STARTING || s === ProcessState.BACKOFF) && mayStop(p)) p.feed({ kind: 'stopAll' });
    }
  }

  unstopped(): Subprocess[] {
    return [...this.processes.values()].filter((p) => !STOPPED_STATES.includes(p.state));
  }

  reopenLogs(): void {
    for (const p of this.processes.values()) p.reopenLogs();
  }

  dispose(): void {
    for (const p of this.processes.values()) p.dispose();
    this.fcgiSocket?.dispose();
  }
}
