// SPDX-License-Identifier: MIT
// fastvisor's merged tail: GET /fastvisor/tail?name=a&name=web:*&name=all&stream=both
// follows the log files of many processes over ONE connection, with the same per-file
// follower /logtail uses (TailFollower: head bytes, rotation, truncation), and cuts them
// into whole lines so that two processes' output never meets inside a line.
//
// One connection rather than one /logtail per process: a browser opens at most six
// connections to a host, `all` and `group:*` are resolved here again every second (a
// program added later joins the stream), and one writer decides what a slow reader
// misses. The body is text, one record per line, the name percent-encoded:
//
//   A <name> <stream>            a log file joins the stream (before any of its lines)
//   L <name> <stream> <line>     one line, without its \n (bytes as written)
//   P <name> <stream> <piece>    a piece of a line: no \n for PARTIAL_MS, or MAX_LINE long;
//                                the line goes on in that source's next L or P record
//   C <name> <stream> <piece>    the end of a line whose start was before the head
//   M <name> <stream> <count>    the reader fell MAX_LAG behind: count lines were skipped
//   T <name> <stream>            the file was truncated
//   W <name> <stream> <why>      the file is not followed for now (the daemon is short of descriptors)
//
// Memory per connection is bounded whatever the reader does: nothing is read from a
// file while the socket refuses more (backpressure), a source holds at most MAX_LINE of
// an unfinished line, and a file that runs more than MAX_LAG ahead is skipped over to
// its last KEEP_AFTER_SKIP bytes, counting the lines it jumped.
import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

import { TAIL_HEAD_BYTES, TAIL_POLL_MS, TailFollower, TRUNCATED } from './logtail.js';
import { startReply } from './reply.js';

type TailStreams = 'stdout' | 'stderr' | 'both';

/** One process's log files, as the daemon names them (null: that channel has no file). */
export interface MultiTailSource {
  name: string;
  stdout: string | null;
  stderr: string | null;
}

export type ResolveSources = (specs: readonly string[]) => MultiTailSource[] | { unknown: string[] };
/** Whether one more log file may be opened now without eating the descriptors spawns need. */
export type SpareDescriptor = () => boolean;

/** A line longer than this is sent in pieces (P records), so a source never holds more. */
const MAX_LINE = 16 * 1024;
/** An unfinished line waits this long for its \n before its piece so far is sent. */
const PARTIAL_MS = 250;
/** A file more than this ahead of the reader is skipped over (an M record says how many lines). */
const MAX_LAG = 1024 * 1024;
/** What is kept of a skipped-over file: the reader resumes this far from its end. */
const KEEP_AFTER_SKIP = 64 * 1024;
/** head= in follow mode at most (more would be skipped at once); without follow, at most MAX_HEAD_ONCE. */
const MAX_HEAD_FOLLOW = 256 * 1024;
const MAX_HEAD_ONCE = 4 * 1024 * 1024;
/** A file left out for want of descriptors is tried again this much later. */
const SPARE_RETRY_MS = 5000;
/** How often `all` and `group:*` are looked up again. */
const RESOLVE_MS = 1000;
// One read per source per turn: sources take turns, so one chatty file cannot starve the rest.
const STEP = 64 * 1024;
// Record kinds and separators, made once rather than for every line.
const KIND = Object.fromEntries(['A', 'L', 'P', 'C', 'M', 'T', 'W'].map((k) => [k, Buffer.from(k)])) as Record<RecordKind, Buffer>;
const SPACE = Buffer.from(' ');
const NEWLINE = Buffer.from('\n');
type RecordKind = 'A' | 'L' | 'P' | 'C' | 'M' | 'T' | 'W';
// Bytes one pump may handle before it yields to the event loop.
const PUMP_BUDGET = 1024 * 1024;
const NL = 0x0a;

interface MultiTailRequest {
  specs: string[];
  streams: TailStreams;
  /** bytes of each existing file to start with */
  head: number;
  /** false: send the head of each file and end */
  follow: boolean;
}

