// SPDX-License-Identifier: MIT
// getProcessInfo over a test daemon's socket, and waiting for a process to
// reach a state or any condition on its info, with a deadline.
import type { Daemon } from './daemon-harness.js';
import { pollUntil } from './poll.js';

/** The getProcessInfo fields tests look at. */
export interface ProcessInfo {
  name: string;
  group: string;
  statename: string;
  description: string;
  spawnerr: string;
  exitstatus: number;
  pid: number;
}

export const processInfo = async (d: Daemon, name: string): Promise<ProcessInfo> =>
  (await d.rpc('supervisor.getProcessInfo', name)) as unknown as ProcessInfo;

/** Polls getProcessInfo every 20 ms until pred holds; the info that made it hold. */
export function waitInfo(d: Daemon, name: string, pred: (i: ProcessInfo) => boolean, what: string, timeout = 10_000): Promise<ProcessInfo> {
  return pollUntil(
    async () => {
      const i = await processInfo(d, name);
      return pred(i) && i;
    },
    { timeout, interval: 20, what: `${name}: ${what}` },
  );
}

export const waitState = (d: Daemon, name: string, state: string, timeout?: number): Promise<ProcessInfo> =>
  waitInfo(d, name, (i) => i.statename === state, state, timeout);
