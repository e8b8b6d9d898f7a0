// SPDX-License-Identifier: MIT
// The live status page. The server renders the table first (that is also the whole page
// for a browser without JavaScript); this module then polls fastvisor/figures.json every
// second (each process's CPU seconds and memory, and the ETag of the status), asks
// fastvisor/status.json (getState + getAllProcessInfo as JSON) again only when that ETag
// moved, patches the rows in place, counts uptimes itself, works out CPU % from the CPU
// seconds of two polls and keeps the last 5 minutes of it for each row's sparkline, runs
// the actions through the XML-RPC methods on /RPC2 without a reload, and adds the filter
// box and group folding.
// Everything from the server goes into the page as text (textContent), never as markup.
import { call, Fault, HttpError, multicall } from './xmlrpc.js';

const POLL_MS = 1000;
const MAX_BACKOFF_MS = 10000;
/** How far back a sparkline reaches, and the most samples a row keeps (a ring: at 1 s polls, 5 minutes and some). */
const TREND_S = 300;
const TREND_SAMPLES = 320;
/** Samples further apart than this (a hidden tab, a stopped process) are not joined by a line. */
const TREND_GAP_S = 5;
const SVG_NS = 'http://www.w3.org/2000/svg';

// ProcessState numbers, as supervisord has them.
const S = { STOPPED: 0, STARTING: 10, RUNNING: 20, BACKOFF: 30, STOPPING: 40, EXITED: 100, FATAL: 200, UNKNOWN: 1000 };
/** Columns of a process row (views.ts COLUMNS). */
const COLUMNS = 9;
const LABELS = { start: 'Start', stop: 'Stop', restart: 'Restart', clearlog: 'Clear Log' };

const $ = (id) => document.getElementById(id);
const tbody = $('tbody');
const filterBox = $('filter');
const summaryEl = $('summary');
const messageEl = $('statusmessage');
const connEl = $('conn');

let procs = [];
let etag = null;
/** server clock minus ours, in seconds: uptimes are counted here between answers */
let skew = 0;
/** supervisord's own state (getState), from the last answer */
let mood = 'RUNNING';
let failures = 0;
let pollTimer = null;
let polling = false;
let filterText = sessionStorage.getItem('fv.filter') ?? '';
let stateFilter = sessionStorage.getItem('fv.state') ?? '';
const folded = new Set(JSON.parse(localStorage.getItem('fv.folded') ?? '[]'));
const busy = new Set();
/** namespec -> { tr, sig } for patching; group -> header row */
let rowIndex = new Map();
let groupIndex = new Map();
let layoutKey = '';
let messageTimer = null;
/** the fault status.json answered with, while it does */
let faultText = null;
/** namespec -> { pid, t, cpu, mem, pct, ring }: the last figures and the CPU % history */
const figs = new Map();
/** the daemon's wall clock at the last figures (seconds): where the sparklines end */
let figsNow = 0;

// ---- the same rules the server renders with (src/web/views.ts) ----

const namespec = (p) => (p.group === p.name ? p.name : `${p.group}:${p.name}`);

