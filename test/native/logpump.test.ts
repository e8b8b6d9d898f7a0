// SPDX-License-Identifier: MIT
// The log pump: every byte a child writes reaches disk once, across rotations,
// reopen, clear and write errors, without ever blocking the child.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { SinkFaultEvent, SinkRecoveredEvent, TapEvent } from '../../src/native/index.js';
import { BACKENDS, CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { isAlive, killTracked } from '../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

const isRoot = process.getuid?.() === 0;

/** What `seq 1 n` prints. */
function seqText(n: number): string {
  let s = '';
  for (let i = 1; i <= n; i++) s += `${i}\n`;
  return s;
}

/** A rotated log read back oldest first: name.N … name.1, name. */
function readRotated(file: string): Buffer {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const backups = readdirSync(dir)
    .filter((f) => f.startsWith(`${base}.`) && /^\d+$/.test(f.slice(base.length + 1)))
    .map((f) => Number(f.slice(base.length + 1)))
    .sort((a, b) => b - a);
  return Buffer.concat([...backups.map((n) => readFileSync(`${file}.${n}`)), readFileSync(file)]);
}

describe.each(BACKENDS)('log pump (%s backend)', (backend) => {
  let h: CoreHarness;
  beforeAll(() => {
    h = new CoreHarness(backend);
  });
  afterAll(() => {
    h.stop();
    removeTmpDirs();
  });
  afterEach(() => killTracked());

  it('conserves every byte over several rotations, naming backups name.1 … name.N', async () => {
    const log = path.join(tmpDir(), 'rot.log');
    const sink = h.core.openSink(log, { maxbytes: 100_000, backups: 20 });
    const n = 200_000; // 1,288,895 bytes: 12 rotations
    const s = h.sh(`seq 1 ${n}`, { stdout: { sink } });
    expect((await h.waitExit(s.child)).code).toBe(0);
    const expected = seqText(n);
    const got = readRotated(log);
    expect(got.length).toBe(Buffer.byteLength(expected));
    expect(got.toString() === expected).toBe(true);
    // Every backup is exactly maxbytes: the split is at the byte, not after the read.
    const rotations = Math.floor(got.length / 100_000);
    expect(rotations).toBe(12);
    for (let i = 1; i <= rotations; i++) expect(statSync(`${log}.${i}`).size).toBe(100_000);
    expect(statSync(log).size).toBe(got.length - rotations * 100_000);
    expect(sink.counters()).toMatchObject({ written: got.length, dropped: 0, rotations, size: statSync(log).size });
    sink.close();
  });

  it('keeps only `backups` old files, as supervisord does', async () => {
    const log = path.join(tmpDir(), 'few.log');
    const sink = h.core.openSink(log, { maxbytes: 1000, backups: 2 });
    const s = h.sh('seq 1 2000', { stdout: { sink } });
    await h.waitExit(s.child);
    const files = readdirSync(path.dirname(log)).sort();
    expect(files).toEqual(['few.log', 'few.log.1', 'few.log.2']);
    // The newest bytes are kept, contiguous, at the end of the stream.
    expect(seqText(2000).endsWith(readRotated(log).toString())).toBe(true);
    sink.close();
  });

  it('truncates at maxbytes when backups=0 (supervisord doRollover with no backups)', async () => {
    const log = path.join(tmpDir(), 'trunc.log');
    const sink = h.core.openSink(log, { maxbytes: 1000, backups: 0 });
    const s = h.sh('seq 1 2000', { stdout: { sink } });
    await h.waitExit(s.child);
    expect(readdirSync(path.dirname(log))).toEqual(['trunc.log']);
    expect(statSync(log).size).toBeLessThan(1000);
    expect(seqText(2000).endsWith(readFileSync(log, 'utf8'))).toBe(true);
    sink.close();
  });

  it('has every byte on disk by the time the exit is reported', async () => {
    const log = path.join(tmpDir(), 'exit.log');
    const sink = h.core.openSink(log);
    // 8 MiB written as fast as possible, then an immediate exit.
    const s = h.sh('head -c 8388608 /dev/zero | tr "\\0" x', { stdout: { sink } });
    const exit = await h.waitExit(s.child);
    expect(exit.code).toBe(0);
    // No polling here: the size must already be right when the event arrives.
    expect(statSync(log).size).toBe(8 << 20);
    expect(sink.counters().written).toBe(8 << 20);
    sink.close();
  });

  it('keeps a flooding child and a quiet one both served', async () => {
    const dir = tmpDir();
    const flood = h.core.openSink(path.join(dir, 'flood.log'));
    const quiet = h.core.openSink(path.join(dir, 'quiet.log'));
    const f = h.sh('exec yes 0123456789012345678901234567890123456789', { stdout: { sink: flood } });
    const q = h.sh('for i in 1 2 3 4 5; do echo tick $i; sleep 0.05; done', { stdout: { sink: quiet } });
    await h.waitExit(q.child);
    expect(readFileSync(path.join(dir, 'quiet.log'), 'utf8')).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
    h.core.kill(f.pid, 'SIGKILL');
    await h.waitExit(f.child);
    const size = statSync(path.join(dir, 'flood.log')).size;
    expect(size).toBeGreaterThan(1 << 20);
    expect(size % 41).toBe(0); // whole lines only: nothing torn or lost inside the stream
    flood.close();
    quiet.close();
  });

  it('writes bytes verbatim: UTF-8 split across writes and invalid bytes stay intact', async () => {
    const log = path.join(tmpDir(), 'utf8.log');
    const sink = h.core.openSink(log);
    // "é" (c3 a9) and "✓" (e2 9c 93) split across separate writes with pauses, plus an invalid byte.
    const s = h.sh(`printf '\\303'; sleep 0.05; printf '\\251\\342'; sleep 0.05; printf '\\234\\223\\377\\n'`, { stdout: { sink, tap: true } });
    await h.waitExit(s.child);
    const expected = Buffer.from([0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0xff, 0x0a]);
    expect(readFileSync(log)).toEqual(expected);
    const tapped = Buffer.concat(h.events.filter((e): e is TapEvent => e.kind === 'tap' && e.child === s.child).map((e) => e.data));
    expect(tapped).toEqual(expected);
    sink.close();
  });

  it('taps only the channels asked for, and the tap can be switched on later', async () => {
    const dir = tmpDir();
    const s = h.sh('echo out1; echo err1 >&2; read x; echo out2; echo err2 >&2', {
      stdout: { sink: h.core.openSink(path.join(dir, 'o.log')), tap: true },
      stderr: { sink: h.core.openSink(path.join(dir, 'e.log')) },
    });
    await pollUntil(() => readFileSync(path.join(dir, 'e.log'), 'utf8') === 'err1\n', { what: 'err1' });
    h.core.setTap(s.child, 'stderr', true);
    h.core.writeStdin(s.child, 'go\n');
    await h.waitExit(s.child);
    const taps = h.events.filter((e): e is TapEvent => e.kind === 'tap' && e.child === s.child);
    const text = (stream: string) => taps.filter((t) => t.stream === stream).map((t) => t.data.toString()).join('');
    expect(text('stdout')).toBe('out1\nout2\n');
    expect(text('stderr')).toBe('err2\n');
  });

  it('strips ANSI escapes, even split across reads, when asked', async () => {
    const log = path.join(tmpDir(), 'ansi.log');
    const sink = h.core.openSink(log);
    const s = h.sh(`printf 'a\\033[3'; sleep 0.05; printf '1mred\\033[0m b \\033x\\n'`, { stdout: { sink, stripAnsi: true } });
    await h.waitExit(s.child);
    expect(readFileSync(log, 'utf8')).toBe('ared b \x1bx\n');
    sink.close();
  });

  it('reopens the file after it was moved away (logrotate)', async () => {
    const dir = tmpDir();
    const log = path.join(dir, 'app.log');
    const sink = h.core.openSink(log);
    const s = h.spawn({ file: '/bin/cat', argv: ['cat'], stdout: { sink } });
    h.core.writeStdin(s.child, 'before\n');
    await pollUntil(() => readFileSync(log, 'utf8') === 'before\n', { what: 'first line' });
    renameSync(log, `${log}.moved`);
    h.core.reopenLogs();
    h.core.writeStdin(s.child, 'after\n');
    await pollUntil(() => existsSync(log) && readFileSync(log, 'utf8') === 'after\n', { what: 'second line in the new file' });
    expect(readFileSync(`${log}.moved`, 'utf8')).toBe('before\n');
    h.core.closeStdin(s.child);
    await h.waitExit(s.child);
    sink.close();
  });

  it('clears a log: the current file starts empty, the process keeps logging', async () => {
    const dir = tmpDir();
    const log = path.join(dir, 'c.log');
    const sink = h.core.openSink(log);
    const s = h.spawn({ file: '/bin/cat', argv: ['cat'], stdout: { sink } });
    h.core.writeStdin(s.child, 'old\n');
    await pollUntil(() => readFileSync(log, 'utf8') === 'old\n', { what: 'old line' });
    sink.clear();
    expect(readFileSync(log, 'utf8')).toBe('');
    h.core.writeStdin(s.child, 'new\n');
    await pollUntil(() => readFileSync(log, 'utf8') === 'new\n', { what: 'new line' });
    h.core.closeStdin(s.child);
    await h.waitExit(s.child);
    sink.close();
  });

  it('survives a log on /dev/full: the child keeps running, drops are counted and reported once', async () => {
    const sink = h.core.openSink('/dev/full', { maxbytes: 1000, backups: 3 });
    const s = h.sh('while :; do echo 0123456789; sleep 0.001; done', { stdout: { sink } });
    await pollUntil(() => sink.counters().dropped > 5000, { what: 'drops to accumulate' });
    const faults = h.events.filter((e): e is SinkFaultEvent => e.kind === 'sink-fault' && e.sink === sink.id);
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ code: 'ENOSPC', op: 'write' });
    expect(sink.counters()).toMatchObject({ written: 0, faultErrno: 28 });
    expect(isAlive(s.pid)).toBe(true);
    // /dev/full is not a regular file: rotation must not try to rename it.
    expect(existsSync('/dev/full')).toBe(true);
    // The core is still healthy: another child logs normally.
    const ok = h.core.openSink(path.join(tmpDir(), 'ok.log'));
    const t = h.sh('echo fine', { stdout: { sink: ok } });
    await h.waitExit(t.child);
    expect(ok.counters().written).toBe(5);
    h.core.kill(s.pid, 'SIGKILL');
    await h.waitExit(s.child);
    sink.close();
    ok.close();
  });

  it.runIf(isRoot)('recovers after a full disk frees up, and says how much was dropped', async () => {
    const mnt = tmpDir('fv-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    try {
      writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(200 * 1024));
      const log = path.join(mnt, 'app.log');
      const sink = h.core.openSink(log);
      const s = h.sh('i=0; while :; do i=$((i+1)); echo line $i; done', { stdout: { sink } });
      await h.waitEvent((e): e is SinkFaultEvent => e.kind === 'sink-fault' && e.sink === sink.id, 10_000, 'ENOSPC');
      await pollUntil(() => sink.counters().dropped > 0, { what: 'drops' });
      expect(isAlive(s.pid)).toBe(true);
      rmSync(path.join(mnt, 'filler'));
      const rec = await h.waitEvent((e): e is SinkRecoveredEvent => e.kind === 'sink-recovered' && e.sink === sink.id, 10_000, 'recovery');
      expect(rec.dropped).toBeGreaterThan(0);
      h.core.kill(s.pid, 'SIGKILL');
      await h.waitExit(s.child);
      const c = sink.counters();
      expect(c.faultErrno).toBe(0);
      // Bytes read = bytes on disk + bytes dropped: nothing unaccounted.
      expect(statSync(log).size).toBe(c.written);
      sink.close();
    } finally {
      execFileSync('umount', ['-l', mnt]);
    }
  });

  it('handles a child that closes stdout early but keeps running, without spinning', async () => {
    const log = path.join(tmpDir(), 'early.log');
    const sink = h.core.openSink(log);
    const s = h.sh('echo last words; exec 1>&-; exec sleep 30', { stdout: { sink } });
    await h.waitEvent((e): e is Extract<typeof e, { kind: 'eof' }> => e.kind === 'eof' && e.child === s.child && e.stream === 'stdout', 10_000, 'eof');
    expect(readFileSync(log, 'utf8')).toBe('last words\n');
    expect(isAlive(s.pid)).toBe(true);
    // A level-triggered loop that kept a closed pipe registered would burn a
    // core from here on. Half a second of this process's CPU tells.
    const before = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 500));
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000 / (performance.now() - t0)).toBeLessThan(0.5);
    h.core.kill(s.pid, 'SIGKILL');
    expect((await h.waitExit(s.child)).signal).toBe(9);
    sink.close();
  });

  it('sends stdout and stderr to the same file with redirect, in write order', async () => {
    const log = path.join(tmpDir(), 'both.log');
    const sink = h.core.openSink(log);
    const s = h.sh('echo one; echo two >&2; echo three', { stdout: { sink }, stderr: 'stdout' });
    await h.waitExit(s.child);
    expect(readFileSync(log, 'utf8')).toBe('one\ntwo\nthree\n');
    sink.close();
  });

  it('appends lines written from JS (the main log) in order, rotating like child output', async () => {
    const log = path.join(tmpDir(), 'main.log');
    const sink = h.core.openSink(log, { maxbytes: 1000, backups: 5 });
    const expected = seqText(1000);
    for (const line of expected.split(/(?<=\n)/)) sink.write(line);
    await pollUntil(() => sink.counters().written === expected.length, { what: 'all lines written' });
    expect(readRotated(log).toString()).toBe(expected);
    expect(sink.counters().rotations).toBe(3);
    sink.close();
  });

  it('refuses to open a log in a missing directory with a clear error', () => {
    expect(() => h.core.openSink('/no/such/dir/app.log')).toThrow("couldn't open log file /no/such/dir/app.log: ENOENT");
  });
});