/** Reads the query; a string says what is wrong with it (the reply is a 400). */
function parseMultiTailQuery(query: string): MultiTailRequest | string {
  const q = new URLSearchParams(query);
  const specs = q.getAll('name').filter((s) => s !== '');
  if (specs.length === 0) return 'name= is required (a process, group:*, or all)';
  const stream = q.get('stream') ?? 'stdout';
  if (stream !== 'stdout' && stream !== 'stderr' && stream !== 'both') return `stream= must be stdout, stderr or both, not ${JSON.stringify(stream)}`;
  const follow = (q.get('follow') ?? '1') !== '0';
  const headText = q.get('head');
  let head = TAIL_HEAD_BYTES;
  if (headText !== null) {
    if (!/^[0-9]{1,10}$/.test(headText)) return `head= must be a number of bytes, not ${JSON.stringify(headText)}`;
    head = Number(headText);
  }
  head = Math.min(head, follow ? MAX_HEAD_FOLLOW : MAX_HEAD_ONCE);
  return { specs, streams: stream, head, follow };
}

function countNewlines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(NL); i >= 0; i = b.indexOf(NL, i + 1)) n++;
  return n;
}

/** One log file of one process in the stream. */
class Source {
  private follower: TailFollower | null = null;
  private partial: Buffer[] = [];
  private partialLen = 0;
  private partialAt = 0;
  /** bytes up to the next \n are dropped (the rest of a line skipped over) */
  private dropFragment = false;
  /** the first bytes of a head that starts inside a line: sent as a C record */
  private headFragment = false;
  private skipLeft = 0;
  private skipping = false;
  private missed = 0;
  /** without follow: bytes still to send (the head), then the source is done */
  private onceLeft = Infinity;
  private readonly tag: Buffer;
  private warned = false;
  private retryAt = 0;

  constructor(
    readonly name: string,
    readonly stream: 'stdout' | 'stderr',
    readonly path: string,
    /** bytes of the file to start with when it exists now; a file that appears later is sent from its start */
    private head: number,
    private readonly once: boolean,
    private readonly spare: SpareDescriptor,
  ) {
    this.tag = Buffer.from(` ${encodeURIComponent(name)} ${stream}`);
  }

  get key(): string {
    return `${this.name}\0${this.stream}\0${this.path}`;
  }

  /** The A record. */
  announce(out: Buffer[]): void {
    out.push(KIND.A, this.tag, NEWLINE);
  }

  /** Without follow: everything of the head is out. */
  get done(): boolean {
    return this.once && (this.follower === null || this.onceLeft <= 0);
  }

  private open(out: Buffer[]): boolean {
    if (this.follower) return true;
    // Each followed file holds a descriptor: `tail -f all` over hundreds of programs must
    // not take the ones a spawn needs. Tried again next turn.
    if (Date.now() < this.retryAt) return false;
    // A file not there yet costs one stat a turn, not a count of free descriptors.
    if (!existsSync(this.path)) return this.notThere();
    if (!this.spare()) {
      if (!this.warned) this.record(out, 'W', Buffer.from('not followed for now: the daemon is short of file descriptors'));
      this.warned = true;
      // Counting free descriptors costs a few syscalls: not every turn.
      this.retryAt = Date.now() + SPARE_RETRY_MS;
      if (this.once) this.onceLeft = 0;
      return false;
    }
    try {
      this.follower = new TailFollower(this.path, this.head);
    } catch {
      return this.notThere();
    }
    this.headFragment = this.follower.startOffset > 0;
    if (this.once) this.onceLeft = this.follower.lag();
    return true;
  }

  // Not there yet (not started, AUTO log of a later spawn) or unreadable: tried again next
  // turn, and a file that appears later is sent from its start.
  private notThere(): false {
    if (this.once) this.onceLeft = 0;
    this.head = Infinity;
    return false;
  }

