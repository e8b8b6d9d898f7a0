// SPDX-License-Identifier: MIT
// All logs, live: reads fastvisor/tail?name=all (the merged stream `fastvisorctl tail -f
// all` reads: one record per line, see src/http/multitail.ts) with a streaming fetch,
// shows each line with its program's name, and filters by program and by text on the
// lines kept. Reconnects when the stream ends (a daemon restart).

const KEEP_LINES = 5000; // lines kept in the page; older ones are dropped
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10000;

const linesEl = document.getElementById('lines');
const connEl = document.getElementById('conn');
const programEl = document.getElementById('program');
const streamEl = document.getElementById('stream');
const filterEl = document.getElementById('filter');
const followBtn = document.getElementById('follow');
const wrapBtn = document.getElementById('wrap');
const nomatchEl = document.getElementById('nomatch');

const params = new URLSearchParams(location.search);
let follow = true;
let retryMs = RETRY_MIN_MS;
let controller = null;
let generation = 0;
const programs = new Set();
/** sources whose last record was a piece of a line (P): their next one continues it */
const open = new Set();
const palette = 10;
const colourOf = new Map();

function setConn(state, text) {
  connEl.className = `conn ${state}`;
  connEl.textContent = text;
}

function scrollDown() {
  if (follow) linesEl.scrollTop = linesEl.scrollHeight;
}

function matches(row) {
  const p = programEl.value;
  if (p && row.dataset.name !== p) return false;
  const q = filterEl.value.trim().toLowerCase();
  return !q || row.lastChild.textContent.toLowerCase().includes(q);
}

function applyFilter() {
  let shown = 0;
  for (const row of linesEl.children) {
    row.hidden = !matches(row);
    if (!row.hidden) shown++;
  }
  nomatchEl.hidden = shown > 0 || linesEl.children.length === 0;
  scrollDown();
}

function addProgram(name) {
  if (programs.has(name)) return;
  programs.add(name);
  colourOf.set(name, colourOf.size % palette);
  const opt = document.createElement('option');
  opt.value = name;
  opt.textContent = name;
  // Kept in name order after "All programs".
  const after = [...programEl.options].slice(1).find((o) => o.value > name);
  programEl.insertBefore(opt, after ?? null);
  if (params.get('program') === name) {
    programEl.value = name;
    applyFilter();
  }
}

function addLine(name, stream, kind, text) {
  const row = document.createElement('div');
  row.className = `ln ${stream}${kind === 'M' || kind === 'T' ? ' mark' : ''}`;
  row.dataset.name = name;
  row.dataset.stream = stream;
  const who = document.createElement('span');
  who.className = `who c${colourOf.get(name) ?? 0}`;
  who.textContent = name;
  const sep = document.createElement('span');
  sep.className = 'sep';
  sep.textContent = kind === 'C' || (kind !== 'M' && kind !== 'T' && open.has(`${name}\0${stream}`)) ? '+' : stream === 'stderr' ? '!' : '|';
  const txt = document.createElement('span');
  txt.className = 'txt';
  txt.textContent = text;
  row.append(who, sep, txt);
  row.hidden = !matches(row);
  if (!row.hidden) nomatchEl.hidden = true;
  linesEl.append(row);
  while (linesEl.childElementCount > KEEP_LINES) linesEl.firstElementChild.remove();
}

const decoder = new TextDecoder();

/** One record (bytes, without its \n). */
function record(bytes) {
  const kind = String.fromCharCode(bytes[0]);
  const s1 = bytes.indexOf(0x20, 2);
  if (bytes[1] !== 0x20 || s1 < 0) return;
  let s2 = bytes.indexOf(0x20, s1 + 1);
  if (s2 < 0) s2 = bytes.length;
  let name;
  try {
    name = decodeURIComponent(decoder.decode(bytes.subarray(2, s1)));
  } catch {
    return;
  }
  const stream = decoder.decode(bytes.subarray(s1 + 1, s2));
  const text = decoder.decode(bytes.subarray(Math.min(s2 + 1, bytes.length)));
  const key = `${name}\0${stream}`;
  if (kind === 'A') return addProgram(name);
  if (kind === 'M') return addLine(name, stream, kind, `==> missed ${text} lines (this page fell behind) <==`);
  if (kind === 'T') return addLine(name, stream, kind, '==> File truncated <==');
  if (kind === 'W') return addLine(name, stream, 'M', `==> ${text} <==`);
  if (kind !== 'L' && kind !== 'P' && kind !== 'C') return;
  addLine(name, stream, kind, text);
  if (kind === 'P') open.add(key);
  else open.delete(key);
}

async function stream() {
  const mine = ++generation;
  controller = new AbortController();
  const url = `fastvisor/tail?name=all&stream=${encodeURIComponent(streamEl.value)}&head=4096`;
  let res;
  try {
    res = await fetch(url, { cache: 'no-store', signal: controller.signal });
  } catch {
    if (mine === generation) retry('no connection');
    return;
  }
  if (res.status === 401) return retry('not authorized');
  if (!res.ok || !res.body) return retry(`HTTP ${res.status}`);
  setConn('ok', 'live');
  document.body.classList.add('live');
  retryMs = RETRY_MIN_MS;
  const reader = res.body.getReader();
  let carry = new Uint8Array(0);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const data = carry.length ? concat(carry, value) : value;
      let start = 0;
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
        record(data.subarray(start, nl));
        start = nl + 1;
      }
      carry = data.slice(start);
      scrollDown();
    }
  } catch {
    // broken or aborted: below
  }
  if (mine === generation) retry('stream ended');
}

function concat(a, b) {
  const all = new Uint8Array(a.length + b.length);
  all.set(a, 0);
  all.set(b, a.length);
  return all;
}

function retry(why) {
  setConn('down', `${why}, retrying in ${Math.round(retryMs / 1000)} s`);
  setTimeout(stream, retryMs);
  retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
}

function restart() {
  generation++;
  controller?.abort();
  linesEl.replaceChildren();
  open.clear();
  stream();
}

function setFollow(on) {
  follow = on;
  followBtn.setAttribute('aria-pressed', String(on));
  followBtn.textContent = on ? 'Following' : 'Follow';
  scrollDown();
}

if (params.get('q')) filterEl.value = params.get('q');
if (['stdout', 'stderr', 'both'].includes(params.get('stream'))) streamEl.value = params.get('stream');
programEl.addEventListener('change', applyFilter);
filterEl.addEventListener('input', applyFilter);
streamEl.addEventListener('change', restart);
followBtn.addEventListener('click', () => setFollow(!follow));
wrapBtn.addEventListener('click', () => {
  const on = !linesEl.classList.contains('wrap');
  linesEl.classList.toggle('wrap', on);
  wrapBtn.setAttribute('aria-pressed', String(on));
  scrollDown();
});
linesEl.addEventListener('scroll', () => {
  const bottom = linesEl.scrollHeight - linesEl.scrollTop - linesEl.clientHeight < 4;
  if (follow !== bottom) setFollow(bottom);
});
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && document.activeElement !== filterEl) {
    e.preventDefault();
    filterEl.focus();
  }
});
stream();
