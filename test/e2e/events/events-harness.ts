// SPDX-License-Identifier: MIT
// What the event e2e tests share: both daemons on the same config text (each
// in its own temp dir with the listener and program scripts copied in), the
// listeners' records (one JSON line per event received, see listener.py), and
// the masks that make two runs comparable (serials, pids, times, temp paths).
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startDaemon, type Daemon, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { PYTHON } from '../../helpers/python.js';
import { tmpDir } from '../../helpers/tmp.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const KINDS: readonly DaemonKind[] = ['supervisord', 'fastvisor'];

/** `command=` of a listener: listener.py writing its records to <name>.jsonl */
export function listenerCommand(record: string, mode: string): string {
  return `${PYTHON} -u %(here)s/listener.py %(here)s/${record}.jsonl ${mode}`;
}

/** `command=` of a program: prog.py in a mode */
export function progCommand(...args: string[]): string {
  return `${PYTHON} -u %(here)s/prog.py ${args.join(' ')}`;
}

/** Both daemons on the same config text at once, each in its own dir with the scripts. */
export async function startBoth(config: string): Promise<Record<DaemonKind, Daemon>> {
  const started = await Promise.all(
    KINDS.map((kind) => {
      const dir = tmpDir(`fv-events-${kind}-`);
      for (const f of ['listener.py', 'prog.py']) copyFileSync(path.join(HERE, f), path.join(dir, f));
      return startDaemon(kind, config, { dir });
    }),
  );
  return { supervisord: started[0]!, fastvisor: started[1]! };
}

export interface Rec {
  who: string;
  start?: boolean;
  /** the header line's tokens */
  h?: Record<string, string>;
  p?: string;
  answer?: string;
  alert?: string;
  [extra: string]: unknown;
}

/** The records a listener wrote so far (a half-written last line is left for later). */
export function records(d: Daemon, name: string): Rec[] {
  const file = path.join(d.dir, `${name}.jsonl`);
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
}

export function waitRecords(d: Daemon, name: string, pred: (recs: Rec[]) => boolean, what: string, timeout = 15_000): Promise<Rec[]> {
  return pollUntil(
    () => {
      const recs = records(d, name);
      return pred(recs) && recs;
    },
    { timeout, interval: 20, what: `${d.kind}: ${what}` },
  );
}

/** Python's len() of a str: code points. */
export function pyLen(s: string): number {
  return [...s].length;
}

/**
 * A record as it can be compared across daemons and runs: serial and
 * poolserial renumbered by first appearance in this listener's records (so a
 * re-sent event keeps its number and the order stays visible, while the
 * absolute values, which depend on every other pool's traffic, do not
 * matter); pid:, when: and the temp dir masked; len: checked against the
 * payload (in characters, as supervisord counts) and then dropped, since a
 * masked pid changes it.
 */
export function masker(d: Daemon): (r: Rec) => Rec {
  const serials = new Map<string, number>();
  const poolserials = new Map<string, number>();
  const renumber = (m: Map<string, number>, v: string): string => {
    if (!m.has(v)) m.set(v, m.size);
    return `#${m.get(v)}`;
  };
  const text = (s: string): string =>
    s
      .replaceAll(d.dir, '@DIR@')
      .replace(/\bpid:\d+/g, 'pid:N')
      .replace(/\bpid \d+/g, 'pid N')
      .replace(/\bwhen:\d+/g, 'when:T');
  return (r) => {
    const out: Rec = { ...r };
    if (r.h) {
      const h = { ...r.h };
      if (h.len !== undefined && r.p !== undefined && Number(h.len) !== pyLen(r.p)) {
        h.len_mismatch = `${h.len} != ${pyLen(r.p)}`;
      }
      delete h.len;
      h.serial = renumber(serials, h.serial!);
      h.poolserial = renumber(poolserials, h.poolserial!);
      out.h = h;
    }
    if (r.p !== undefined) out.p = text(r.p);
    if (r.alert !== undefined) out.alert = text(r.alert);
    return out;
  };
}

export function masked(d: Daemon, recs: Rec[]): Rec[] {
  return recs.map(masker(d));
}

/** The process a PROCESS_* payload is about ('' for other events). */
export function subject(r: Rec): string {
  return /^processname:(\S+)/.exec(r.p ?? '')?.[1] ?? '';
}

/**
 * Per-subject subsequences. supervisord polls once a second and handles
 * whatever is ready in one pass, in group priority order; fastvisor acts on
 * each exit and timer as it happens. Events about one process come in the
 * same order in both; how two processes' events interleave does not.
 */
export function bySubject(recs: Rec[]): Record<string, Rec[]> {
  const out: Record<string, Rec[]> = {};
  for (const r of recs) (out[subject(r)] ??= []).push(r);
  return out;
}

/**
 * A listener's state as the main log tells it (needs loglevel=debug): the
 * last `name: X -> Y` line, or BUSY when an event was sent after it.
 * supervisord sets BUSY without logging a transition, so does fastvisor.
 */
export function listenerState(d: Daemon, name: string): string | null {
  let state: string | null = null;
  const re = new RegExp(`^\\S+ \\S+ DEBG (?:${name}: \\w+ -> (\\w+)|event \\d+ sent to listener ${name})$`);
  for (const line of d.mainLog().split('\n')) {
    const m = re.exec(line);
    if (m) state = m[1] ?? 'BUSY';
  }
  return state;
}

/** Main-log lines matching re, without the time stamp, temp dir and serials masked. */
export function logLines(d: Daemon, re: RegExp): string[] {
  return d
    .mainLog()
    .split('\n')
    .filter((l) => re.test(l))
    .map((l) => l.replace(/^\S+ \S+ /, '').replaceAll(d.dir, '@DIR@').replace(/\bevent \d+/g, 'event N'));
}

export async function processInfo(d: Daemon, name: string): Promise<{ statename: string; pid: number; exitstatus: number }> {
  return (await d.rpc('supervisor.getProcessInfo', name)) as unknown as { statename: string; pid: number; exitstatus: number };
}

export function waitState(d: Daemon, name: string, states: string[], timeout = 15_000): Promise<{ statename: string; pid: number }> {
  return pollUntil(
    async () => {
      const i = await processInfo(d, name);
      return states.includes(i.statename) && i;
    },
    { timeout, interval: 20, what: `${d.kind}: ${name} in ${states.join('/')}` },
  );
}
