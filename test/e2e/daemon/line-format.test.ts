// SPDX-License-Identifier: MIT
// Line formats of child logs (fastvisor: stdout_logfile_format,
// stderr_logfile_format, log_timestamp_format, log_max_line, [supervisord]
// child_log_format): a real child prints known lines -- short, CRLF, longer
// than log_max_line, a partial one that waits, control bytes, invalid UTF-8
// -- and every file line must stand alone (parse as JSON, carry its stamp),
// with nothing lost, nothing twice, in order.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { waitState } from '../../helpers/process-info.js';
import { tmpDir } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);

const MAX_LINE = 1024;
const LONG = 'L'.repeat(2 * MAX_LINE + 100);

// What the child writes, as bytes, in order; PAUSE: the child waits 1 s
// there (the partial line before it must go out on its own, marked).
const PAUSE = Symbol('pause');
const SCRIPT: Array<Buffer | typeof PAUSE> = [
  Buffer.from('first line\n'),
  Buffer.from('crlf line\r\n'),
  Buffer.from(`${LONG}\n`),
  Buffer.from('waiting for its end'),
  PAUSE,
  Buffer.from(' ... ended\n'),
  Buffer.from('ctl \x00\x01\x1b[31m "quoted" \\ tab\t del\x7f\n', 'latin1'),
  Buffer.from([0x62, 0x61, 0x64, 0x20, 0xff, 0xfe, 0x20, 0xe2, 0x82, 0x20, 0xc3, 0xa9, 0x0a]), // "bad \xff\xfe \xe2\x82 é"
  Buffer.from('last line\n'),
];

// The child: writes SCRIPT unbuffered, then stays up.
function childScript(dir: string): string {
  const file = path.join(dir, 'talker.py');
  const steps = SCRIPT.map((s) => (s === PAUSE ? 'time.sleep(1)' : `w(bytes.fromhex('${s.toString('hex')}'))`));
  writeFileSync(
    file,
    ['import os, sys, time', 'def w(b):', '    os.write(1, b)', ...steps, 'w(b"DONE\\n")', 'time.sleep(3600)', ''].join('\n'),
  );
  return file;
}

/** The lines the child meant, as a reader of the raw bytes would decode them. */
function expectedLines(): string[] {
  const all = Buffer.concat(SCRIPT.filter((s): s is Buffer => s !== PAUSE));
  // json drops the \r of a CRLF ending.
  return all.toString('utf8').split('\n').slice(0, -1).map((l) => l.replace(/\r$/, ''));
}

interface Record {
  time: string;
  program: string;
  process: string;
  group: string;
  stream: string;
  pid: number;
  line: string;
  partial?: boolean;
}

/** Partial records joined with what follows them: the child's lines again. */
function joinRecords(records: Record[]): string[] {
  const lines: string[] = [];
  let acc = '';
  for (const r of records) {
    acc += r.line;
    if (!r.partial) {
      lines.push(acc);
      acc = '';
    }
  }
  if (acc) lines.push(acc);
  return lines;
}

function parseJsonLines(text: string): Record[] {
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Record);
}

