// SPDX-License-Identifier: MIT
// Request bodies: read one whole (bounded by its Content-Length, which the caller has
// checked, and by what all requests together may hold), or throw one away before
// refusing the request.
import type { IncomingMessage } from 'node:http';

/**
 * How much of an unwanted body (401, 413) is read and dropped before the refusal goes out.
 * Closing a socket with unread data makes the kernel send a RST, and the client may then
 * lose the reply it has not read yet: xmlrpc.client writes its whole body before it
 * reads, so it would see "connection reset" instead of 401 (supervisorctl prompts for a
 * password on 401). Above this the client is not worth the bandwidth: refuse and close.
 */
export const DRAIN_CAP = 16 * 1024 * 1024;

/** Calls `then` once the body has been read and dropped (or at once when there is none). */
export function discardBody(req: IncomingMessage, then: () => void): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (req.complete || declared > DRAIN_CAP) {
    req.resume();
    then();
    return;
  }
  let seen = 0;
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    then();
  };
  req.on('data', (c: Buffer) => {
    seen += c.length;
    // A chunked body has no declared size: stop waiting at the cap.
    if (seen > DRAIN_CAP) once();
  });
  req.once('end', once);
}

/**
 * Bytes of request bodies all connections of a set of servers may hold at once. Each
 * request may send MAX_BODY_BYTES; a thousand clients doing so together would hold
 * gigabytes, and what the allocator got back for them it keeps long after (glibc does not
 * return a fragmented heap). Seven bodies of the largest size fit; supervisorctl's are a
 * few hundred bytes.
 */
export const BODY_BUDGET = 16 * 1024 * 1024;
/** A body that has sent nothing for this long makes way for one that is arriving. */
export const BODY_STALL_MS = 1000;
/**
 * The last MiB (an eighth, of a small budget) is for small bodies only: every supervisorctl
 * call is one, and clients sending large ones must not crowd out the usual traffic.
 */
const SMALL_BODY = 4096;
const SMALL_RESERVE = 1024 * 1024;

/** The bytes of the bodies being read or handled, against the budget. */
export class BodyBudget {
  private held = 0;
  private readonly leases = new Set<BodyLease>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    readonly limit = BODY_BUDGET,
    private readonly stallMs = BODY_STALL_MS,
  ) {}

  /** What a request holds, returned by release() when its reply is done. */
  lease(req: IncomingMessage, declared: number): BodyLease {
    const reserve = Math.min(SMALL_RESERVE, Math.floor(this.limit / 8));
    const l = new BodyLease(this, req, declared <= SMALL_BODY ? this.limit : this.limit - reserve);
    this.leases.add(l);
    // Stalls are counted in sweeps, not read off a clock: while the daemon itself is busy
    // (a large call parsed, a big reply built) nobody's data is read, and a clock would
    // blame the clients. The timers run before the next poll for I/O, so a body counts as
    // stalled only after two sweeps with a chance to read it in between.
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(1, this.stallMs / 2)).unref();
    return l;
  }

  get bytesHeld(): number {
    return this.held;
  }

  /** @internal */
  take(l: BodyLease, n: number): boolean {
    if (this.held + n > l.limit) this.evictStalled(l, n);
    if (this.held + n > l.limit) return false;
    this.held += n;
    return true;
  }

  /** @internal */
  drop(l: BodyLease): void {
    this.held -= l.bytes;
    this.leases.delete(l);
    if (this.leases.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  private sweep(): void {
    for (const l of this.leases) {
      l.idleSweeps = l.fresh ? 0 : l.idleSweeps + 1;
      l.fresh = false;
    }
  }

  // Slowloris with bodies: a client that sends most of a large body and stalls would hold
  // its share until the request timeout. Incomplete bodies that have stalled are cut,
  // the longest stalled first, before a body that is arriving is refused.
  private evictStalled(taker: BodyLease, n: number): void {
    const stalled = [...this.leases]
      .filter((l) => l !== taker && l.bytes > 0 && !l.req.complete && l.idleSweeps >= 2)
      .sort((a, b) => b.idleSweeps - a.idleSweeps);
    for (const l of stalled) {
      if (this.held + n <= taker.limit) return;
      l.release();
      l.req.socket?.destroy();
    }
  }
}

export class BodyLease {
  bytes = 0;
  /** data came since the last sweep */
  fresh = true;
  /** sweeps in a row without data */
  idleSweeps = 0;
  private released = false;

  constructor(
    private readonly budget: BodyBudget,
    readonly req: IncomingMessage,
    /** how full the budget may be after this request's bytes: all of it for a small body */
    readonly limit: number,
  ) {}

  take(n: number): boolean {
    if (this.released || !this.budget.take(this, n)) return false;
    this.bytes += n;
    this.fresh = true;
    this.idleSweeps = 0;
    return true;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.drop(this);
    this.bytes = 0;
  }
}

/**
 * The body as the pieces it arrived in (no copy of the whole), null if the client went
 * away first, or 'over_budget' when the bytes all requests hold would pass the budget: the
 * request is then paused (its socket no longer read) for the caller to refuse.
 */
export function readBody(req: IncomingMessage, expected: number, lease: BodyLease): Promise<Buffer[] | null | 'over_budget'> {
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer): void => {
      got += c.length;
      // Node frames the body by Content-Length, so this holds; the check keeps memory bounded anyway.
      if (got > expected) return;
      if (!lease.take(c.length)) {
        req.off('data', onData);
        req.pause();
        chunks = [];
        resolve('over_budget');
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks));
    req.once('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}
