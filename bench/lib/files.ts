// SPDX-License-Identifier: MIT
// Bytes on disk: a program's log plus its rotated files (log.1, log.2, …),
// and a poll for peers that cannot say themselves when everything is written.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { now } from './measure.js';
import { TimeoutError } from './procs.js';
import type { ProgramSpec, Work } from './types.js';

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The lines of a text file (a main log, a listener's record); none when it cannot be read. */
export function fileLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/** Bytes of one program's log and its rotated files. */
export function programBytes(p: ProgramSpec, rotated: boolean): number {
  if (!rotated) return size(p.log);
  const dir = path.dirname(p.log);
  const base = path.basename(p.log);
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (name === base || (name.startsWith(`${base}.`) && /^\d+$/.test(name.slice(base.length + 1)))) total += size(path.join(dir, name));
  }
  return total;
}

/** Bytes of every file in the work's log directory. */
export function bytesOnDisk(work: Work): number {
  let total = 0;
  for (const name of readdirSync(work.logDir)) total += size(path.join(work.logDir, name));
  return total;
}

export function expectedBytes(work: Work): number {
  return work.programs.reduce((s, p) => s + p.expectedBytes, 0);
}

/** Deletes the logs (a run can leave gigabytes) but keeps the directory. */
export function clearLogs(work: Work): void {
  for (const name of readdirSync(work.logDir)) rmSync(path.join(work.logDir, name), { force: true, recursive: true });
}

/**
 * Polls file sizes until every program's expected bytes are on disk ('bytes');
 * only the programs still short are stat'ed. Should bytes go missing, that
 * never happens: once the total has not moved for settleMs, allExited() is
 * asked (not before, so a peer is not made to answer queries while it works),
 * and if every program has exited the wait ends ('exited, bytes short').
 */
export async function waitForBytes(
  work: Work,
  opts: { timeout: number; allExited: () => Promise<boolean>; settleMs?: number },
): Promise<string> {
  const rotated = work.maxbytes > 0;
  const pending = new Set(work.programs.filter((p) => p.expectedBytes > 0));
  const settleMs = opts.settleMs ?? 1000;
  const deadline = now() + opts.timeout;
  let nextTotal = now() + 500;
  let lastTotal = -1;
  let stableSince = now();
  for (;;) {
    for (const p of pending) if (programBytes(p, rotated) >= p.expectedBytes) pending.delete(p);
    if (pending.size === 0) return 'bytes';
    const t = now();
    if (t >= nextTotal) {
      nextTotal = t + 500;
      const total = bytesOnDisk(work);
      if (total !== lastTotal) {
        lastTotal = total;
        stableSince = t;
      } else if (t - stableSince >= settleMs && (await opts.allExited())) {
        return 'exited, bytes short';
      }
    }
    if (t > deadline) throw new TimeoutError(`timed out after ${opts.timeout} ms: ${pending.size} programs still short of their bytes`);
    await sleep(work.pollMs);
  }
}
