// SPDX-License-Identifier: MIT
// spawn: environment, cwd, umask, user, process group, and every exec failure
// with its message. Real processes, once per backend.
import { chmodSync, closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { lookupUser, testHooks, type NativeError } from '../../src/native/index.js';
import { BACKENDS, CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { isAlive, killTracked, procStatus, zombieChildren } from '../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

const isRoot = process.getuid?.() === 0;

describe.each(BACKENDS)('spawn (%s backend)', (backend) => {
  let h: CoreHarness;
  let dir: string;
  beforeAll(() => {
    h = new CoreHarness(backend);
  });
  afterAll(() => {
    h.stop();
    removeTmpDirs();
  });
  afterEach(() => killTracked());

  async function runAndRead(script: string, req: Parameters<CoreHarness['sh']>[1] = {}): Promise<string> {
    dir = tmpDir();
    const log = path.join(dir, 'out.log');
    const sink = h.core.openSink(log);
    const s = h.sh(script, { ...req, stdout: { sink }, stderr: 'stdout' });
    const exit = await h.waitExit(s.child);
    sink.close();
    expect(exit.code, readFileSync(log, 'utf8')).toBe(0);
    return readFileSync(log, 'utf8');
  }

  it('passes exactly the given environment', async () => {
    const out = await runAndRead('env | sort', { env: { FOO: 'bar baz', EMPTY: '', UNICODE: 'é✓' } });
    // sh adds PWD (and maybe SHLVL/_); everything we passed is there verbatim.
    expect(out).toContain('FOO=bar baz\n');
    expect(out).toContain('EMPTY=\n');
    expect(out).toContain('UNICODE=é✓\n');
    expect(out).not.toContain('PATH=');
  });

  it('starts in cwd with the given umask', async () => {
    const cwd = tmpDir();
    const out = await runAndRead('pwd; umask', { cwd, umask: 0o027 });
    expect(out).toBe(`${cwd}\n0027\n`);
  });

  it('puts the child in its own process group by default, or its own session', async () => {
    const out = await runAndRead('ps -o pid=,pgid=,sid= -p $$');
    const [pid, pgid] = out.trim().split(/\s+/).map(Number);
    expect(pgid).toBe(pid);
    const out2 = await runAndRead('ps -o pid=,pgid=,sid= -p $$', { processGroup: 'session' });
    const [pid2, pgid2, sid2] = out2.trim().split(/\s+/).map(Number);
    expect(pgid2).toBe(pid2);
    expect(sid2).toBe(pid2);
  });

  it('gives the child default signal dispositions (Node ignores SIGPIPE; the child must not)', async () => {
    // exec: the shell itself blocks signals while it waits for a child, so
    // read the mask of a process that was never a waiting shell.
    const out = await runAndRead('exec grep -E "^Sig(Ign|Blk)" /proc/self/status');
    expect(out).toMatch(/SigBlk:\s+0+\n/);
    expect(out).toMatch(/SigIgn:\s+0+\n/);
  });

  it('hands the child only fds 0, 1 and 2', async () => {
    // A glob in the shell itself: a pipeline would have the shell holding its
    // own pipe fds at the moment of listing.
    const out = await runAndRead('cd /proc/$$/fd && echo *');
    // The glob may hold one more fd open for the directory it lists.
    expect(out.trim().split(' ').map(Number).filter((fd) => fd > 2).length).toBeLessThanOrEqual(1);
    expect(out.trim().split(' ').slice(0, 3)).toEqual(['0', '1', '2']);
  });

  it.each([true, false])('hands the child only fds 0, 1 and 2 while the daemon holds hundreds, and keeps none of its own per spawn (shared table: %s)', async (shared) => {
    // Shared: the child shares the daemon's table and copies only the low
    // spawn slots (spawn.cc, SpawnSlots). Not shared: a whole copy, closed in
    // the child (kernels before 5.9, other systems). What it gets must be
    // exactly its stdio either way, however many descriptors sit above.
    // qemu-user (CI's arm64 pass) makes a vfork a fork and refuses CLONE_FILES there.
    const canShare = process.platform === 'linux' && !process.env.FASTVISOR_TEST_QEMU;
    expect(testHooks({ sharedTable: shared })).toBe(shared && canShare);
    const held = Array.from({ length: 300 }, () => openSync('/dev/null', 'r'));
    try {
      const before = readdirSync('/proc/self/fd').length;
      for (let i = 0; i < 20; i++) {
        const out = await runAndRead('cd /proc/$$/fd && echo *');
        expect(out.trim().split(' ').map(Number).filter((fd) => fd > 2).length).toBeLessThanOrEqual(1);
        expect(out.trim().split(' ').slice(0, 3)).toEqual(['0', '1', '2']);
      }
      // Every pipe end and slot copy of those 20 spawns is closed again.
      expect(readdirSync('/proc/self/fd').length).toBe(before);
    } finally {
      for (const fd of held) closeSync(fd);
      testHooks({ sharedTable: true });
    }
  });

  it.runIf(isRoot)('runs as another user with setgid + initgroups + setuid (as root)', async () => {
    const nobody = lookupUser('nobody');
    expect(nobody).not.toBeNull();
    const s = h.spawn({ file: '/bin/sleep', argv: ['sleep', '30'], user: nobody!, stdout: { mode: 'null' }, stderr: { mode: 'null' } });
    const status = await pollUntil(() => {
      const st = procStatus(s.pid);
      return st.Name === 'sleep' ? st : undefined;
    }, { what: 'sleep to exec' });
    expect(status.Uid!.split(/\s+/)).toEqual(Array(4).fill(String(nobody!.uid)));
    expect(status.Gid!.split(/\s+/)).toEqual(Array(4).fill(String(nobody!.gid)));
    expect(status.Groups!.split(/\s+/).filter(Boolean).map(Number).sort()).toEqual([...nobody!.groups].sort());
    // The child shares the daemon's memory until exec (clone+vfork): the
    // credential change must stay in the child, on every daemon thread.
    for (const task of readdirSync('/proc/self/task')) {
      const uid = /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/self/task/${task}/status`, 'utf8'))![1]!;
      expect(uid.split(/\s+/)).toEqual(['0', '0', '0', '0']);
    }
    h.core.kill(s.pid, 'SIGTERM');
    expect((await h.waitExit(s.child)).signal).toBe(15);
  });

  it('looks up users by name and by uid; an unknown user is null', () => {
    expect(lookupUser('root')).toMatchObject({ uid: 0, gid: 0, name: 'root' });
    expect(lookupUser('0')).toMatchObject({ name: 'root' });
    expect(lookupUser('no-such-user-fastvisor')).toBeNull();
  });

  function spawnError(req: Parameters<CoreHarness['spawn']>[0]): NativeError {
    try {
      h.spawn(req);
    } catch (err) {
      return err as NativeError;
    }
    throw new Error('spawn did not fail');
  }

  it("fails with ENOENT \"can't find command\" and leaves no process behind", () => {
    const err = spawnError({ file: '/no/such/program', argv: ['x'] });
    expect(err.message).toBe("can't find command '/no/such/program'");
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'spawn exec', stage: 'exec', path: '/no/such/program' });
    expect(zombieChildren()).toEqual([]);
  });

  it('fails with EACCES for a file that is not executable', () => {
    const f = path.join(tmpDir(), 'script.sh');
    writeFileSync(f, '#!/bin/sh\necho hi\n');
    chmodSync(f, 0o644);
    const err = spawnError({ file: f, argv: [f] });
    expect(err.code).toBe('EACCES');
    expect(err.message).toBe(`command at '${f}' is not executable`);
    expect(zombieChildren()).toEqual([]);
  });

  it('fails with ENOEXEC for an executable that is not a program', () => {
    const f = path.join(tmpDir(), 'garbage');
    writeFileSync(f, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0, 1, 2, 3]));
    chmodSync(f, 0o755);
    const err = spawnError({ file: f, argv: [f] });
    expect(err.code).toBe('ENOEXEC');
  });

  it('fails at chdir for a missing directory, in supervisord\'s words', () => {
    const err = spawnError({ file: '/bin/true', argv: ['true'], cwd: '/no/such/dir' });
    expect(err.message).toBe("couldn't chdir to /no/such/dir: ENOENT");
    expect(err).toMatchObject({ code: 'ENOENT', stage: 'chdir' });
    expect(zombieChildren()).toEqual([]);
  });

  it.runIf(!isRoot)('fails at setgroups when not root', () => {
    const err = spawnError({ file: '/bin/true', argv: ['true'], user: { uid: 0, gid: 0, groups: [0] } });
    expect(err.code).toBe('EPERM');
  });

  it('rejects malformed requests with a TypeError naming the usage', () => {
    expect(() => h.core.spawn({ file: '/bin/true', argv: [], env: {} })).toThrow(TypeError);
    expect(() => h.core.spawn({ file: '/bin/true', argv: ['a\0b'], env: {} })).toThrow(/NUL/);
  });

  it('reports exit codes and signals', async () => {
    const a = h.sh('exit 3', { stdout: { mode: 'null' }, stderr: { mode: 'null' } });
    const b = h.sh('kill -TERM $$', { stdout: { mode: 'null' }, stderr: { mode: 'null' } });
    const c = h.sh('exec sleep 30', { stdout: { mode: 'null' }, stderr: { mode: 'null' } });
    expect(await h.waitExit(a.child)).toMatchObject({ code: 3, signal: null, pid: a.pid });
    expect(await h.waitExit(b.child)).toMatchObject({ code: null, signal: 15 });
    expect(isAlive(c.pid)).toBe(true);
    expect(h.core.kill(c.pid, 'SIGKILL')).toBe(true);
    expect(await h.waitExit(c.child)).toMatchObject({ code: null, signal: 9 });
    // Already reaped: kill says so instead of throwing.
    expect(h.core.kill(c.pid, 'SIGTERM')).toBe(false);
  });

  it('signals a whole process group', async () => {
    dir = tmpDir();
    const log = path.join(dir, 'pids');
    const sink = h.core.openSink(log);
    // The parent shell and a grandchild sleep share the group.
    const s = h.sh('sleep 30 & echo $!; wait', { stdout: { sink } });
    const grandchild = Number(await pollUntil(() => readFileSync(log, 'utf8').trim() || undefined, { what: 'grandchild pid' }));
    expect(isAlive(grandchild)).toBe(true);
    h.core.kill(s.pid, 'SIGTERM', true);
    await h.waitExit(s.child);
    await pollUntil(() => !isAlive(grandchild) || procStatus(grandchild).State?.startsWith('Z'), { what: 'grandchild to die' });
    sink.close();
  });

  it('writes to stdin without blocking, bounded, and reports a closed stdin', async () => {
    dir = tmpDir();
    const log = path.join(dir, 'cat.log');
    const sink = h.core.openSink(log);
    const s = h.spawn({ file: '/bin/cat', argv: ['cat'], stdout: { sink } });
    expect(h.core.writeStdin(s.child, 'hello\n')).toBe('ok');
    expect(h.core.writeStdin(s.child, Buffer.from('world\n'))).toBe('ok');
    await pollUntil(() => readFileSync(log, 'utf8') === 'hello\nworld\n', { what: 'cat to echo stdin' });
    // More than the 1 MiB bound at once is refused whole, not half-taken.
    expect(h.core.writeStdin(s.child, Buffer.alloc(2 << 20, 97))).toBe('full');
    h.core.closeStdin(s.child);
    expect(h.core.writeStdin(s.child, 'late\n')).toBe('closed');
    expect((await h.waitExit(s.child)).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('hello\nworld\n');
    sink.close();
  });

  it('reports stdin-closed when the child closes its stdin and we keep writing', async () => {
    const s = h.sh('exec 0<&-; sleep 30', { stdout: { mode: 'null' }, stderr: { mode: 'null' } });
    // A big write fills the pipe's buffer... except the read end is gone: EPIPE.
    await pollUntil(() => {
      h.core.writeStdin(s.child, 'x\n');
      return h.events.some((e) => e.kind === 'stdin-closed' && e.child === s.child);
    }, { what: 'stdin-closed event' });
    expect(h.core.writeStdin(s.child, 'x')).toBe('closed');
    expect(isAlive(s.pid)).toBe(true);
    h.core.kill(s.pid, 'SIGKILL', true);
    await h.waitExit(s.child);
  });
});
