// SPDX-License-Identifier: MIT
// ready=notify and ready=log: (fastvisor), the pure half: reading an sd_notify
// datagram, and finding the first output line that matches a pattern. The
// socket is native (IoCore.openNotify); the bytes reach JS only while a
// process is not ready yet (log:) or as datagrams (notify), never on the hot path.

/**
 * One sd_notify datagram: newline-separated KEY=VALUE assignments (systemd's
 * sd_notify(3)). Later assignments win; lines without `=` are ignored, as
 * systemd ignores them.
 */
export function parseNotify(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

/** What a process does with a datagram, in the order it applies. */
export interface NotifyMessage {
  ready: boolean;
  /** STATUS=: shown in the description; '' clears it */
  status: string | null;
  watchdog: boolean;
  /** WATCHDOG=trigger: the program asks to be restarted as if its watchdog ran out */
  watchdogTrigger: boolean;
  stopping: boolean;
  /** MAINPID=: recorded and shown; fastvisor keeps supervising the child it started */
  mainpid: number | null;
}

/** STATUS is capped: a child's text goes into every getAllProcessInfo answer. */
export const STATUS_MAX = 200;

export function readNotify(text: string): NotifyMessage {
  const kv = parseNotify(text);
  const status = kv.get('STATUS');
  const mainpid = Number(kv.get('MAINPID'));
  return {
    ready: kv.get('READY') === '1',
    status: status === undefined ? null : status.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, STATUS_MAX),
    watchdog: kv.get('WATCHDOG') === '1',
    watchdogTrigger: kv.get('WATCHDOG') === 'trigger',
    stopping: kv.get('STOPPING') === '1',
    mainpid: Number.isSafeInteger(mainpid) && mainpid > 0 ? mainpid : null,
  };
}

/**
 * The first line of a stream that matches: bytes come in arbitrary pieces; a
 * line is tested when its newline arrives, and the unfinished rest at each
 * piece too (a prompt without a newline can be the ready sign). A line longer
 * than maxLine is tested by its first maxLine bytes.
 */
export class LineMatcher {
  private pending = '';
  private skipping = false;

  constructor(
    private readonly pattern: RegExp,
    private readonly maxLine = 64 * 1024,
  ) {}

  /** The matching line, or null. */
  feed(data: Buffer): string | null {
    let text = data.toString('utf8');
    while (text.length) {
      const nl = text.indexOf('\n');
      const piece = nl < 0 ? text : text.slice(0, nl);
      text = nl < 0 ? '' : text.slice(nl + 1);
      if (!this.skipping) {
        this.pending += piece;
        if (this.pending.length > this.maxLine) {
          this.pending = this.pending.slice(0, this.maxLine);
          this.skipping = true;
        }
        if (this.pattern.test(this.pending)) return this.pending;
      }
      if (nl >= 0) {
        this.pending = '';
        this.skipping = false;
      }
    }
    return null;
  }
}

/** ready=log:REGEX -> the RegExp (the pattern was checked when the config was read). */
export function readyPattern(source: string): RegExp {
  return new RegExp(source);
}
