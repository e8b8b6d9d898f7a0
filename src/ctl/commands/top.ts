// SPDX-License-Identifier: MIT
// top [--sort cpu|mem|name] [--interval SECS] [--once] [name|group:* ...]: the
// processes' figures from fastvisor.getAllProcessStats, like top(1). On a
// terminal the table is redrawn every interval (c, m, n sort; q quits); into a
// pipe (or with --once) it prints once, CPU % measured over one interval.
import type { XmlRpcStruct, XmlRpcValue } from '../../rpc/codec.js';
import type { Controller } from '../controller.js';
import { paint } from '../format.js';
import { makeNamespec, pyLen, pySplit, pyStr, splitNamespec } from '../py.js';
import type { Command } from './command.js';

type SortKey = 'cpu' | 'mem' | 'name';

export interface TopRow {
  namespec: string;
  statename: string;
  pid: number;
  /** % of one core over the interval; null on the first sample or without a child */
  cpuPct: number | null;
  cpuSeconds: number | null;
  memory: number | null;
  fds: number | null;
  threads: number | null;
  restarts: number;
  uptime: number | null;
  logBytes: number;
  dropped: number;
}

const num = (v: XmlRpcValue | undefined): number | null => (typeof v === 'number' ? v : null);

/** Rows from two getAllProcessStats answers (before may be empty: no CPU %). */
export function topRows(before: readonly XmlRpcStruct[], now: readonly XmlRpcStruct[]): TopRow[] {
  const key = (s: XmlRpcStruct): string => `${pyStr(s['group'])}:${pyStr(s['name'])}:${String(s['pid'])}`;
  const prev = new Map(before.map((s) => [key(s), s]));
  return now.map((s) => {
    const p = prev.get(key(s));
    const cpu = num(s['cpu_seconds']);
    const pcpu = p ? num(p['cpu_seconds']) : null;
    const dt = p ? (num(s['now']) ?? 0) - (num(p['now']) ?? 0) : 0;
    return {
      namespec: makeNamespec(pyStr(s['group']), pyStr(s['name'])),
      statename: pyStr(s['statename']),
      pid: num(s['pid']) ?? 0,
      cpuPct: cpu !== null && pcpu !== null && dt > 0 ? Math.max(0, ((cpu - pcpu) / dt) * 100) : null,
      cpuSeconds: cpu,
      memory: num(s['memory_bytes']),
      fds: num(s['open_fds']),
      threads: num(s['threads']),
      restarts: num(s['restarts']) ?? 0,
      uptime: num(s['uptime']),
      logBytes: (num(s['stdout_bytes']) ?? 0) + (num(s['stderr_bytes']) ?? 0),
      dropped: (num(s['stdout_dropped_bytes']) ?? 0) + (num(s['stderr_dropped_bytes']) ?? 0),
    };
  });
}

export function sortRows(rows: TopRow[], by: SortKey): TopRow[] {
  const name = (a: TopRow, b: TopRow): number => (a.namespec < b.namespec ? -1 : a.namespec > b.namespec ? 1 : 0);
  const desc = (f: (r: TopRow) => number | null) => (a: TopRow, b: TopRow) => (f(b) ?? -1) - (f(a) ?? -1) || name(a, b);
  if (by === 'cpu') return rows.sort(desc((r) => r.cpuPct ?? r.cpuSeconds));
  if (by === 'mem') return rows.sort(desc((r) => r.memory));
  return rows.sort(name);
}

export function humanBytes(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v}B` : `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

