// SPDX-License-Identifier: MIT
// The two pages as the server renders them: the status table (what a script or a browser
// without JavaScript sees, and the first paint before app.js takes over) and the tail
// snapshot. web/app.js renders the same row markup on the client; keep the two in step.
import { pyQuote } from './form.js';
import { EMPTY, html, type Html } from './html.js';
import type { Assets } from './assets.js';

/** The getProcessInfo fields the page shows. */
export interface ProcInfo {
  name: string;
  group: string;
  state: number;
  statename: string;
  pid: number;
  start: number;
  now: number;
  description: string;
  /** fastvisor.getAllProcessStats' figures; null (or absent) without a child to measure */
  cpu_seconds?: number | null;
  memory_bytes?: number | null;
}

/** Columns of a process row: what a group header or the empty row spans. */
export const COLUMNS = 9;

// ProcessState numbers (process/states.ts), as the browser sees them in getAllProcessInfo.
const STOPPED = 0;
const STARTING = 10;
const RUNNING = 20;
const BACKOFF = 30;
const STOPPING = 40;
const EXITED = 100;
const FATAL = 200;

export function namespec(p: { group: string; name: string }): string {
  return p.group === p.name ? p.name : `${p.group}:${p.name}`;
}

/** web.py css_class_for_state(), kept for anything that reads supervisord's markup. */
export function cssClassForState(state: number): string {
  if (state === RUNNING) return 'statusrunning';
  if (state === FATAL || state === BACKOFF) return 'statuserror';
  return 'statusnominal';
}

