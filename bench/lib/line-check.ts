// SPDX-License-Identifier: MIT
// The checker for formatted logs (stdout_logfile_format, child_log_format):
// reads every line of every file (or a stream), parses it alone -- a JSON
// object, or a stamp and its text -- and adds up the child's bytes it carries,
// so a trial can say whether every byte the programs wrote is there once.
import { createReadStream, readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** raw: lines only counted (their bytes and \n) */
export type CheckedFormat = 'raw' | 'timestamped' | 'json';

export interface LineCheck {
  /** file lines read */
  records: number;
  /** the child's bytes the lines carry (a complete line counts its \n) */
  payloadBytes: number;
  /** lines that did not parse alone */
  bad: number;
  /** json: records per program */
  perProgram: Map<string, number>;
}

const STAMP = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d[.,]\d{3}Z? /;

export function newCheck(): LineCheck {
  return { records: 0, payloadBytes: 0, bad: 0, perProgram: new Map() };
}

/** One file line into the check. */
export function checkLine(check: LineCheck, format: CheckedFormat, line: string): void {
  check.records++;
  if (format === 'raw') {
    check.payloadBytes += Buffer.byteLength(line) + 1;
    return;
  }
  if (format === 'timestamped') {
    const m = STAMP.exec(line);
    if (!m) check.bad++;
    else check.payloadBytes += Buffer.byteLength(line) - m[0].length + 1;
    return;
  }
  try {
    const r = JSON.parse(line) as { line?: unknown; program?: unknown; partial?: unknown };
    if (typeof r.line !== 'string' || typeof r.program !== 'string') throw new Error('shape');
    check.payloadBytes += Buffer.byteLength(r.line) + (r.partial === true ? 0 : 1);
    check.perProgram.set(r.program, (check.perProgram.get(r.program) ?? 0) + 1);
  } catch {
    check.bad++;
  }
}

/** Every line of a stream (a file, a FIFO) into the check; resolves at its end. */
export async function checkStream(check: LineCheck, format: CheckedFormat, file: string): Promise<void> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) checkLine(check, format, line);
}

/** Every file in dir (logs and their rotated files). */
export async function checkDir(dir: string, format: CheckedFormat): Promise<LineCheck> {
  const check = newCheck();
  for (const name of readdirSync(dir).sort()) await checkStream(check, format, path.join(dir, name));
  return check;
}

/** The format a peer writes, by its name (peers/index.ts), or undefined for raw. */
export function peerFormat(peer: string): Exclude<CheckedFormat, 'raw'> | undefined {
  if (peer.endsWith('-json') || peer.endsWith('-json-stdout')) return 'json';
  if (peer.endsWith('-timestamped')) return 'timestamped';
  return undefined;
}
