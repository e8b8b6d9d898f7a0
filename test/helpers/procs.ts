// SPDX-License-Identifier: MIT
// Process bookkeeping for tests: every pid a test starts is registered and
// killed (by process group) afterwards, even when the test fails. Never by name.
import { readdirSync, readFileSync } from 'node:fs';

const tracked = new Set<number>();

/** Registers a child that leads its own process group (the spawn default). */
export function track(pid: number): number {
  tracked.add(pid);
  return pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs every tracked group; call from afterEach/afterAll. */
export function killTracked(): void {
  for (const pid of tracked) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  tracked.clear();
}

/** A process's state, parent and process group from /proc/PID/stat; null once it is gone. */
export function procStat(pid: number | string): { state: string; ppid: number; pgid: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parens: fields start after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]), pgid: Number(rest[2]) };
  } catch {
    return null;
  }
}

/** Our children that are zombies (exited, not reaped). */
export function zombieChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(name);
    if (st && st.ppid === process.pid && st.state === 'Z') out.push(Number(name));
  }
  return out;
}

export function childrenOf(ppid = process.pid): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(name);
    if (st && st.ppid === ppid) out.push(Number(name));
  }
  return out;
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}
