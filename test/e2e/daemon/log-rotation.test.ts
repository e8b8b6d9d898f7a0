// SPDX-License-Identifier: MIT
// Log rotation by time, retention, compression and rotate-now (fastvisor:
// *_logfile_rotate_every, *_logfile_max_age, *_logfile_compress, [supervisord]
// logfile_*, fastvisorctl rotate, fastvisor.rotateLogs), and /dev/stdout when
// the daemon's stdout is a socket. Real children print known bytes; the
// check is always the same: the backups, decompressed, oldest first, then
// the live file, are exactly what the child wrote, in order.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';

import { REPO, startDaemon, stopAllDaemons, type Daemon } from '../../helpers/daemon-harness.js';
import { pyCalls } from '../../helpers/http-fixture.js';
import { pollUntil } from '../../helpers/poll.js';
import { waitState } from '../../helpers/process-info.js';
import { tmpDir } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);

const LINES = 200;
const PAUSE_AT = 100;

// stdout: numbered lines (with a non-UTF-8 byte and a partial line that
// waits 1.2 s for its end); stderr: numbered lines. One every 20 ms, so a
// 1 s period rotates several times while it runs. Then DONE, then it stays.
function talker(dir: string): string {
  const file = path.join(dir, 'talker.py');
  writeFileSync(
    file,
    `import os, time
for i in range(${LINES}):
    if i == ${PAUSE_AT}:
        os.write(1, b'partial-')
        time.sleep(1.2)
        os.write(1, b'ended\\n')
    os.write(1, b'out %d \\xff\\x00 x\\n' % i)
    os.write(2, b'err %d\\n' % i)
    time.sleep(0.02)
os.write(1, b'DONE\\n')
os.write(2, b'DONE\\n')
time.sleep(3600)
`,
  );
  return file;
}

function expectedStdout(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < LINES; i++) {
    if (i === PAUSE_AT) parts.push(Buffer.from('partial-ended\n'));
    parts.push(Buffer.concat([Buffer.from(`out ${i} `), Buffer.from([0xff, 0x00]), Buffer.from(' x\n')]));
  }
  parts.push(Buffer.from('DONE\n'));
  return Buffer.concat(parts);
}

/** The backups of base (NAME.k or NAME.k.gz), oldest first, decompressed, then the live file. */
function recovered(base: string, opts: { gz?: boolean }): { files: Buffer[]; names: string[] } {
  const dir = path.dirname(base);
  const name = path.basename(base);
  const re = new RegExp(`^${name.replace(/\./g, '\\.')}\\.(\\d+)(\\.gz)?$`);
  const backups = readdirSync(dir)
    .map((f) => re.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]));
  if (opts.gz !== undefined) for (const m of backups) expect(Boolean(m[2])).toBe(opts.gz);
  const files = backups.map((m) => {
    const b = readFileSync(path.join(dir, m[0]));
    return m[2] ? gunzipSync(b) : b;
  });
  files.push(readFileSync(base));
  return { files, names: backups.map((m) => m[0]) };
}

