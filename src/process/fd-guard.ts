// SPDX-License-Identifier: MIT
// Keeps the daemon controllable when file descriptors run out. A spawn storm
// under a low RLIMIT_NOFILE used to take every descriptor: afterwards each
// supervisorctl connection was reset (libuv accepts and closes connections it
// has no descriptor for, silently) and the main log said nothing. So:
// - a reserve: spawns and new log files that would leave fewer free
//   descriptors fail with EMFILE ("too many open files to spawn 'x'", as
//   supervisord says when its pipes fail), so the control sockets keep some;
// - a probe once a second: when not even one descriptor is free, connections
//   are being refused; that is logged once per episode, with its end.
import { fdHeadroom, fdReserve } from '../native/index.js';

/** The reserve for a descriptor limit: 1/16 of it, at least 16, at most 64. */
export function reserveFor(limit: number): number {
  if (limit < 0) return 64; // unlimited
  return Math.min(64, Math.max(16, Math.floor(limit / 16)));
}

export interface FdGuardLog {
  critical(message: string): void;
  info(message: string): void;
}

export class FdGuard {
  private exhausted = false;

  constructor(
    private readonly log: FdGuardLog,
    private readonly limit: number,
  ) {
    fdReserve(reserveFor(limit));
  }

  get reserve(): number {
    return fdReserve();
  }

  /** Once a second: log the start and the end of an exhaustion episode. */
  check(): void {
    const free = fdHeadroom(1) > 0;
    if (!free && !this.exhausted) {
      this.exhausted = true;
      this.log.critical(
        `out of file descriptors (limit ${this.limit < 0 ? 'unlimited' : this.limit}): new connections to the control sockets are refused until some are freed`,
      );
    } else if (free && this.exhausted) {
      this.exhausted = false;
      this.log.info('file descriptors are available again: accepting connections to the control sockets');
    }
  }
}
