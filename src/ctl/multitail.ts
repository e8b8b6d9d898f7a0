// SPDX-License-Identifier: MIT
// fastvisorctl's merged tail: `tail [-f|-N] a b c`, `tail -f group:*`, `tail -f all`,
// with --stdout/--stderr/--both. One stream from the daemon's /fastvisor/tail (records
// of whole lines, see src/http/multitail.ts), printed as `name | line` with the names
// aligned, coloured on a terminal. supervisorctl has no such form: every one of these
// argument lists is an error there, so the single-process tail stays as it was.
import http from 'node:http';

import { endpointOf } from './client.js';
import { Exit, type Controller } from './controller.js';
import { fromNodeError } from './errors.js';
import { errorLine } from './format.js';
import { pyLen } from './py.js';

export type MergedStreams = 'stdout' | 'stderr' | 'both';

export interface MergedTail {
  specs: string[];
  streams: MergedStreams;
  /** -f; else the last `bytes` of each log, in whole lines */
  follow: boolean;
  bytes: number;
}

const STREAM_OPTIONS: Record<string, MergedStreams> = { '--stdout': 'stdout', '--stderr': 'stderr', '--both': 'both' };

/**
 * The merged form of tail's arguments, or null for the form supervisorctl knows
 * (`[-f|-N] name [stdout|stderr]`, errors included), which tail.ts handles as before.
 * Merged for sure (`explicit`): a --stdout/--stderr/--both option, or `all` / `group:*`
 * among the names. Merged maybe: two names or more, which supervisorctl reads as a name
 * and a bad channel; tail.ts takes them as names only when every one is a process.
 */
export function parseMergedTail(args: readonly string[]): (MergedTail & { explicit: boolean }) | string | null {
  const longOpts = args.filter((a) => a in STREAM_OPTIONS);
  let rest = args.filter((a) => !(a in STREAM_OPTIONS));
  let modifier: string | undefined;
  if (rest[0]?.startsWith('-')) [modifier, ...rest] = rest;
  let streams: MergedStreams | undefined;
  const last = rest[rest.length - 1]?.toLowerCase();
  if (rest.length > 1 && (last === 'stdout' || last === 'stderr')) {
    streams = last;
    rest = rest.slice(0, -1);
  }
  const explicit = longOpts.length > 0 || rest.some((s) => s === 'all' || /:\*?$/.test(s));
  if (!explicit && rest.length < 2) return null;
  const fail = (why: string): string | null => (explicit ? why : null);
  for (const o of longOpts) streams = STREAM_OPTIONS[o];
  const bad = rest.find((a) => a.startsWith('-'));
  if (bad !== undefined) return fail(`bad argument ${bad}`);
  if (rest.length === 0) return fail('tail requires process name');
  let follow = false;
  let bytes = 1600;
  if (modifier !== undefined) {
    const what = modifier.slice(1);
    if (what === 'f') follow = true;
    else if (/^[0-9]+$/.test(what)) bytes = Number(what);
    else return fail(`bad argument ${modifier}`);
  }
  return { specs: rest, streams: streams ?? 'stdout', follow, bytes, explicit };
}

/** Every spec names a process the daemon has (`name` or `group:name`); false when it cannot tell. */
export async function allProcesses(ctl: Controller, specs: readonly string[]): Promise<boolean> {
  let infos: unknown;
  try {
    infos = await ctl.getSupervisor().call('getAllProcessInfo');
  } catch {
    return false;
  }
  if (!Array.isArray(infos)) return false;
  const known = new Set<string>();
  for (const i of infos as Array<{ group: string; name: string }>) {
    known.add(`${i.group}:${i.name}`);
    if (i.group === i.name) known.add(i.name);
  }
  return specs.every((s) => known.has(s));
}

// Names get these in turn on a terminal (red is kept for errors and stderr).
const PALETTE = ['36', '33', '32', '35', '34', '96', '93', '92', '95', '94'];

/** Prints records as `name | line`; keeps the column the widest name so far needs. */
export class Printer {
  private width = 0;
  private readonly colours = new Map<string, string>();
  /** sources whose last record was a P: their next record goes on the same line */
  private readonly open = new Set<string>();

  constructor(
    private readonly color: boolean,
    private readonly both: boolean,
  ) {}

  /** One record (without its \n) to the bytes to print, or null for none. */
  line(rec: Buffer): Buffer | null {
    const kind = String.fromCharCode(rec[0] ?? 0);
    const s1 = rec.indexOf(0x20, 2);
    if (rec[1] !== 0x20 || s1 < 0) return null;
    const s2 = rec.indexOf(0x20, s1 + 1);
    let name: string;
    try {
      name = decodeURIComponent(rec.subarray(2, s1).toString('latin1'));
    } catch {
      return null;
    }
    const stream = rec.subarray(s1 + 1, s2 < 0 ? rec.length : s2).toString('latin1');
    const payload = s2 < 0 ? Buffer.alloc(0) : rec.subarray(s2 + 1);
    const key = `${name}\0${stream}`;
    if (kind === 'A') {
      if (!this.colours.has(name)) this.colours.set(name, PALETTE[this.colours.size % PALETTE.length]!);
      this.width = Math.max(this.width, pyLen(name));
      return null;
    }
    const continues = this.open.has(key);
    if (kind === 'P') this.open.add(key);
    else this.open.delete(key);
    switch (kind) {
      case 'L':
      case 'P':
        return this.prefixed(name, stream, continues ? '+' : '|', payload);
      case 'C':
        return this.prefixed(name, stream, '+', payload);
      case 'M':
        return this.prefixed(name, stream, '|', Buffer.from(this.paint('31', `==> missed ${payload.toString('latin1')} lines (this reader fell behind) <==`)));
      case 'T':
        return this.prefixed(name, stream, '|', Buffer.from('==> File truncated <=='));
      case 'W':
        return this.prefixed(name, stream, '|', Buffer.from(this.paint('31', `==> ${payload.toString('utf8')} <==`)));
      default:
        return null;
    }
  }

