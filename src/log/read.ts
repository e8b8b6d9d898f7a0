// SPDX-License-Identifier: MIT
// Reading log files for readLog, readProcess*Log, tailProcess*Log and the
// supervisorctl tail: options.py readFile()/tailFile(), offsets and overflow
// rule for rule. One difference: supervisord decodes the bytes as strict
// UTF-8 and answers HTTP 500 when a read splits a character or meets binary
// output; here a tail never splits a character (the returned offset stops
// before an incomplete one, so the next call picks it up whole) and bytes
// that are not UTF-8 become U+FFFD.
//
// A log that is not a file (stdout_logfile=/dev/stdout in a container: the
// daemon's own stdout, a pipe, a socket or a terminal) cannot be read back.
// supervisord's f.seek() fails there (ESPIPE): readFile answers FAILED and
// tailFile an empty read at the offset asked; so do these, without reading a
// byte of it (a read would take output meant for docker logs or journald).
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { isatty } from 'node:tty';

export class LogReadError extends Error {
  constructor(readonly fault: 'BAD_ARGUMENTS' | 'FAILED') {
    super(fault);
  }
}

function readAt(fd: number, pos: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

// O_NONBLOCK: a FIFO with no writer would block the daemon in open() (supervisord
// hangs there). O_NOCTTY: a daemon without a terminal opening /dev/stdout that is
// one must not make it its controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** The file's stat when Python could seek in it; null for a pipe, a socket or a terminal (no read back). */
function seekableStat(fd: number): Stats | null {
  const st = fstatSync(fd);
  if (st.isFIFO() || st.isSocket()) return null;
  // A terminal has no llseek; /dev/null and other character devices do.
  if (st.isCharacterDevice() && isatty(fd)) return null;
  return st;
}

/** Bytes at the start that continue a character whose first byte is not in the buffer. */
function leadingContinuation(b: Buffer): number {
  let i = 0;
  while (i < b.length && i < 3 && (b[i]! & 0xc0) === 0x80) i++;
  return i;
}

/** Bytes at the end that start a character the buffer does not finish. */
export function trailingIncomplete(b: Buffer): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const c = b[b.length - back]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** options.py readFile(): negative offset = that many bytes from the end (length must be 0). */
export function readFile(filename: string, offset: number, length: number): string {
  let fd: number;
  try {
    fd = openSync(filename, OPEN_FLAGS);
  } catch {
    throw new LogReadError('FAILED');
  }
  try {
    const st = seekableStat(fd);
    if (!st) throw new LogReadError('FAILED');
    const size = st.size;
    let data: Buffer;
    if (offset < 0) {
      if (length) throw new LogReadError('BAD_ARGUMENTS');
      const pos = Math.max(0, size - Math.abs(offset));
      data = readAt(fd, pos, Math.min(Math.abs(offset), size - pos));
      data = data.subarray(leadingContinuation(data));
    } else {
      if (length < 0) throw new LogReadError('BAD_ARGUMENTS');
      const n = length === 0 ? Math.max(0, size - offset) : Math.max(0, Math.min(length, size - offset));
      data = readAt(fd, offset, n);
    }
    return data.toString('utf8');
  } catch (err) {
    if (err instanceof LogReadError) throw err;
    throw new LogReadError('FAILED');
  } finally {
    closeSync(fd);
  }
}

/** options.py tailFile(): [data, next offset, overflow]. */
export function tailFile(filename: string, offset: number, length: number): [string, number, boolean] {
  let fd: number;
  try {
    fd = openSync(filename, OPEN_FLAGS);
  } catch {
    return ['', offset, false];
  }
  const asked = offset;
  try {
    const st = seekableStat(fd);
    if (!st) return ['', offset, false];
    const sz = st.size;
    let overflow = false;
    if (sz > offset + length) {
      overflow = true;
      offset = sz - 1;
    }
    if (offset + length > sz) {
      if (offset > sz - 1) length = 0;
      offset = sz - length;
    }
    if (offset < 0) offset = 0;
    if (length < 0) length = 0;
    // Python's read(length) stops at the end of the file; a buffer of the
    // asked length would be 2 GiB for tail(-5, 2**31-1).
    length = Math.min(length, Math.max(0, sz - offset));
    let data = length === 0 ? Buffer.alloc(0) : readAt(fd, offset, length);
    // The read ends at sz; an incomplete last character is left for the next call.
    const tail = trailingIncomplete(data);
    data = data.subarray(leadingContinuation(data), data.length - tail);
    return [data.toString('utf8'), sz - tail, overflow];
  } catch {
    // A directory: Python's open() fails (ours only at the read), so the offset it was given.
    return ['', asked, false];
  } finally {
    closeSync(fd);
  }
}