describe('fastvisor: child log line formats', () => {
  it('json: one object per line, the exact shape, long and partial lines marked, nothing lost or doubled', async () => {
    const dir = tmpDir('fv-linefmt-');
    const script = childScript(dir);
    const d = await startDaemon(
      'fastvisor',
      `[program:web]\ncommand=python3 -u ${script}\nprocess_name=web_01\nstdout_logfile=%(here)s/web.log\nstdout_logfile_format=json\nlog_max_line=${MAX_LINE}\nstartsecs=0\n`,
      { dir },
    );
    const info = await waitState(d, 'web:web_01', 'RUNNING');
    const file = path.join(dir, 'web.log');
    await pollUntil(() => readFileSync(file, 'utf8').includes('"line":"DONE"'), { timeout: 15_000, what: 'DONE in the log' });
    const text = readFileSync(file, 'utf8');
    const records = parseJsonLines(text);
    // The documented shape, key order included.
    expect(text.split('\n')[0]).toMatch(
      new RegExp(`^\\{"time":"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z","program":"web","process":"web_01","group":"web","stream":"stdout","pid":${info.pid},"line":"first line"\\}$`),
    );
    for (const r of records) {
      expect(r).toMatchObject({ program: 'web', process: 'web_01', group: 'web', stream: 'stdout', pid: info.pid });
      expect(Buffer.byteLength(r.line)).toBeLessThanOrEqual(MAX_LINE * 3); // U+FFFD is 3 bytes for 1
    }
    expect(joinRecords(records)).toEqual([...expectedLines(), 'DONE']);
    // CRLF: the \r goes with the \n.
    expect(records[1]!.line).toBe('crlf line');
    // The long line: max_line pieces, all but the last marked.
    const long = records.filter((r) => r.line.startsWith('L'));
    expect(long.map((r) => [r.line.length, r.partial ?? false])).toEqual([
      [MAX_LINE, true],
      [MAX_LINE, true],
      [100, false],
    ]);
    // The line that waited: out on its own, marked, its end as the next record.
    const i = records.findIndex((r) => r.line === 'waiting for its end');
    expect(records[i]!.partial).toBe(true);
    expect(records[i + 1]).toMatchObject({ line: ' ... ended' });
    expect(records[i + 1]!.partial).toBeUndefined();
    expect(Date.parse(records[i + 1]!.time) - Date.parse(records[i]!.time)).toBeGreaterThanOrEqual(900);
    // Control characters escaped, invalid UTF-8 replaced.
    expect(text).toContain('"line":"ctl \\u0000\\u0001\\u001b[31m \\"quoted\\" \\\\ tab\\t del\\u007f"');
    expect(records.find((r) => r.line.startsWith('bad'))!.line).toBe('bad \uFFFD\uFFFD \uFFFD \u00e9');
  });

  it('timestamped (rfc3339 and local): every line stamped, the text after the stamp as written', async () => {
    const dir = tmpDir('fv-linefmt-');
    const script = childScript(dir);
    const d = await startDaemon(
      'fastvisor',
      [
        `[program:utc]\ncommand=python3 -u ${script}\nstdout_logfile=%(here)s/utc.log\nstdout_logfile_format=timestamped\nlog_max_line=${MAX_LINE}\nstartsecs=0\n`,
        `[program:loc]\ncommand=python3 -u ${script}\nstdout_logfile=%(here)s/loc.log\nstdout_logfile_format=timestamped\nlog_timestamp_format=local\nlog_max_line=${MAX_LINE}\nstartsecs=0\n`,
      ].join('\n'),
      { dir },
    );
    const stamps = { utc: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, loc: /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} / };
    for (const name of ['utc', 'loc'] as const) {
      const file = path.join(dir, `${name}.log`);
      await pollUntil(() => readFileSync(file, 'latin1').includes(' DONE\n'), { timeout: 15_000, what: `DONE in ${name}.log` });
      const lines = readFileSync(file, 'latin1').slice(0, -1).split('\n');
      for (const l of lines) expect(l).toMatch(stamps[name]);
      const bodies = lines.map((l) => l.replace(stamps[name], ''));
      const raw = Buffer.concat(SCRIPT.filter((s): s is Buffer => s !== PAUSE)).toString('latin1').split('\n').slice(0, -1);
      // Pieces: the long line in MAX_LINE parts, the waiting line and its end apart.
      const want = raw.flatMap((l) =>
        l === LONG ? [LONG.slice(0, MAX_LINE), LONG.slice(MAX_LINE, 2 * MAX_LINE), LONG.slice(2 * MAX_LINE)] : l.startsWith('waiting') ? ['waiting for its end', ' ... ended'] : [l],
      );
      expect(bodies).toEqual([...want, 'DONE']);
    }
    await d.stop();
  });

  it('size rotation never cuts a formatted line; across the files every line is there once, in order', async () => {
    const dir = tmpDir('fv-linefmt-');
    const n = 400;
    const script = path.join(dir, 'lines.py');
    writeFileSync(
      script,
      `import sys, time\nfor i in range(${n}): sys.stdout.write('line %05d ' % i + 'x' * (i % 37) + '\\n')\nsys.stdout.write('END\\n')\nsys.stdout.flush()\ntime.sleep(3600)\n`,
    );
    const d = await startDaemon(
      'fastvisor',
      `[program:r]\ncommand=python3 ${script}\nstdout_logfile=%(here)s/r.log\nstdout_logfile_maxbytes=2KB\nstdout_logfile_backups=100\nstdout_logfile_format=json\nstartsecs=0\n`,
      { dir },
    );
    const file = path.join(dir, 'r.log');
    await pollUntil(() => readFileSync(file, 'utf8').includes('"line":"END"'), { timeout: 15_000, what: 'END in the log' });
    const files = readdirSync(dir)
      .filter((f) => /^r\.log(\.\d+)?$/.test(f))
      .sort((a, b) => Number(b.split('.')[2] ?? 0) - Number(a.split('.')[2] ?? 0));
    expect(files.length).toBeGreaterThan(5);
    const lines: string[] = [];
    for (const f of files) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      // Each file on its own: whole records only, within maxbytes.
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048);
      for (const r of parseJsonLines(text)) lines.push(r.line);
    }
    const want = Array.from({ length: n }, (_, i) => `line ${String(i).padStart(5, '0')} ${'x'.repeat(i % 37)}`);
    expect(lines).toEqual([...want, 'END']);
    await d.stop();
  });

  it('child_log_format=json: children logging to the daemon stdout give a collector one object per line; raw stays raw', async () => {
    const dir = tmpDir('fv-linefmt-');
    const script = childScript(dir);
    // The daemon's stdout and stderr go to a file, as a container runtime
    // collects them (the harness's own stdio are sockets, which /dev/stdout
    // cannot be opened on); sh execs the daemon, so the pid stays its own.
    const collected = path.join(dir, 'collected.out');
    const d = await startDaemon(
      'fastvisor',
      [
        `[supervisord]\nsilent=true\nchild_log_format=json\n`,
        `[program:web]\ncommand=python3 -u ${script}\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nlog_max_line=${MAX_LINE}\nstartsecs=0\n`,
        `[program:err]\ncommand=/bin/sh -c "echo to-stderr >&2; exec sleep 3600"\nstderr_logfile=/dev/stderr\nstderr_logfile_maxbytes=0\nstartsecs=0\n`,
        `[program:plain]\ncommand=/bin/sh -c "echo plain-bytes; exec sleep 3600"\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\nstdout_logfile_format=raw\nstartsecs=0\n`,
      ].join('\n'),
      { dir, wrap: ['/bin/sh', '-c', `exec "$@" >>${collected} 2>&1`, 'sh'] },
    );
    const out = (): string => (existsSync(collected) ? readFileSync(collected, 'utf8') : '');
    await pollUntil(() => out().includes('"line":"DONE"') && out().includes('to-stderr') && out().includes('plain-bytes'), {
      timeout: 15_000,
      what: 'the children on the daemon output',
    }).catch((e: Error) => {
      throw new Error(`${e.message}; the daemon wrote: ${out()}`);
    });
    const lines = out().slice(0, out().lastIndexOf('\n')).split('\n');
    // The program that asked for raw keeps its bytes; every other line is one JSON object.
    expect(lines.filter((l) => l === 'plain-bytes')).toHaveLength(1);
    const records = lines.filter((l) => l !== 'plain-bytes').map((l) => JSON.parse(l) as Record);
    const web = records.filter((r) => r.program === 'web');
    expect(joinRecords(web)).toEqual([...expectedLines(), 'DONE']);
    expect(records.filter((r) => r.program === 'err')).toEqual([
      expect.objectContaining({ program: 'err', process: 'err', group: 'err', stream: 'stderr', line: 'to-stderr' }),
    ]);
  });

  it('capture mode (JS writes the file) formats the same way', async () => {
    const dir = tmpDir('fv-linefmt-');
    const d = await startDaemon(
      'fastvisor',
      `[program:cap]\ncommand=/bin/sh -c "echo one; printf 'two\\\\n<!--XSUPERVISOR:BEGIN-->x<!--XSUPERVISOR:END-->three\\\\n'; echo four and a tail longer than the begin token; exec sleep 3600"\nstdout_logfile=%(here)s/cap.log\nstdout_logfile_format=json\nstdout_capture_maxbytes=1MB\nstartsecs=0\n`,
      { dir },
    );
    const info = await waitState(d, 'cap', 'RUNNING');
    const file = path.join(dir, 'cap.log');
    await pollUntil(() => readFileSync(file, 'utf8').includes('four'), { timeout: 15_000, what: 'four in the log' });
    const records = parseJsonLines(readFileSync(file, 'utf8'));
    expect(joinRecords(records).slice(0, 4)).toEqual(['one', 'two', 'three', 'four and a tail longer than the begin token']);
    for (const r of records) expect(r.pid).toBe(info.pid);
  });
});