function duration(secs: number | null): string {
  if (secs === null) return '-';
  const s = Math.floor(secs);
  const d = Math.floor(s / 86400);
  const hms = `${Math.floor((s % 86400) / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return d ? `${d}d ${hms}` : hms;
}

const COLUMNS = ['NAME', 'STATE', 'PID', 'CPU%', 'CPU TIME', 'MEM', 'FDS', 'THR', 'RESTARTS', 'UPTIME', 'LOG', 'DROPPED'] as const;

/** The table as lines; the sorted column's heading is marked with a *. */
export function topTable(rows: readonly TopRow[], by: SortKey): string[] {
  const cells = rows.map((r) => [
    r.namespec,
    r.statename,
    r.pid ? String(r.pid) : '-',
    r.cpuPct === null ? '-' : r.cpuPct.toFixed(1),
    r.cpuSeconds === null ? '-' : duration(r.cpuSeconds) + (r.cpuSeconds % 1).toFixed(2).slice(1),
    humanBytes(r.memory),
    r.fds === null ? '-' : String(r.fds),
    r.threads === null ? '-' : String(r.threads),
    String(r.restarts),
    duration(r.uptime),
    humanBytes(r.logBytes),
    humanBytes(r.dropped),
  ]);
  const sorted = { cpu: 'CPU%', mem: 'MEM', name: 'NAME' }[by];
  const head = COLUMNS.map((c) => (c === sorted ? `${c}*` : c));
  const widths = head.map((h, i) => Math.max(pyLen(h), ...cells.map((c) => pyLen(c[i]!))));
  // Name and state left-aligned, numbers right-aligned.
  const line = (c: readonly string[]): string =>
    c
      .map((v, i) => (i < 2 ? v + ' '.repeat(widths[i]! - pyLen(v)) : ' '.repeat(widths[i]! - pyLen(v)) + v))
      .join('  ')
      .trimEnd();
  return [line(head), ...cells.map(line)];
}

interface TopOptions {
  by: SortKey;
  interval: number;
  once: boolean;
  names: string[];
}

function parseArgs(arg: string): TopOptions | string {
  const words = pySplit(arg);
  const o: TopOptions = { by: 'cpu', interval: 0, once: false, names: [] };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--once') o.once = true;
    else if (w === '--sort' || w.startsWith('--sort=')) {
      const v = w === '--sort' ? words[++i] : w.slice('--sort='.length);
      if (v !== 'cpu' && v !== 'mem' && v !== 'name') return `--sort takes cpu, mem or name, not ${v ?? 'nothing'}`;
      o.by = v;
    } else if (w === '--interval' || w.startsWith('--interval=')) {
      const v = Number(w === '--interval' ? words[++i] : w.slice('--interval='.length));
      if (!(v >= 0.1 && v <= 3600)) return '--interval takes seconds between 0.1 and 3600';
      o.interval = v;
    } else if (w.startsWith('--')) return `unknown option ${w}`;
    else o.names.push(w);
  }
  // One table waits one interval for its CPU %: a shorter default there.
  if (o.interval === 0) o.interval = o.once ? 1 : 2;
  return o;
}

function select(all: XmlRpcStruct[], names: string[]): XmlRpcStruct[] {
  if (!names.length || names.includes('all')) return all;
  return all.filter((s) =>
    names.some((n) => {
      const [g, p] = splitNamespec(n);
      return s['group'] === g && (p === undefined || s['name'] === p);
    }),
  );
}

export const top: Command = {
  async run(ctl, arg) {
    const o = parseArgs(arg);
    if (typeof o === 'string') {
      ctl.output(`Error: ${o}`);
      ctl.exitstatus = 2;
      return;
    }
    if (!(await ctl.upcheck())) return;
    const fv = ctl.getFastvisor();
    const sample = async (): Promise<XmlRpcStruct[]> => {
      const v = await fv.call('getAllProcessStats');
      return select(Array.isArray(v) ? (v as XmlRpcStruct[]) : [], o.names);
    };
    const stdin = ctl.io.stdin;
    const live = !o.once && ctl.io.stdout.isTTY === true;
    if (!live && o.interval === 2 && !/--interval/.test(arg)) o.interval = 1;
    let before = await sample();
    if (!live) {
      await sleep(o.interval * 1000);
      for (const l of topTable(sortRows(topRows(before, await sample()), o.by), o.by)) ctl.output(l);
      return;
    }
    let by = o.by;
    let stop = false;
    let wake: (() => void) | null = null;
    const redraw = (): void => wake?.();
    const onKey = (d: Buffer | string): void => {
      const k = d.toString();
      if (k === 'q' || k === '\x03' || k === '\x04') stop = true;
      else if (k === 'c') by = 'cpu';
      else if (k === 'm') by = 'mem';
      else if (k === 'n') by = 'name';
      else return;
      redraw();
    };
    const pop = ctl.interrupts.push(() => {
      stop = true;
      redraw();
    });
    const raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
    if (raw) stdin.setRawMode!(true);
    stdin.on('data', onKey);
    stdin.resume();
    try {
      let rows = topRows([], before);
      while (!stop) {
        const head = `fastvisor top — ${new Date().toLocaleTimeString()} — ${rows.length} processes, every ${o.interval} s — c: CPU, m: memory, n: name, q: quit`;
        ctl.io.stdout.write('\x1b[H\x1b[2J' + [paint(ctl.color, 'bold', head), '', ...topTable(sortRows(rows, by), by)].join('\n') + '\n');
        // A key press redraws at once (new order, same figures); the timer samples.
        const fired = await new Promise<boolean>((r) => {
          const t = setTimeout(() => r(true), o.interval * 1000);
          wake = () => {
            clearTimeout(t);
            r(false);
          };
        });
        wake = null;
        if (stop || !fired) continue;
        const now = await sample();
        rows = topRows(before, now);
        before = now;
      }
    } finally {
      stdin.removeListener('data', onKey);
      if (raw) stdin.setRawMode!(false);
      stdin.pause();
      pop();
    }
  },
  help(ctl) {
    ctl.output('top [--sort cpu|mem|name] [--interval SECS] [--once] [<name>|<gname>:* ...]');
    ctl.output('\t\t\tLive CPU, memory, fds, restarts and log bytes of the processes');
    ctl.output('\t\t\t(c, m, n sort; q quits). Not a terminal, or --once: one table, CPU % over one interval');
  },
};

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