// urllib.parse.quote(): what supervisord's links carry.
function pyQuote(s) {
  return Array.from(new TextEncoder().encode(s), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9_.\-~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

function cssClassForState(state) {
  if (state === S.RUNNING) return 'statusrunning';
  if (state === S.FATAL || state === S.BACKOFF) return 'statuserror';
  return 'statusnominal';
}

function timedelta(total) {
  const t = Math.max(0, Math.trunc(total));
  const days = Math.floor(t / 86400);
  const rest = t - days * 86400;
  const hms = `${Math.floor(rest / 3600)}:${String(Math.floor((rest % 3600) / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
  return days ? `${days} day${days === 1 ? '' : 's'}, ${hms}` : hms;
}

const serverNow = () => Math.trunc(Date.now() / 1000 + skew);

function uptime(p) {
  if (!p.pid || !p.start || ![S.STARTING, S.RUNNING, S.STOPPING].includes(p.state)) return '';
  return timedelta(serverNow() - p.start);
}

/** getProcessInfo's description; a running one's uptime counted on from the last answer, its notes (health, status) kept. */
function description(p) {
  if (p.state !== S.RUNNING) return p.description;
  const text = p.description || '';
  const notes = text.indexOf('; ');
  return `pid ${p.pid}, uptime ${timedelta(serverNow() - p.start)}${notes >= 0 ? text.slice(notes) : ''}`;
}

function descClass(p) {
  return p.state === S.RUNNING && description(p) === `pid ${p.pid}, uptime ${uptime(p)}` ? 'desc redundant' : 'desc';
}

function actionsFor(state) {
  if (state === S.RUNNING) return ['restart', 'stop', 'clearlog'];
  if (state === S.STARTING || state === S.BACKOFF) return ['stop', 'clearlog'];
  if (state === S.STOPPED || state === S.EXITED || state === S.FATAL) return ['start', 'clearlog'];
  return ['clearlog'];
}

function isRealGroup(group, members) {
  return members.length > 1 || members[0]?.name !== group;
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Bytes in binary units, one decimal from KiB up: "512 B", "12.3 MiB" (views.ts humanBytes). */
function humanBytes(n) {
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

const pctText = (pct) => `${pct < 10 ? pct.toFixed(1) : Math.round(pct)}%`;

// ---- figures: CPU % and memory, and their history ----

/** A fixed-size ring of (time, value) samples: old ones are overwritten, nothing grows. */
class Ring {
  constructor(size) {
    this.t = new Float64Array(size);
    this.v = new Float32Array(size);
    this.head = 0;
    this.length = 0;
  }

  push(t, v) {
    this.t[this.head] = t;
    this.v[this.head] = v;
    this.head = (this.head + 1) % this.t.length;
    this.length = Math.min(this.length + 1, this.t.length);
  }

  /** oldest first */
  *[Symbol.iterator]() {
    const n = this.t.length;
    for (let i = 0; i < this.length; i++) {
      const at = (this.head - this.length + i + n) % n;
      yield [this.t[at], this.v[at]];
    }
  }

  newest() {
    return this.length ? this.t[(this.head - 1 + this.t.length) % this.t.length] : -Infinity;
  }
}

/**
 * One figures.json answer: [namespec, pid, cpu_seconds, memory_bytes] per process with a
 * child. CPU % is the CPU seconds used between two answers over the daemon's wall time
 * between them (100 % = one core busy); a new pid starts over (no % until its second
 * sample). A process without a child keeps its history until it is 5 minutes old.
 */
function takeFigures(now, rows) {
  figsNow = now;
  const seen = new Set();
  for (const [ns, pid, cpu, mem] of rows) {
    seen.add(ns);
    let f = figs.get(ns);
    if (!f) {
      f = { pid: null, t: null, cpu: null, mem: null, pct: null, ring: new Ring(TREND_SAMPLES) };
      figs.set(ns, f);
    }
    if (f.pid !== pid) Object.assign(f, { pid, t: null, cpu: null, pct: null });
    f.pct = null;
    if (cpu !== null && f.cpu !== null && now > f.t && cpu >= f.cpu) {
      f.pct = ((cpu - f.cpu) / (now - f.t)) * 100;
      f.ring.push(now, f.pct);
    }
    if (cpu !== null) Object.assign(f, { cpu, t: now });
    f.mem = mem;
  }
  for (const [ns, f] of figs) {
    if (seen.has(ns)) continue;
    Object.assign(f, { pid: null, t: null, cpu: null, mem: null, pct: null });
    if (f.ring.newest() < now - TREND_S) figs.delete(ns);
  }
}

/** This process's figures, if they are about its current child. */
function figuresOf(p) {
  const f = figs.get(namespec(p));
  return f && p.pid && f.pid === p.pid ? f : null;
}

function cpuText(p) {
  const f = figuresOf(p);
  return p.state === S.RUNNING && f !== null && f.pct !== null ? pctText(f.pct) : '';
}

function memText(p) {
  const f = figuresOf(p);
  return f ? humanBytes(f.mem) : '';
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

// The sparkline's drawing box: 0..TREND_S seconds across, 0..top % up (top: one core, or the peak if above).
const SPARK_W = 100;
const SPARK_H = 24;

/** The <svg> of a row's CPU % history, made once per row and redrawn in place. */
function drawTrend(td, p) {
  const f = figs.get(namespec(p));
  if (!f || f.ring.length < 2) {
    if (td.firstChild) td.replaceChildren();
    return;
  }
  let pic = td.firstChild;
  if (!pic) {
    pic = svg('svg', { class: 'spark', viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, preserveAspectRatio: 'none', role: 'img' });
    // The whole 5 minutes as a faint box: a new row's line starts at the right and grows leftwards.
    const box = svg('rect', { class: 'spark-bg', x: 0, y: 0, width: SPARK_W, height: SPARK_H, 'vector-effect': 'non-scaling-stroke' });
    pic.append(svg('title', {}), box, svg('path', { class: 'spark-line', 'vector-effect': 'non-scaling-stroke', d: '' }));
    td.replaceChildren(pic);
  }
  let peak = 0;
  for (const [, v] of f.ring) peak = Math.max(peak, v);
  const top = Math.max(100, peak);
  const from = figsNow - TREND_S;
  let d = '';
  let last = -Infinity;
  for (const [t, v] of f.ring) {
    if (t < from) continue;
    const x = (((t - from) / TREND_S) * SPARK_W).toFixed(1);
    const y = (SPARK_H - (v / top) * (SPARK_H - 1) - 0.5).toFixed(1);
    d += `${t - last > TREND_GAP_S ? 'M' : 'L'}${x} ${y}`;
    last = t;
  }
  pic.lastChild.setAttribute('d', d);
  const label = `CPU % over the last 5 minutes: peak ${pctText(peak)}${f.pct !== null ? `, now ${pctText(f.pct)}` : ''}`;
  pic.setAttribute('aria-label', label);
  if (pic.firstChild.textContent !== label) pic.firstChild.textContent = label;
}

/** The figures' cells of a row, from the last figures. */
function setFigures(tr, p) {
  const [cpu, mem, trend] = ['cpu', 'mem', 'trend'].map((c) => tr.querySelector(`td.${c}`));
  const c = cpuText(p);
  const m = memText(p);
  if (cpu && cpu.textContent !== c) cpu.textContent = c;
  if (mem && mem.textContent !== m) mem.textContent = m;
  if (trend) drawTrend(trend, p);
}

// ---- DOM building (text only) ----

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids) e.append(k);
  return e;
}

function actionCell(p) {
  const ns = namespec(p);
  const q = pyQuote(ns);
  const ul = el('ul');
  for (const a of actionsFor(p.state)) {
    ul.append(el('li', {}, el('a', { class: `btn act-${a}`, href: `index.html?processname=${q}&action=${a}`, name: LABELS[a] }, LABELS[a])));
  }
  ul.append(el('li', {}, el('a', { class: 'btn act-tail', href: `tail.html?processname=${q}` }, 'Tail')));
  ul.append(el('li', {}, el('a', { class: 'btn act-tail', href: `tail.html?processname=${q}&channel=stderr` }, 'Stderr')));
  return el('td', { class: 'action' }, ul);
}

/** What forces a row to be rebuilt: its state (the actions change) or its busy mark. */
function rowSig(p) {
  return `${p.state}\u0000${busy.has(namespec(p))}`;
}

/** A poll changes little: rebuild a row when its state changed, else touch the texts that did. */
function updateRow(entry, p) {
  const sig = rowSig(p);
  if (entry.sig !== sig) {
    fillRow(entry.tr, p);
    entry.sig = sig;
    return;
  }
  const set = (cls, text) => {
    const td = entry.tr.querySelector(`td.${cls}`);
    if (td && td.textContent !== text) td.textContent = text;
  };
  set('pid', p.pid ? String(p.pid) : '');
  set('uptime', uptime(p));
  set('desc', description(p));
  const desc = entry.tr.querySelector('td.desc');
  if (desc) desc.className = descClass(p);
  setFigures(entry.tr, p);
}

function fillRow(tr, p) {
  const ns = namespec(p);
  const state = p.statename.toLowerCase();
  tr.className = `proc st-${state}${busy.has(ns) ? ' busy' : ''}`;
  tr.toggleAttribute('aria-busy', busy.has(ns));
  tr.replaceChildren(
    el('td', { class: 'status' }, el('span', { class: `${cssClassForState(p.state)} badge st-${state}` }, state)),
    el('td', { class: 'name' }, el('a', { href: `tail.html?processname=${pyQuote(ns)}` }, ns)),
    el('td', { class: 'pid' }, p.pid ? String(p.pid) : ''),
    el('td', { class: 'uptime' }, uptime(p)),
    el('td', { class: 'cpu' }),
    el('td', { class: 'mem' }),
    el('td', { class: 'trend' }),
    el('td', { class: descClass(p) }, description(p)),
    actionCell(p),
  );
  setFigures(tr, p);
}

function counts(list) {
  const m = new Map();
  for (const p of list) m.set(p.statename.toLowerCase(), (m.get(p.statename.toLowerCase()) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => cmp(a[0], b[0]));
}

function chips(list, clickable) {
  return counts(list).map(([s, n]) =>
    clickable
      ? el('button', { type: 'button', class: `chip st-${s}`, 'data-state': s, 'aria-pressed': String(stateFilter === s) }, `${n} ${s}`)
      : el('span', { class: `chip st-${s}` }, `${n} ${s}`),
  );
}

function groupHeader(group, members) {
  const open = !folded.has(group);
  const fold = el('button', { type: 'button', class: 'fold', 'aria-expanded': String(open), 'aria-label': `${open ? 'Fold' : 'Unfold'} group ${group}`, 'data-fold': group }, open ? '\u25be' : '\u25b8');
  const acts = el(
    'span',
    { class: 'gacts' },
    el('button', { type: 'button', class: 'btn', 'data-gaction': 'start', 'data-group': group }, 'Start'),
    el('button', { type: 'button', class: 'btn', 'data-gaction': 'restart', 'data-group': group }, 'Restart'),
    el('button', { type: 'button', class: 'btn', 'data-gaction': 'stop', 'data-group': group }, 'Stop'),
  );
  const th = el('th', { colspan: String(COLUMNS), scope: 'rowgroup' }, fold, ' ', el('span', { class: 'gname' }, group), ' ', el('span', { class: 'gsum' }, ...chips(members, false)), acts);
  return el('tr', { class: `group${open ? '' : ' folded'}`, 'data-group': group }, th);
}

/** Processes in web.py's order (group, then name), grouped. */
function layout(list) {
  const sorted = [...list].sort((a, b) => cmp(a.group, b.group) || cmp(a.name, b.name));
  const groups = new Map();
  for (const p of sorted) {
    if (!groups.has(p.group)) groups.set(p.group, []);
    groups.get(p.group).push(p);
  }
  return groups;
}

function render() {
  const groups = layout(procs);
  const key = [...groups].map(([g, m]) => `${g}\u0001${m.map((p) => p.name).join('\u0002')}\u0001${isRealGroup(g, m) && folded.has(g)}`).join('\u0003');
  if (key !== layoutKey) {
    layoutKey = key;
    rowIndex = new Map();
    groupIndex = new Map();
    const rows = [];
    if (!procs.length) rows.push(el('tr', { class: 'empty' }, el('td', { colspan: String(COLUMNS) }, 'No programs to manage')));
    for (const [group, members] of groups) {
      const real = isRealGroup(group, members);
      if (real) {
        const h = groupHeader(group, members);
        groupIndex.set(group, h);
        rows.push(h);
      }
      for (const p of members) {
        const tr = el('tr', { 'data-name': namespec(p), 'data-group': group });
        fillRow(tr, p);
        rowIndex.set(namespec(p), { tr, sig: rowSig(p), group, real });
        rows.push(tr);
      }
    }
    tbody.replaceChildren(...rows);
  } else {
    for (const p of procs) {
      const entry = rowIndex.get(namespec(p));
      if (entry) updateRow(entry, p);
    }
    for (const [group, h] of groupIndex) {
      const members = groups.get(group) ?? [];
      const key = JSON.stringify(counts(members));
      if (h.dataset.sum !== key) {
        h.dataset.sum = key;
        h.querySelector('.gsum').replaceChildren(...chips(members, false));
      }
    }
  }
  const sumKey = `${JSON.stringify(counts(procs))}\u0000${stateFilter}`;
  if (summaryEl.dataset.sum !== sumKey) {
    summaryEl.dataset.sum = sumKey;
    summaryEl.replaceChildren(el('span', { class: 'total' }, `${procs.length} process${procs.length === 1 ? '' : 'es'}`), ' ', ...chips(procs, true));
  }
  applyFilter();
}

function matches(p) {
  if (stateFilter && p.statename.toLowerCase() !== stateFilter) return false;
  if (!filterText) return true;
  const hay = `${namespec(p)} ${p.statename} ${description(p)}`.toLowerCase();
  return filterText
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

function applyFilter() {
  const filtering = Boolean(filterText || stateFilter);
  const visibleInGroup = new Map();
  let shown = 0;
  for (const p of procs) {
    const entry = rowIndex.get(namespec(p));
    if (!entry) continue;
    const ok = matches(p);
    // A folded group shows its rows while a filter looks into it.
    const hide = !ok || (entry.real && folded.has(entry.group) && !filtering);
    entry.tr.hidden = hide;
    if (ok) {
      shown++;
      visibleInGroup.set(entry.group, (visibleInGroup.get(entry.group) ?? 0) + 1);
    }
  }
  for (const [group, h] of groupIndex) h.hidden = filtering && !visibleInGroup.get(group);
  $('nomatch').hidden = !(filtering && procs.length && !shown);
}

// ---- polling ----

function setConn(state, text) {
  connEl.className = `conn ${state}`;
  connEl.textContent = text;
}

function schedule(ms) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, ms);
}

/** Always a fresh answer (figures change every second): { etag, now, figures }. */
async function fetchFigures() {
  const res = await fetch('fastvisor/figures.json', { cache: 'no-store' });
  if (res.status !== 200) throw new HttpError(res.status);
  return res.json();
}

async function fetchStatus() {
  const res = await fetch('fastvisor/status.json', { cache: 'no-store', headers: etag ? { 'If-None-Match': etag } : {} });
  if (res.status === 304) return null;
  if (res.status !== 200) throw new HttpError(res.status);
  const data = await res.json();
  etag = res.headers.get('ETag');
  return data;
}

async function poll() {
  if (polling) return;
  if (document.hidden) return; // visibilitychange resumes
  polling = true;
  try {
    // The status only when its ETag moved (a figures answer carries it): one small request a second.
    const figures = await fetchFigures();
    const data = figures.etag === etag ? null : await fetchStatus();
    if (data?.fault) {
      faultText = data.fault.faultCode === 6 ? 'supervisord is shutting down' : data.fault.faultString;
    } else if (data) {
      faultText = null;
      procs = data.processes;
      $('ident').textContent = data.identification;
      mood = data.state.statename;
    }
    if (faultText !== null) {
      setConn('warn', faultText);
    } else {
      skew = figures.now - Date.now() / 1000;
      takeFigures(figures.now, figures.figures);
      setConn(mood === 'RUNNING' ? 'ok' : 'warn', mood === 'RUNNING' ? 'live' : mood.toLowerCase());
      render();
      $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    }
    failures = 0;
    schedule(POLL_MS);
  } catch (err) {
    failures++;
    const wait = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** Math.min(failures, 4));
    setConn('down', err instanceof HttpError && err.status === 401 ? 'not authorized' : `no connection, retrying in ${Math.round(wait / 1000)} s`);
    schedule(wait);
  } finally {
    polling = false;
  }
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) schedule(0);
});

// ---- actions (web.py's messages, through the same XML-RPC methods) ----

function ctime(d = new Date()) {
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n) => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

const unexpected = (f) => `unexpected rpc fault [${f.code}] ${f.text}`;

function startError(f) {
  return { 20: 'no such file', 21: 'file not executable', 60: 'already started', 50: 'spawn error', 40: 'abnormal termination' }[f.code] ?? unexpected(f);
}

function asFault(err) {
  if (err instanceof Fault) return err;
  throw err;
}

async function processAction(action, ns) {
  try {
    await call('supervisor.getProcessInfo', ns);
  } catch (err) {
    if (asFault(err).code === 10) return `No such process named ${ns}`;
  }
  switch (action) {
    case 'start':
      try {
        await call('supervisor.startProcess', ns);
      } catch (err) {
        return `ERROR: Process ${ns}: ${startError(asFault(err))}`;
      }
      return `Process ${ns} started`;
    case 'stop':
      try {
        await call('supervisor.stopProcess', ns);
      } catch (err) {
        return unexpected(asFault(err));
      }
      return `Process ${ns} stopped`;
    case 'restart': {
      const [, started] = await multicall([
        ['supervisor.stopProcess', ns],
        ['supervisor.startProcess', ns],
      ]);
      return started instanceof Fault ? `ERROR: Process ${ns}: ${startError(started)}` : `Process ${ns} restarted`;
    }
    case 'clearlog':
      try {
        await call('supervisor.clearProcessLogs', ns);
      } catch (err) {
        return unexpected(asFault(err));
      }
      return `Log for ${ns} cleared`;
  }
  return `ERROR: unknown action ${action}`;
}

async function globalAction(action) {
  if (action === 'refresh') return `Page refreshed at ${ctime()}`;
  if (action === 'stopall') {
    await call('supervisor.stopAllProcesses');
    return `All stopped at ${ctime()}`;
  }
  if (action === 'restartall') {
    await multicall([['supervisor.stopAllProcesses'], ['supervisor.startAllProcesses']]);
    return `All restarted at ${ctime()}`;
  }
  return `ERROR: unknown action ${action}`;
}

/** The per-process results of a group call: failures named, or null. */
function groupFailures(results) {
  if (results instanceof Fault) return unexpected(results);
  const bad = (Array.isArray(results) ? results : []).filter((r) => r.status !== 80);
  return bad.length ? bad.map((r) => `${r.group}:${r.name} ${r.description}`).join('; ') : null;
}

async function groupAction(action, group) {
  let failed;
  if (action === 'restart') {
    const [, started] = await multicall([
      ['supervisor.stopProcessGroup', group],
      ['supervisor.startProcessGroup', group],
    ]);
    failed = groupFailures(started);
  } else {
    try {
      failed = groupFailures(await call(action === 'start' ? 'supervisor.startProcessGroup' : 'supervisor.stopProcessGroup', group));
    } catch (err) {
      failed = unexpected(asFault(err));
    }
  }
  const done = { start: 'started', stop: 'stopped', restart: 'restarted' }[action];
  return failed ? `ERROR: Group ${group}: ${failed}` : `Group ${group} ${done}`;
}

function showMessage(text) {
  clearTimeout(messageTimer);
  messageEl.textContent = text;
  const error = /^ERROR|^unexpected rpc fault|^No such process/.test(text);
  messageEl.className = `status_msg${error ? ' error' : ''}`;
  if (!error) messageTimer = setTimeout(() => (messageEl.className = 'hidden'), 8000);
}

async function run(label, work, rowNames = []) {
  for (const n of rowNames) busy.add(n);
  if (rowNames.length) render();
  schedule(0); // show STOPPING / STARTING while the call waits
  try {
    showMessage(await work());
  } catch (err) {
    showMessage(`ERROR: ${label}: ${err instanceof Fault ? unexpected(err) : err.message}`);
  } finally {
    for (const n of rowNames) busy.delete(n);
    schedule(0);
  }
}

const CONFIRM = { stopall: 'Stop every process?', restartall: 'Restart every process?' };

document.addEventListener('click', (ev) => {
  const target = ev.target instanceof Element ? ev.target : null;
  if (!target) return;
  const link = target.closest('a[href*="action="]');
  if (link && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && ev.button === 0) {
    const form = new URL(link.getAttribute('href'), location.href).searchParams;
    const action = form.get('action');
    const ns = form.get('processname');
    ev.preventDefault();
    if (CONFIRM[action] && !confirm(CONFIRM[action])) return;
    if (ns) run(ns, () => processAction(action, ns), [ns]);
    else run(action, () => globalAction(action));
    return;
  }
  const fold = target.closest('[data-fold]');
  if (fold) {
    const g = fold.dataset.fold;
    if (folded.has(g)) folded.delete(g);
    else folded.add(g);
    localStorage.setItem('fv.folded', JSON.stringify([...folded]));
    layoutKey = '';
    render();
    return;
  }
  const gact = target.closest('[data-gaction]');
  if (gact) {
    const g = gact.dataset.group;
    const names = procs.filter((p) => p.group === g).map(namespec);
    run(g, () => groupAction(gact.dataset.gaction, g), names);
    return;
  }
  const chip = target.closest('button.chip[data-state]');
  if (chip) {
    stateFilter = stateFilter === chip.dataset.state ? '' : chip.dataset.state;
    sessionStorage.setItem('fv.state', stateFilter);
    render();
  }
});

filterBox.hidden = false;
filterBox.value = filterText;
filterBox.addEventListener('input', () => {
  filterText = filterBox.value.trim();
  sessionStorage.setItem('fv.filter', filterText);
  applyFilter();
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === '/' && document.activeElement !== filterBox && !(ev.target instanceof HTMLInputElement)) {
    ev.preventDefault();
    filterBox.focus();
  } else if (ev.key === 'Escape' && document.activeElement === filterBox) {
    filterBox.value = '';
    filterText = '';
    sessionStorage.setItem('fv.filter', '');
    applyFilter();
  }
});

// A reload after an action should not show its message again.
if (location.search) history.replaceState(null, '', location.pathname);
if (messageEl.className.includes('status_msg') && !messageEl.className.includes('error')) {
  messageTimer = setTimeout(() => (messageEl.className = 'hidden'), 8000);
}
document.body.classList.add('live');
poll();
