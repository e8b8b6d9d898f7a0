// SPDX-License-Identifier: MIT
// Capture mode of one output channel (dispatchers.py POutputDispatcher
// record_output / toggle_capturemode, loggers.py BoundIO), pure: bytes in,
// what to log and which PROCESS_COMMUNICATION data to send out.

export const BEGIN_TOKEN = Buffer.from('<!--XSUPERVISOR:BEGIN-->');
export const END_TOKEN = Buffer.from('<!--XSUPERVISOR:END-->');

export type CaptureOutput =
  /**
   * dispatchers.py _log(data): write to the channel's log unless `captured`
   * (then it went to the capture buffer instead), copy to the main log at
   * debug level, and send PROCESS_LOG_* if *_events_enabled (captured or not).
   * `data` is after the transform (strip_ansi) and may be empty only if the
   * transform emptied it.
   */
  | { kind: 'output'; data: Buffer; captured: boolean }
  /** the end token arrived: send PROCESS_COMMUNICATION_* with this data */
  | { kind: 'comm'; data: Buffer };

const EMPTY = Buffer.alloc(0);

// medusa asynchat find_prefix_at_end: the length of the longest proper prefix
// of token that ends haystack (a token split across reads).
function findPrefixAtEnd(haystack: Buffer, token: Buffer): number {
  let l = token.length - 1;
  while (l > 0 && !(haystack.length >= l && haystack.subarray(haystack.length - l).equals(token.subarray(0, l)))) l--;
  return l;
}

/**
 * For a channel with *_capture_maxbytes > 0; one per spawn, as supervisord
 * makes new dispatchers. Without capture mode supervisord logs each read as
 * is and this is not needed.
 */
export class CaptureSplitter {
  private capturemode = false;
  private outputBuffer: Buffer = EMPTY;
  private capture: Buffer = EMPTY;

  constructor(
    private readonly maxbytes: number,
    /** strip_ansi's stripEscapes, applied where _log applies it */
    private readonly transform: (data: Buffer) => Buffer = (d) => d,
  ) {}

  get capturing(): boolean {
    return this.capturemode;
  }

  /** One read (handle_read_event + record_output). */
  feed(chunk: Uint8Array): CaptureOutput[] {
    const out: CaptureOutput[] = [];
    this.outputBuffer = this.outputBuffer.length ? Buffer.concat([this.outputBuffer, chunk]) : Buffer.from(chunk);
    this.record(out);
    return out;
  }

  /**
   * Bytes supervisord holds back and, at EOF, never logs: up to a token's
   * length when nothing else came, or a partial token. fastvisor logs them
   * (call this when the channel reaches EOF); supervisord 4.2.5 loses them.
   * Data inside an unfinished capture stays captured and produces no event.
   */
  end(): CaptureOutput[] {
    const out: CaptureOutput[] = [];
    const data = this.outputBuffer;
    this.outputBuffer = EMPTY;
    this.log(data, out);
    return out;
  }

  // record_output: the same steps, with its recursion on `after` as a loop.
  private record(out: CaptureOutput[]): void {
    for (;;) {
      const token = this.capturemode ? END_TOKEN : BEGIN_TOKEN;
      // "not enough data": a read no longer than the token waits for more,
      // even when it holds no token at all.
      if (this.outputBuffer.length <= token.length) return;
      const data = this.outputBuffer;
      this.outputBuffer = EMPTY;
      const at = data.indexOf(token);
      if (at === -1) {
        const index = findPrefixAtEnd(data, token);
        if (index) {
          this.outputBuffer = Buffer.from(data.subarray(data.length - index));
          this.log(data.subarray(0, data.length - index), out);
        } else {
          this.log(data, out);
        }
        return;
      }
      this.log(data.subarray(0, at), out);
      this.toggle(out);
      const after = data.subarray(at + token.length);
      this.outputBuffer = Buffer.from(after);
      if (after.length === 0) return;
    }
  }

  private log(data: Buffer, out: CaptureOutput[]): void {
    if (data.length === 0) return;
    const d = this.transform(Buffer.from(data));
    if (this.capturemode) this.boundWrite(d);
    out.push({ kind: 'output', data: d, captured: this.capturemode });
  }

  // loggers.BoundIO.write: when the bytes would not fit, as many bytes as are
  // being added are dropped from the front first (not "enough to fit").
  private boundWrite(b: Buffer): void {
    if (this.capture.length + b.length > this.maxbytes) this.capture = this.capture.subarray(b.length);
    this.capture = Buffer.concat([this.capture, b]);
  }

  private toggle(out: CaptureOutput[]): void {
    this.capturemode = !this.capturemode;
    if (!this.capturemode) {
      out.push({ kind: 'comm', data: this.capture });
      this.capture = EMPTY;
    }
  }
}
