// SPDX-License-Identifier: MIT
// cgroupfs and placement before exec, on this host's hierarchies: the v2
// hierarchy (clone3 CLONE_INTO_CGROUP, cgroup.kill; controllers not needed)
// and a v1 one (the child writes itself into cgroup.procs; freezer kill).
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { cgroupfs } from '../../src/native/index.js';
import { detectLayout } from '../../src/process/cgroup-plan.js';
import { CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked, track } from '../helpers/procs.js';

const read = (f: string): string | null => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return null;
  }
};
const root = process.platform === 'linux' && process.getuid?.() === 0;
const layout = root ? detectLayout(read('/proc/self/mountinfo') ?? '', read('/proc/self/cgroup') ?? '', read) : null;
const v2mount = layout?.v2?.mount ?? null;
const freezer = layout?.v1.get('freezer')?.mount ?? null;
const made: string[] = [];

function leaf(mount: string, name: string): string {
  const dir = path.join(mount, `fastvisor-native-${process.pid}-${name}`);
  made.push(dir);
  cgroupfs.setup([dir], []);
  return dir;
}
const procs = (dir: string): number[] => (read(path.join(dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean).map(Number);
const gone = (pid: number): boolean => !existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(read(`/proc/${pid}/status`) ?? '');

let h: CoreHarness | undefined;
afterEach(() => killTracked());
afterAll(() => {
  h?.stop();
  for (const d of made) {
    for (const p of procs(d)) process.kill(p, 'SIGKILL');
    try {
      rmdirSync(d);
    } catch {
      // still dying; its name is unique to this run
    }
  }
});

// A child that double-forks a grandchild in a session of its own, then waits.
const DOUBLE_FORK = 'setsid sleep 1001 & exec sleep 1000';

describe.skipIf(!v2mount)('cgroup v2 hierarchy', () => {
  it('places the child before exec (clone3 CLONE_INTO_CGROUP), cgroup.kill takes its whole tree, then rmdir', async () => {
    h ??= new CoreHarness('epoll');
    const dir = leaf(v2mount!, 'v2');
    const s = h.sh(DOUBLE_FORK, { cgroup: { procs: [path.join(dir, 'cgroup.procs')], dir }, stdout: { mode: 'null' }, stderr: { mode: 'null' } });
    track(s.pid);
    const members = await pollUntil(() => procs(dir).length === 2 && procs(dir), { what: 'child and grandchild in the cgroup' });
    expect(members).toContain(s.pid);
    expect(cgroupfs.remove(dir)).toBe(false);
    cgroupfs.kill(dir, 'v2');
    await h.waitExit(s.child);
    await pollUntil(() => members.every(gone), { what: 'the whole tree gone' });
    await pollUntil(() => cgroupfs.remove(dir), { what: 'rmdir' });
  });

  it('a cgroup that cannot be entered is the spawn error of stage cgroup', () => {
    h ??= new CoreHarness('epoll');
    expect(() => h!.sh('exit 0', { cgroup: { procs: ['/nonexistent/cgroup.procs'] } })).toThrow(expect.objectContaining({ stage: 'cgroup', code: 'ENOENT' }));
  });
});

describe.skipIf(!freezer)('cgroup v1 hierarchy (freezer)', () => {
  it('the child writes itself into cgroup.procs before exec; freeze + SIGKILL + thaw takes its whole tree', async () => {
    h ??= new CoreHarness('epoll');
    const dir = leaf(freezer!, 'v1');
    const s = h.sh(DOUBLE_FORK, { cgroup: { procs: [path.join(dir, 'cgroup.procs')] }, stdout: { mode: 'null' }, stderr: { mode: 'null' } });
    track(s.pid);
    const members = await pollUntil(() => procs(dir).length === 2 && procs(dir), { what: 'child and grandchild in the cgroup' });
    expect(read(`/proc/${s.pid}/cgroup`)).toContain(`freezer:/${path.basename(dir)}`);
    expect(cgroupfs.signal(dir, 0)).toBe(2);
    expect(cgroupfs.kill(dir, 'v1-freezer')).toBe(2);
    await h.waitExit(s.child);
    await pollUntil(() => members.every(gone), { what: 'the whole tree gone' });
    expect(read(path.join(dir, 'freezer.state'))?.trim()).toBe('THAWED');
    await pollUntil(() => cgroupfs.remove(dir), { what: 'rmdir' });
  });
});