function ctl(d: Daemon, ...args: string[]): { stdout: string; stderr: string; status: number | null } {
  const tsx = path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');
  const r = spawnSync(process.execPath, ['--import', tsx, path.join(REPO, 'src', 'cli', 'supervisorctl.ts'), '-s', `unix://${d.sock}`, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** No plain backup of base left (the worker compressed them all). */
function allCompressed(base: string): boolean {
  const name = path.basename(base);
  return !readdirSync(path.dirname(base)).some((f) => new RegExp(`^${name.replace(/\./g, '\\.')}\\.\\d+$`).test(f) || f === `${name}.gz.tmp`);
}

describe('fastvisor: log rotation by time, compression, retention, rotate now', () => {
  it('rotate_every=1s with maxbytes and gzip (stdout), with json lines (stderr): every byte recoverable, in order, lines whole', async () => {
    const dir = tmpDir('fv-rot-');
    const script = talker(dir);
    const d = await startDaemon(
      'fastvisor',
      `[program:talk]
command=python3 -u ${script}
startsecs=0
autorestart=false
stdout_logfile=%(here)s/out.log
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=50
stdout_logfile_rotate_every=1s
stdout_logfile_compress=gzip
stderr_logfile=%(here)s/err.log
stderr_logfile_maxbytes=0
stderr_logfile_backups=50
stderr_logfile_rotate_every=1s
stderr_logfile_format=json
`,
      { dir },
    );
    await waitState(d, 'talk', 'RUNNING');
    const out = path.join(dir, 'out.log');
    const err = path.join(dir, 'err.log');
    // (a rotation renames the file before it opens the new one: a read may find no file for a moment)
    const read = (f: string): string => {
      try {
        return readFileSync(f, 'latin1');
      } catch {
        return '';
      }
    };
    await pollUntil(() => read(err).includes('"line":"DONE"') && read(out).includes('DONE\n'), {
      timeout: 30_000,
      what: 'DONE in both logs',
    });
    await pollUntil(() => allCompressed(out), { timeout: 30_000, what: 'every stdout backup compressed' });

    const o = recovered(out, { gz: true });
    expect(o.names.length).toBeGreaterThanOrEqual(3);
    expect(Buffer.concat(o.files).equals(expectedStdout())).toBe(true);
    // Both rules: no file past maxbytes (split there exactly), and more files than size alone makes.
    for (const f of o.files) expect(f.length).toBeLessThanOrEqual(1024);
    expect(o.files.length).toBeGreaterThan(Math.ceil(expectedStdout().length / 1024));

    const e = recovered(err, { gz: false });
    expect(e.names.length).toBeGreaterThanOrEqual(3);
    const lines: string[] = [];
    for (const f of e.files) {
      const text = f.toString('utf8');
      if (text === '') continue;
      // Rotation comes between whole records: each file ends a line, each line parses.
      expect(text.endsWith('\n')).toBe(true);
      for (const l of text.slice(0, -1).split('\n')) lines.push((JSON.parse(l) as { line: string }).line);
    }
    expect(lines).toEqual([...Array.from({ length: LINES }, (_, i) => `err ${i}`), 'DONE']);
  });

  it('max_age: at a rotation, backups last written longer ago are deleted; young ones stay', async () => {
    const dir = tmpDir('fv-rot-age-');
    const log = path.join(dir, 'a.log');
    // Left by an earlier run: two old backups (a day), one young.
    writeFileSync(`${log}.1`, 'young\n');
    writeFileSync(`${log}.2`, 'old plain\n');
    writeFileSync(`${log}.3.gz`, gzipSync('old gz\n'));
    const dayAgo = Date.now() / 1000 - 86400;
    utimesSync(`${log}.2`, dayAgo, dayAgo);
    utimesSync(`${log}.3.gz`, dayAgo, dayAgo);
    const d = await startDaemon(
      'fastvisor',
      `[program:a]\ncommand=/bin/sh -c 'echo hello; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/a.log\nstdout_logfile_backups=5\nstdout_logfile_max_age=1h\n`,
      { dir },
    );
    await waitState(d, 'a', 'RUNNING');
    await pollUntil(() => readFileSync(log, 'utf8') === 'hello\n', { what: 'hello in a.log' });
    const r = ctl(d, 'rotate', 'a');
    expect(r.stdout).toBe('a: rotated\n');
    expect(r.status).toBe(0);
    // After the shift: .1 the fresh backup, .2 the young one, .3 and .4.gz the old ones, then pruned.
    await pollUntil(() => !existsSync(`${log}.3`) && !existsSync(`${log}.4.gz`), { timeout: 15_000, what: 'the old backups deleted' });
    expect(readFileSync(`${log}.1`, 'utf8')).toBe('hello\n');
    expect(readFileSync(`${log}.2`, 'utf8')).toBe('young\n');
    expect(readFileSync(log, 'utf8')).toBe('');
    expect(readdirSync(dir).filter((f) => f.startsWith('a.log')).sort()).toEqual(['a.log', 'a.log.1', 'a.log.2']);
  });

  it('rotate now: fastvisorctl rotate <name> | <group>:* | all, xmlrpc.client fastvisor.rotateLogs; backups=0 truncates', async () => {
    const dir = tmpDir('fv-rot-now-');
    const d = await startDaemon(
      'fastvisor',
      `[program:a]
command=/bin/sh -c 'echo hello a; echo oops a >&2; exec sleep 1000'
startsecs=0
stdout_logfile=%(here)s/a.log
stderr_logfile=%(here)s/a.err
stdout_logfile_backups=3
[program:b]
command=/bin/sh -c 'echo hello %(process_num)d; exec sleep 1000'
process_name=b_%(process_num)d
numprocs=2
startsecs=0
stdout_logfile=%(here)s/b_%(process_num)d.log
stdout_logfile_backups=0
stderr_logfile=NONE
`,
      { dir },
    );
    for (const n of ['a', 'b:b_0', 'b:b_1']) await waitState(d, n, 'RUNNING');
    const f = (n: string): string => path.join(dir, n);
    await pollUntil(() => readFileSync(f('a.log'), 'utf8') === 'hello a\n' && readFileSync(f('b_1.log'), 'utf8') === 'hello 1\n', { what: 'hellos' });

    let r = ctl(d, 'rotate', 'a');
    expect([r.stdout, r.status]).toEqual(['a: rotated\n', 0]);
    expect(readFileSync(f('a.log.1'), 'utf8')).toBe('hello a\n');
    expect(readFileSync(f('a.log'), 'utf8')).toBe('');
    // stderr too (its backups default to 10, as supervisord's).
    expect(readFileSync(f('a.err.1'), 'utf8')).toBe('oops a\n');

    const py = await pyCalls(`unix://${d.sock}`, [['fastvisor.rotateLogs', 'b:*'], ['fastvisor.rotateLogs', 'nope']]);
    expect(py[0]).toEqual({
      ok: [
        { name: 'b_0', group: 'b', status: 80, description: 'OK', files: [f('b_0.log')] },
        { name: 'b_1', group: 'b', status: 80, description: 'OK', files: [f('b_1.log')] },
      ],
    });
    expect(py[1]).toMatchObject({ fault: 10 });
    // backups=0: truncated in place, as supervisord's size rotation does.
    expect(readFileSync(f('b_0.log'), 'utf8')).toBe('');
    expect(existsSync(f('b_0.log.1'))).toBe(false);

    r = ctl(d, 'rotate', 'all');
    expect([r.stdout, r.status]).toEqual(['a: rotated\nb:b_0: rotated\nb:b_1: rotated\n', 0]);
    expect(readFileSync(f('a.log.2'), 'utf8')).toBe('hello a\n');
    expect(statSync(f('a.log.1')).size).toBe(0);

    r = ctl(d, 'rotate', 'nope', 'b:*');
    expect(r.stdout).toBe('nope: ERROR (no such process)\nb:b_0: rotated\nb:b_1: rotated\n');
    expect(r.status).not.toBe(0);
  });

  it('gzip: a plain backup left by a crash mid-compression is compressed at start; a stale temp file never counts', async () => {
    const dir = tmpDir('fv-rot-crash-');
    const log = path.join(dir, 'c.log');
    writeFileSync(`${log}.1`, 'left plain by the last run\n');
    writeFileSync(`${log}.gz.tmp`, Buffer.from([0x1f, 0x8b, 0x08])); // a truncated gzip
    const d = await startDaemon(
      'fastvisor',
      `[program:c]\ncommand=/bin/sh -c 'echo hi; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/c.log\nstdout_logfile_compress=gzip\n`,
      { dir },
    );
    await waitState(d, 'c', 'RUNNING');
    await pollUntil(() => existsSync(`${log}.1.gz`) && !existsSync(`${log}.1`), { timeout: 15_000, what: 'c.log.1 compressed' });
    expect(gunzipSync(readFileSync(`${log}.1.gz`)).toString()).toBe('left plain by the last run\n');
    expect(existsSync(`${log}.gz.tmp`)).toBe(false);
    await pollUntil(() => readFileSync(log, 'utf8') === 'hi\n', { what: 'hi' });
    expect(ctl(d, 'rotate', 'c').stdout).toBe('c: rotated\n');
    await pollUntil(() => existsSync(`${log}.1.gz`) && existsSync(`${log}.2.gz`) && !existsSync(`${log}.1`), { timeout: 15_000, what: 'shifted and compressed' });
    expect(gunzipSync(readFileSync(`${log}.1.gz`)).toString()).toBe('hi\n');
    expect(gunzipSync(readFileSync(`${log}.2.gz`)).toString()).toBe('left plain by the last run\n');
  });

  it('[supervisord] logfile_rotate_every + logfile_compress: the main log rotates by time into .gz', async () => {
    const dir = tmpDir('fv-rot-main-');
    const d = await startDaemon(
      'fastvisor',
      `[supervisord]\nlogfile_rotate_every=1s\nlogfile_compress=gzip\nlogfile_backups=20\n[program:s]\ncommand=/bin/sleep 1000\nstartsecs=0\nautostart=false\n`,
      { dir },
    );
    const main = path.join(dir, 'supervisord.log');
    // Each start and stop logs lines; over a few seconds the boundaries pass.
    const start = Date.now();
    while (Date.now() - start < 2500) {
      await d.rpc('supervisor.startProcess', 's', true);
      await d.rpc('supervisor.stopProcess', 's', true);
    }
    await d.rpc('supervisor.startProcess', 's', true);
    const { pid } = (await d.rpc('supervisor.getProcessInfo', 's')) as { pid: number };
    // Its log lines reach the file through the I/O thread, perhaps with one
    // more rotation: read until the last spawn is in, every backup compressed.
    let text = '';
    await pollUntil(
      () => {
        if (!readdirSync(dir).some((f) => /^supervisord\.log\.\d+\.gz$/.test(f)) || !allCompressed(main)) return false;
        try {
          text = Buffer.concat(recovered(main, { gz: true }).files).toString();
          // Twice the same: no rotation ran while this read.
          return text.includes(`spawned: 's' with pid ${pid}`) && Buffer.concat(recovered(main, { gz: true }).files).toString() === text;
        } catch {
          return false; // a rotation ran while this read
        }
      },
      { timeout: 15_000, what: 'the main log with its last spawn, backups compressed' },
    );
    expect(text).toMatch(/INFO spawned: 's' with pid \d+/);
    // Every line whole, in time order, none lost: as many "spawned" as starts.
    const spawned = text.split('\n').filter((l) => l.includes("spawned: 's'")).length;
    const stopped = text.split('\n').filter((l) => l.includes('stopped: s (')).length;
    expect(spawned).toBe(stopped + 1);
  });

  it('stdout_logfile=/dev/stdout when the daemon stdout is a socket: the daemon dups its own fd (open gives ENXIO)', async () => {
    const dir = tmpDir('fv-rot-sock-');
    const d = await startDaemon(
      'fastvisor',
      `[program:say]\ncommand=/bin/sh -c 'echo said-to-the-socket; exec sleep 1000'\nstartsecs=0\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n`,
      { dir },
    );
    // Node's stdio 'pipe' is a socketpair: the same as systemd's journal stream.
    const fdType = spawnSync('stat', ['-L', '-c', '%F', `/proc/${d.pid}/fd/1`], { encoding: 'utf8' }).stdout.trim();
    expect(fdType).toBe('socket');
    await waitState(d, 'say', 'RUNNING');
    await pollUntil(() => d.stdout().includes('said-to-the-socket\n'), { timeout: 10_000, what: 'the child line on the daemon stdout' });
  });
});