  private paint(sgr: string, text: string): string {
    return this.color ? `\x1b[${sgr}m${text}\x1b[0m` : text;
  }

  private prefixed(name: string, stream: string, sep: string, payload: Buffer): Buffer {
    const pad = ' '.repeat(Math.max(0, this.width - pyLen(name)));
    let head = this.paint(this.colours.get(name) ?? PALETTE[0]!, name) + pad;
    if (this.both) head += ' ' + (stream === 'stderr' ? this.paint('31', 'err') : 'out');
    return Buffer.concat([Buffer.from(`${head} ${sep} `), payload, Buffer.from('\n')]);
  }
}

function queryOf(t: MergedTail): string {
  const q = new URLSearchParams();
  for (const s of t.specs) q.append('name', s);
  q.set('stream', t.streams);
  if (!t.follow) {
    q.set('follow', '0');
    q.set('head', String(t.bytes));
  }
  return q.toString();
}

interface Writable {
  write(chunk: Uint8Array): unknown;
  once?(event: 'drain', fn: () => void): unknown;
}

/** Runs the merged tail until the stream ends (without -f) or Ctrl-C. */
export async function mergedTail(ctl: Controller, t: MergedTail): Promise<void> {
  const { serverurl, username, password } = ctl.options;
  const unix = serverurl.startsWith('unix://');
  const endpoint = endpointOf(serverurl);
  const headers: Record<string, string> = { Accept: '*/*', 'User-agent': 'fastvisorctl' };
  if (password) headers['Authorization'] = `Basic ${Buffer.from(`${username ?? ''}:${password}`).toString('base64')}`;
  const where: http.RequestOptions = 'unix' in endpoint ? { socketPath: endpoint.unix } : endpoint;
  const path = `/fastvisor/tail?${queryOf(t)}`;
  const out = ctl.io.stdout as Writable;
  const printer = new Printer(ctl.color, t.streams === 'both');

  let req: http.ClientRequest | undefined;
  let interrupted = false;
  const pop = ctl.interrupts.push(() => {
    interrupted = true;
    req?.destroy();
  });
  try {
    await new Promise<void>((resolve) => {
      req = http.get({ ...where, path, headers, agent: false }, (res) => {
        if (res.statusCode !== 200) {
          const body: Buffer[] = [];
          res.on('data', (c: Buffer) => body.push(c));
          res.on('end', () => {
            const text = Buffer.concat(body).toString('utf8');
            ctl.exitstatus = Exit.GENERIC;
            const unknown = /^no such process: (.*)$/m.exec(text);
            if (res.statusCode === 404 && unknown && res.headers['content-type']?.startsWith('text/plain')) {
              for (const n of unknown[1]!.split(' ')) ctl.output(errorLine(ctl.color, n, 'no such process name'));
            } else if (res.statusCode === 404) {
              ctl.output('Error: this server has no merged tail (a fastvisor feature); tail one process at a time');
            } else {
              ctl.output(`Error: merged tail refused: HTTP ${res.statusCode} ${text.trim().split('\n')[0] ?? ''}`);
            }
            resolve();
          });
          res.on('error', () => resolve());
          return;
        }
        // Said once the daemon follows the files: what is written from now on will be seen.
        if (t.follow) ctl.output('==> Press Ctrl-C to exit <==');
        let carry: Buffer = Buffer.alloc(0);
        res.on('data', (chunk: Buffer) => {
          const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
          const lines: Buffer[] = [];
          let start = 0;
          for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
            const line = printer.line(data.subarray(start, nl));
            if (line) lines.push(line);
            start = nl + 1;
          }
          carry = Buffer.from(data.subarray(start));
          if (lines.length === 0 || interrupted) return;
          // A reader that stops reading our stdout stops us reading the socket: the
          // daemon then holds nothing for us and skips ahead (an M record) instead.
          if (out.write(Buffer.concat(lines)) === false && out.once) {
            res.pause();
            out.once('drain', () => res.resume());
          }
        });
        res.on('end', resolve);
        res.on('error', resolve);
        res.on('close', resolve);
      });
      req.on('error', (e) => {
        if (!interrupted) {
          const py = fromNodeError(e, 'connect', unix);
          ctl.io.stderr.write(`${serverurl}${path} Cannot connect, error: <class '${py.pyClass}'> (${py.pyMessage})\n`);
          ctl.exitstatus = Exit.GENERIC;
        }
        resolve();
      });
    });
  } finally {
    pop();
  }
  if (interrupted) ctl.output('');
}

export function mergedTailError(ctl: Controller, why: string): void {
  ctl.output(`Error: ${why}`);
  ctl.exitstatus = Exit.GENERIC;
}