  /** One turn: at most one read. Returns the bytes of file it went through (0: nothing new). */
  step(out: Buffer[]): number {
    if (!this.open(out) || this.done) return 0;
    const f = this.follower!;
    const lag = !this.once && !this.skipping ? f.lag() : 0;
    if (lag > MAX_LAG) {
      // The reader is far behind: send what is held, then jump to near the end, counting.
      this.flushPartial(out);
      this.headFragment = false;
      this.skipping = true;
      this.skipLeft = lag - KEEP_AFTER_SKIP;
      this.missed = 0;
    }
    if (this.skipping && this.skipLeft > 0) {
      const piece = f.next(Math.min(this.skipLeft, STEP));
      if (piece === null || piece === TRUNCATED) {
        this.skipLeft = 0;
        this.endSkip(out, false);
        if (piece === TRUNCATED) this.record(out, 'T', null);
        return 0;
      }
      this.missed += countNewlines(piece);
      this.skipLeft -= piece.length;
      // The skip stopped inside a line: its rest is dropped too (and counted at its \n).
      if (this.skipLeft <= 0) this.dropFragment = piece[piece.length - 1] !== NL;
      if (this.skipLeft <= 0 && !this.dropFragment) this.endSkip(out, true);
      return piece.length;
    }
    const piece = f.next(Math.min(STEP, this.onceLeft));
    if (piece === null) return 0;
    if (piece === TRUNCATED) {
      this.flushPartial(out);
      this.dropFragment = false;
      this.headFragment = false;
      this.endSkip(out, true);
      this.record(out, 'T', null);
      return 0;
    }
    this.onceLeft -= piece.length;
    this.cut(piece, out);
    if (this.done) this.flushPartial(out);
    return piece.length;
  }

  private endSkip(out: Buffer[], report: boolean): void {
    if (!this.skipping) return;
    this.skipping = false;
    if (report && this.missed > 0) this.record(out, 'M', Buffer.from(String(this.missed)));
    this.missed = 0;
  }

  /** Whole lines out as L records; the unfinished rest is held (at most MAX_LINE). */
  private cut(piece: Buffer, out: Buffer[]): void {
    let start = 0;
    if (this.dropFragment || this.headFragment) {
      const nl = piece.indexOf(NL);
      if (nl < 0) {
        if (!this.dropFragment) this.record(out, 'P', piece);
        return;
      }
      if (this.dropFragment) {
        this.missed++;
        this.endSkip(out, true);
      } else {
        this.record(out, 'C', piece.subarray(0, nl));
      }
      this.dropFragment = this.headFragment = false;
      start = nl + 1;
    }
    for (let nl = piece.indexOf(NL, start); nl >= 0; nl = piece.indexOf(NL, start)) {
      let line = piece.subarray(start, nl);
      if (this.partialLen) {
        this.partial.push(line);
        line = Buffer.concat(this.partial);
        this.partial = [];
        this.partialLen = 0;
      }
      // Cut at MAX_LINE whether it came in one read or many: the same line, the same pieces.
      for (; line.length > MAX_LINE; line = line.subarray(MAX_LINE)) this.record(out, 'P', line.subarray(0, MAX_LINE));
      this.record(out, 'L', line);
      start = nl + 1;
    }
    if (start < piece.length) {
      // Copied: the piece's buffer is 64 KiB and only its end is kept.
      const rest = Buffer.from(piece.subarray(start));
      if (this.partialLen === 0) this.partialAt = Date.now();
      this.partial.push(rest);
      this.partialLen += rest.length;
      while (this.partialLen >= MAX_LINE) {
        const all = Buffer.concat(this.partial);
        this.record(out, 'P', all.subarray(0, MAX_LINE));
        const left = all.subarray(MAX_LINE);
        this.partial = left.length ? [Buffer.from(left)] : [];
        this.partialLen = left.length;
        this.partialAt = Date.now();
      }
    }
  }

  /** A held piece older than PARTIAL_MS goes out (the process may be printing a prompt). */
  flushStale(out: Buffer[], now: number): void {
    if (this.partialLen && now - this.partialAt >= PARTIAL_MS) this.flushPartial(out);
  }

  flushPartial(out: Buffer[]): void {
    if (!this.partialLen) return;
    this.record(out, 'P', Buffer.concat(this.partial));
    this.partial = [];
    this.partialLen = 0;
  }

  private record(out: Buffer[], kind: Exclude<RecordKind, 'A'>, payload: Buffer | null): void {
    out.push(KIND[kind], this.tag);
    if (payload) out.push(SPACE, payload);
    out.push(NEWLINE);
  }

  close(): void {
    this.follower?.close();
    this.follower = null;
  }
}

