// SPDX-License-Identifier: MIT
// The file side of /logtail, as supervisord's tail_f_producer: the last 1024 bytes, then
// growth, rotation (a new inode at the path) and truncation, with real files.
import { execFileSync } from 'node:child_process';
import { appendFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { TailFollower, TRUNCATED, openTail } from '../../../src/http/logtail.js';
import { openFds } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(removeTmpDirs);

/** Everything the follower has to give right now. */
function drain(f: TailFollower): string {
  let out = '';
  for (let b = f.next(); b; b = f.next()) out += b.toString('latin1');
  return out;
}

describe('TailFollower', () => {
  it('starts with the last 1024 bytes of a longer file, the whole of a shorter one', () => {
    const dir = tmpDir();
    const long = path.join(dir, 'long.log');
    const body = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(65 + (i % 26))).join('');
    writeFileSync(long, body);
    const f = new TailFollower(long);
    expect(drain(f)).toBe(body.slice(-1024));
    f.close();

    const short = path.join(dir, 'short.log');
    writeFileSync(short, 'hello\n');
    const g = new TailFollower(short);
    expect(drain(g)).toBe('hello\n');
    expect(g.next()).toBeNull();
    g.close();
  });

  it('follows growth: each call returns only what was appended since', () => {
    const file = path.join(tmpDir(), 'a.log');
    writeFileSync(file, 'one\n');
    const f = new TailFollower(file);
    expect(drain(f)).toBe('one\n');
    appendFileSync(file, 'two\n');
    expect(drain(f)).toBe('two\n');
    appendFileSync(file, 'three\nfour\n');
    expect(drain(f)).toBe('three\nfour\n');
    expect(f.next()).toBeNull();
    f.close();
  });

  it('reads a big backlog in bounded pieces', () => {
    const file = path.join(tmpDir(), 'big.log');
    writeFileSync(file, '');
    const f = new TailFollower(file);
    appendFileSync(file, Buffer.alloc(200_000, 0x61));
    const sizes: number[] = [];
    for (let b = f.next(10_000); b; b = f.next(10_000)) sizes.push(b.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200_000);
    expect(Math.max(...sizes)).toBe(10_000);
    f.close();
  });

  it('says "==> File truncated <==" when the file shrinks, then sends the new content', () => {
    const file = path.join(tmpDir(), 't.log');
    writeFileSync(file, 'before the truncation\n');
    const f = new TailFollower(file);
    drain(f);
    truncateSync(file, 0);
    appendFileSync(file, 'after\n');
    expect(f.next()).toEqual(TRUNCATED);
    expect(TRUNCATED.toString()).toBe('==> File truncated <==\n');
    expect(drain(f)).toBe('after\n');
    f.close();
  });

  it('follows rotation to the new file without losing what reached the old one first', () => {
    const file = path.join(tmpDir(), 'r.log');
    writeFileSync(file, 'first\n');
    const f = new TailFollower(file);
    expect(drain(f)).toBe('first\n');
    // Written just before the rotation, not yet polled: supervisord drops this.
    appendFileSync(file, 'late in the old file\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'new file\n');
    expect(drain(f)).toBe('late in the old file\nnew file\n');
    appendFileSync(file, 'more\n');
    expect(drain(f)).toBe('more\n');
    f.close();
  });

  it('keeps following the open file when the path is unlinked, and picks up a new one', () => {
    const file = path.join(tmpDir(), 'u.log');
    writeFileSync(file, 'x\n');
    const f = new TailFollower(file);
    drain(f);
    unlinkSync(file);
    expect(f.next()).toBeNull();
    writeFileSync(file, 'recreated\n');
    expect(drain(f)).toBe('recreated\n');
    f.close();
  });

  it('openTail: 404 for a missing file or directory, 500 for one it cannot read', () => {
    const dir = tmpDir();
    expect(openTail(path.join(dir, 'nope.log'))).toBe(404);
    expect(openTail(path.join(dir, 'nodir', 'x.log'))).toBe(404);
    writeFileSync(path.join(dir, 'f'), '');
    expect(openTail(path.join(dir, 'f', 'x.log'))).toBe(404);
    // supervisord's open() raises for a directory and the handler answers 500.
    expect(openTail(dir)).toBe(500);
  });

  it('opens a FIFO without blocking (a log path that is a pipe)', () => {
    const fifo = path.join(tmpDir(), 'fifo');
    execFileSync('mkfifo', [fifo]);
    const f = openTail(fifo);
    expect(f).toBeInstanceOf(TailFollower);
    expect((f as TailFollower).next()).toBeNull();
    (f as TailFollower).close();
  });

  it('closes its fd', () => {
    const file = path.join(tmpDir(), 'c.log');
    writeFileSync(file, 'x');
    const before = openFds();
    const f = new TailFollower(file);
    expect(openFds()).toBe(before + 1);
    f.close();
    f.close();
    expect(openFds()).toBe(before);
    expect(f.next()).toBeNull();
  });
});
