// SPDX-License-Identifier: MIT
// The live tail: follows logtail/NAME[/stderr] (the stream supervisorctl's tail -f
// reads) with a streaming fetch, appends as bytes arrive, reconnects when the stream
// ends (a daemon restart), and joins each new stream onto what is shown where the two
// overlap, since a stream always starts with the last 1 KiB of the file.

const HEAD_BYTES = 1024; // what /logtail sends first (supervisord's tail_f_producer)
const JOIN_WAIT_MS = 250; // a stream's first KiB may come in pieces: wait this long for it
const KEEP_CHARS = 16 * 1024; // the end of the shown text, kept for joining
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10000;

const body = document.body;
const name = body.dataset.processname;
const channel = body.dataset.channel === 'stderr' ? 'stderr' : 'stdout';
const limit = Number(body.dataset.limit) || HEAD_BYTES;
const pre = document.getElementById('tailbody');
const connEl = document.getElementById('conn');
const followBtn = document.getElementById('follow');
const wrapBtn = document.getElementById('wrap');
// Keep about as much as was asked for, at least 1 MiB of text, in the page.
const maxChars = Math.max(1024 * 1024, 2 * limit);

let shownChars = pre.textContent.length;
let lastText = pre.textContent.slice(-KEEP_CHARS);
let follow = true;
let retryMs = RETRY_MIN_MS;
let firstStream = true;

function pyQuote(s) {
  return Array.from(new TextEncoder().encode(s), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9_.\-~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

function setConn(state, text) {
  connEl.className = `conn ${state}`;
  connEl.textContent = text;
}

function atBottom() {
  return pre.scrollHeight - pre.scrollTop - pre.clientHeight < 4;
}

function scrollDown() {
  if (follow) pre.scrollTop = pre.scrollHeight;
}

function trim() {
  if (shownChars <= maxChars) return;
  // Drop whole text nodes from the front, then cut the first one at a line end.
  while (pre.firstChild && shownChars - pre.firstChild.textContent.length > maxChars * 0.75) {
    shownChars -= pre.firstChild.textContent.length;
    pre.firstChild.remove();
  }
}

function append(text) {
  if (!text) return;
  pre.append(document.createTextNode(text));
  shownChars += text.length;
  lastText = (lastText + text).slice(-KEEP_CHARS);
  trim();
  scrollDown();
}

function replaceAll(text) {
  pre.replaceChildren(document.createTextNode(text));
  shownChars = text.length;
  lastText = text.slice(-KEEP_CHARS);
  scrollDown();
}

/** How many characters at the start of `head` are already the end of what is shown. */
function overlap(shown, head) {
  const max = Math.min(shown.length, head.length, 2 * HEAD_BYTES + 64);
  for (let j = max; j > 0; j--) if (shown.endsWith(head.slice(0, j))) return j;
  return 0;
}

/** The first piece of a stream: the last KiB of the file, maybe cut inside a character. */
function join(bytes) {
  let start = 0;
  while (start < bytes.length && start < 3 && (bytes[start] & 0xc0) === 0x80) start++;
  const head = new TextDecoder().decode(bytes.subarray(start));
  const snapshot = body.dataset.snapshot === 'log';
  if (firstStream && (!snapshot || limit <= HEAD_BYTES)) {
    // The page showed the same last KiB, older: the stream's is the newer copy.
    replaceAll(head);
  } else {
    const j = overlap(lastText, head);
    if (j === 0 && shownChars > 0) append(`\n\u22ef reconnected: output in between may be missing \u22ef\n`);
    append(head.slice(j));
  }
  body.dataset.snapshot = 'log';
  firstStream = false;
}

async function stream() {
  const url = `logtail/${pyQuote(name)}${channel === 'stderr' ? '/stderr' : ''}`;
  let res;
  try {
    res = await fetch(url, { cache: 'no-store' });
  } catch {
    return retry('no connection');
  }
  if (res.status === 404) return retry('no log file (yet)');
  if (res.status === 401) return retry('not authorized');
  if (!res.ok || !res.body) return retry(`HTTP ${res.status}`);
  setConn('ok', 'live');
  retryMs = RETRY_MIN_MS;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = [];
  let pendingBytes = 0;
  let joined = false;
  let timer = null;
  const doJoin = () => {
    if (joined) return;
    joined = true;
    clearTimeout(timer);
    const all = new Uint8Array(pendingBytes);
    let at = 0;
    for (const p of pending) {
      all.set(p, at);
      at += p.length;
    }
    pending = [];
    join(all);
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (joined) {
        append(decoder.decode(value, { stream: true }));
        continue;
      }
      pending.push(value);
      pendingBytes += value.length;
      if (pendingBytes >= HEAD_BYTES) doJoin();
      else timer ??= setTimeout(doJoin, JOIN_WAIT_MS);
    }
  } catch {
    // the connection broke: reconnect below
  }
  if (!joined && pendingBytes) doJoin();
  clearTimeout(timer);
  return retry('stream ended');
}

function retry(why) {
  setConn('down', `${why}, retrying in ${Math.round(retryMs / 1000)} s`);
  setTimeout(stream, retryMs);
  retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
}

function setFollow(on) {
  follow = on;
  followBtn.setAttribute('aria-pressed', String(on));
  followBtn.textContent = on ? 'Following' : 'Follow';
  scrollDown();
}

if (name) {
  document.getElementById('tailctl').hidden = false;
  body.classList.add('live');
  followBtn.addEventListener('click', () => setFollow(!follow));
  wrapBtn.addEventListener('click', () => {
    const on = !pre.classList.contains('wrap');
    pre.classList.toggle('wrap', on);
    wrapBtn.setAttribute('aria-pressed', String(on));
    scrollDown();
  });
  // Scrolling up to read stops the following; scrolling back to the end resumes it.
  pre.addEventListener('scroll', () => {
    const bottom = atBottom();
    if (follow !== bottom) setFollow(bottom);
  });
  scrollDown();
  stream();
}