export interface MultiTailOptions {
  resolve: ResolveSources;
  /** absent: always */
  spare?: SpareDescriptor;
  /** each open stream registers its end function here so the server's close() can end it */
  streams: Set<() => void>;
  pollMs?: number;
}

/** Answers a merged tail: 400 for a bad query, 404 naming what does not exist, else the stream. */
export function serveMultiTail(res: ServerResponse, query: string, opts: MultiTailOptions): void {
  const plain = (status: number, text: string): void => {
    startReply(res);
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
  };
  const asked = parseMultiTailQuery(query);
  if (typeof asked === 'string') return plain(400, `${asked}\n`);
  const want: MultiTailRequest = asked;
  const first = opts.resolve(want.specs);
  if (!Array.isArray(first)) return plain(404, `no such process: ${first.unknown.join(' ')}\n`);

  const pollMs = opts.pollMs ?? TAIL_POLL_MS;
  const channels: Array<'stdout' | 'stderr'> = want.streams === 'both' ? ['stdout', 'stderr'] : [want.streams];
  let sources: Source[] = [];
  let timer: NodeJS.Timeout | null = null;
  let resolver: NodeJS.Timeout | null = null;
  let stopped = false;
  let turn = 0;

  /** Sources for what the specs name now; files already followed keep their follower. */
  const adopt = (found: MultiTailSource[], head: number, out: Buffer[]): void => {
    const old = new Map(sources.map((s) => [s.key, s]));
    const next: Source[] = [];
    for (const p of found) {
      for (const ch of channels) {
        const path = p[ch];
        if (path === null) continue;
        const fresh = new Source(p.name, ch, path, head, !want.follow, opts.spare ?? (() => true));
        const kept = old.get(fresh.key);
        if (kept) {
          old.delete(fresh.key);
          next.push(kept);
        } else {
          fresh.announce(out);
          next.push(fresh);
        }
      }
    }
    for (const gone of old.values()) gone.close();
    sources = next;
  };

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    if (resolver) clearInterval(resolver);
    timer = resolver = null;
    res.off('drain', pump);
    opts.streams.delete(end);
    for (const s of sources) s.close();
  };
  const end = (): void => {
    stop();
    if (!res.writableEnded) res.end();
  };

  let pendingOut: Buffer[] = [];
  /** false when the socket wants no more for now */
  const send = (out: Buffer[]): boolean => {
    if (out.length === 0) return true;
    return res.write(Buffer.concat(out));
  };

  function pump(): void {
    timer = null;
    if (stopped) return;
    let budget = PUMP_BUDGET;
    const out = pendingOut;
    pendingOut = [];
    try {
      let moved = true;
      while (moved && budget > 0) {
        moved = false;
        // Round robin from where the last pump stopped.
        for (let i = 0; i < sources.length && budget > 0; i++) {
          const s = sources[(turn + i) % sources.length]!;
          const used = s.step(out);
          if (used > 0) moved = true;
          budget -= used;
        }
        turn = sources.length ? (turn + 1) % sources.length : 0;
        if (out.length > 256) {
          const more = send(out.splice(0));
          if (!more) {
            res.once('drain', pump);
            return;
          }
        }
      }
      const now = Date.now();
      for (const s of sources) s.flushStale(out, now);
    } catch {
      // An I/O error on an open fd: end the stream as /logtail does.
      end();
      return;
    }
    const more = send(out);
    if (!want.follow && budget > 0 && sources.every((s) => s.done)) {
      for (const s of sources) s.flushPartial(pendingOut);
      send(pendingOut);
      end();
      return;
    }
    if (!more) {
      res.once('drain', pump);
      return;
    }
    timer = setTimeout(pump, budget <= 0 ? 0 : pollMs);
  }

  startReply(res);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain;charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Accel-Buffering', 'no');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.flushHeaders();
  opts.streams.add(end);
  res.once('close', stop);
  adopt(first, want.head, pendingOut);
  if (want.follow) {
    resolver = setInterval(() => {
      const found = opts.resolve(want.specs);
      // A named process that went away (update removed it): keep what is followed.
      if (Array.isArray(found)) adopt(found, TAIL_HEAD_BYTES, pendingOut);
    }, RESOLVE_MS);
    resolver.unref();
  }
  pump();
}
