// SPDX-License-Identifier: MIT
// --pin: programs on CPU 0, the pump on CPU 1, the same way for every peer.
// On the 2-vCPU VM this bench was written on, an unpinned writer | reader pair
// moving 1 GiB took either ~0.55 s or ~1.4 s from one run to the next,
// depending on where the scheduler put the two; pinned apart it took
// 0.52-0.62 s. Pinning trades that noise for a fixed placement, so it is an
// option, not the default. taskset execs the command: pids are unchanged.
import type { TrialContext } from './types.js';

export const TASKSET = '/usr/bin/taskset';
export const PROGRAM_CPU = '0';
export const PUMP_CPU = '1';

/** argv for a program (a writer, sleep): under taskset -c 0 when pinning. */
export function programArgv(ctx: Pick<TrialContext, 'pin'>, argv: string[]): string[] {
  return ctx.pin ? [TASKSET, '-c', PROGRAM_CPU, ...argv] : argv;
}

/** [file, args] to start a peer's measured process: under taskset -c 1 when pinning. */
export function pumpCommand(ctx: Pick<TrialContext, 'pin'>, file: string, args: string[]): [string, string[]] {
  return ctx.pin ? [TASKSET, ['-c', PUMP_CPU, file, ...args]] : [file, args];
}