/** str(datetime.timedelta(seconds=n)), as supervisorctl prints uptimes. */
export function timedelta(total: number): string {
  const t = Math.max(0, Math.trunc(total));
  const days = Math.floor(t / 86400);
  const rest = t - days * 86400;
  const hms = `${Math.floor(rest / 3600)}:${String(Math.floor((rest % 3600) / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
  return days ? `${days} day${days === 1 ? '' : 's'}, ${hms}` : hms;
}

/** The uptime column: only while there is a process to have one. */
export function uptime(p: ProcInfo): string {
  if (!p.pid || !p.start || ![STARTING, RUNNING, STOPPING].includes(p.state)) return '';
  return timedelta(p.now - p.start);
}

/** The description of a running process repeats the pid and uptime columns: narrow screens hide it. */
export function descClass(p: ProcInfo): string {
  return p.state === RUNNING && p.description === `pid ${p.pid}, uptime ${uptime(p)}` ? 'desc redundant' : 'desc';
}

/** Bytes in binary units, one decimal from KiB up: "512 B", "12.3 MiB". web/app.js has the same. */
export function humanBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/**
 * The CPU column without JavaScript: the CPU time used so far ("1.25 s", "0:12:04" from
 * 100 s on). A percentage needs two readings; the live page shows that instead.
 */
export function cpuTime(secs: number | null | undefined): string {
  if (secs === null || secs === undefined || !Number.isFinite(secs)) return '';
  return secs < 100 ? `${secs.toFixed(2)} s` : timedelta(secs);
}

export type RowAction = 'start' | 'stop' | 'restart' | 'clearlog';

/**
 * web.py actions_for_process(), plus Stop for STARTING and BACKOFF (stopProcess accepts
 * both; supervisord's page offers nothing there, so a crash-looping process could not be
 * stopped from it).
 */
export function actionsFor(state: number): RowAction[] {
  if (state === RUNNING) return ['restart', 'stop', 'clearlog'];
  if (state === STARTING || state === BACKOFF) return ['stop', 'clearlog'];
  if (state === STOPPED || state === EXITED || state === FATAL) return ['start', 'clearlog'];
  return ['clearlog'];
}

export const ACTION_LABELS: Record<RowAction, string> = { start: 'Start', stop: 'Stop', restart: 'Restart', clearlog: 'Clear Log' };

function processRow(p: ProcInfo): Html {
  const ns = namespec(p);
  const q = pyQuote(ns);
  const state = p.statename.toLowerCase();
  const actions = actionsFor(p.state).map(
    (a) => html`<li><a class="btn act-${a}" href="index.html?processname=${q}&amp;action=${a}" name="${ACTION_LABELS[a]}">${ACTION_LABELS[a]}</a></li>`,
  );
  actions.push(html`<li><a class="btn act-tail" href="tail.html?processname=${q}">Tail</a></li>`);
  actions.push(html`<li><a class="btn act-tail" href="tail.html?processname=${q}&amp;channel=stderr">Stderr</a></li>`);
  return html`<tr class="proc st-${state}" data-name="${ns}" data-group="${p.group}">
<td class="status"><span class="${cssClassForState(p.state)} badge st-${state}">${state}</span></td>
<td class="name"><a href="tail.html?processname=${q}">${ns}</a></td>
<td class="pid">${p.pid ? String(p.pid) : ''}</td>
<td class="uptime">${uptime(p)}</td>
<td class="cpu">${p.pid ? cpuTime(p.cpu_seconds) : ''}</td>
<td class="mem">${p.pid ? humanBytes(p.memory_bytes) : ''}</td>
<td class="trend"></td>
<td class="${descClass(p)}">${p.description}</td>
<td class="action"><ul>${actions}</ul></td>
</tr>
`;
}

/** A header for every group that is more than one program of the same name. */
export function isRealGroup(group: string, members: ProcInfo[]): boolean {
  return members.length > 1 || members[0]?.name !== group;
}

function stateCounts(procs: ProcInfo[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const p of procs) counts.set(p.statename.toLowerCase(), (counts.get(p.statename.toLowerCase()) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function summaryOf(procs: ProcInfo[]): Html {
  return html`${stateCounts(procs).map(([s, n]) => html`<span class="chip st-${s}">${n} ${s}</span> `)}`;
}

/** The table body: processes in lexical order (group, then name), as web.py lists them. */
export function statusRows(procs: ProcInfo[]): Html {
  if (!procs.length) return html`<tr class="empty"><td colspan="${COLUMNS}">No programs to manage</td></tr>`;
  const sorted = [...procs].sort((a, b) => cmp(a.group, b.group) || cmp(a.name, b.name));
  const groups = new Map<string, ProcInfo[]>();
  for (const p of sorted) {
    const g = groups.get(p.group);
    if (g) g.push(p);
    else groups.set(p.group, [p]);
  }
  const out: Html[] = [];
  for (const [group, members] of groups) {
    if (isRealGroup(group, members)) {
      out.push(
        html`<tr class="group" data-group="${group}"><th colspan="${COLUMNS}" scope="rowgroup"><span class="gname">${group}</span> <span class="gsum">${summaryOf(members)}</span></th></tr>
`,
      );
    }
    for (const p of members) out.push(processRow(p));
  }
  return html`${out}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface StatusPage {
  message: string | null;
  /** the processes, or the fault that kept us from reading them */
  procs: ProcInfo[] | { fault: string };
  identification: string;
  version: string;
}

export function renderStatus(assets: Assets, page: StatusPage): string {
  const procs = Array.isArray(page.procs) ? page.procs : [];
  let message = page.message;
  if (!Array.isArray(page.procs)) message = message ? `${message} (${page.procs.fault})` : page.procs.fault;
  return assets.status.render({
    message_class: message === null ? 'hidden' : message.startsWith('ERROR') || !Array.isArray(page.procs) ? 'status_msg error' : 'status_msg',
    message: message ?? '',
    identification: page.identification,
    version: page.version,
    summary: summaryOf(procs),
    rows: statusRows(procs),
    count: String(procs.length),
  });
}

export interface TailPage {
  /** null: no processname in the form */
  processname: string | null;
  channel: 'stdout' | 'stderr';
  /** bytes asked for (at least 1024) */
  limit: number;
  body: string;
  /** follow the log live (the process exists) */
  live: boolean;
  /** the body is the end of the log (not a message such as "No file for x") */
  snapshot: boolean;
  version: string;
}

export function renderTail(assets: Assets, page: TailPage): string {
  const name = page.processname;
  let nav: Html = EMPTY;
  if (name !== null && page.live) {
    const q = pyQuote(name);
    const other = page.channel === 'stdout' ? 'stderr' : 'stdout';
    const chan = (c: string): Html => (c === 'stderr' ? html`&amp;channel=stderr` : EMPTY);
    nav = html`<a class="btn" href="tail.html?processname=${q}${chan(other)}">${other}</a>
<a class="btn" href="logtail/${q}${page.channel === 'stderr' ? '/stderr' : ''}" target="_blank" rel="noopener">raw</a>
<a class="btn" id="refresh_anchor" href="tail.html?processname=${q}${chan(page.channel)}&amp;limit=${String(page.limit)}">Refresh</a>`;
  }
  return assets.tail.render({
    title: `Supervisor tail of process ${name ?? 'None'}`,
    processname: page.live && name !== null ? name : '',
    channel: page.channel,
    limit: String(page.limit),
    heading: name ?? 'No process name found',
    nav,
    body: page.body,
    version: page.version,
    snapshot: page.snapshot ? 'log' : 'none',
  });
}
