// SPDX-License-Identifier: MIT
// cgroup decisions without a kernel: which layout (pure v2, hybrid, v1), the
// files and values per version (systemd's mapping), placement, kill, OOM
// counting, and refusals that name the option.
import { describe, expect, it } from 'vitest';

import type { CgroupLimits } from '../../../src/config/model.js';
import { describeLayout, detectLayout, formatBytes, oomCause, oomKills, planCgroup, type CgroupPlan } from '../../../src/process/cgroup-plan.js';

const none: CgroupLimits = { memory_max: null, memory_high: null, cpu_max: null, cpu_weight: null, pids_max: null, io_weight: null };

// Debian 12: pure v2 under systemd, the daemon in a service cgroup.
const V2_MOUNTINFO = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';
const V2_SELF = '0::/system.slice/fastvisor.service\n';
// This kind of machine: v1 controllers, an empty unified hierarchy (hugetlb only).
const HYBRID_MOUNTINFO = [
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const HYBRID_SELF = '9:name=systemd:/\n8:pids:/\n6:freezer:/\n4:memory:/job/42\n1:cpu:/\n0::/\n';

const controllers = (text: string) => (file: string) => (file.endsWith('cgroup.controllers') ? text : null);

describe('detectLayout', () => {
  it('pure v2 with controllers: v2, the daemon cgroup from /proc/self/cgroup', () => {
    const l = detectLayout(V2_MOUNTINFO, V2_SELF, controllers('cpuset cpu io memory hugetlb pids rdma misc\n'))!;
    expect(l.version).toBe(2);
    expect(l.v2).toEqual({ mount: '/sys/fs/cgroup', self: '/system.slice/fastvisor.service', controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'] });
    expect(describeLayout(l)).toBe('cgroups: v2 (cpuset, cpu, io, memory, hugetlb, pids, rdma, misc) under /sys/fs/cgroup');
  });

  it('hybrid with an empty (or hugetlb-only) unified hierarchy: v1', () => {
    const l = detectLayout(HYBRID_MOUNTINFO, HYBRID_SELF, controllers('hugetlb\n'))!;
    expect(l.version).toBe(1);
    expect([...l.v1.keys()]).toEqual(['cpu', 'memory', 'freezer', 'pids']);
    expect(l.v1.get('memory')).toEqual({ mount: '/sys/fs/cgroup/memory', self: '/job/42' });
    expect(describeLayout(l)).toBe('cgroups: v1 (cpu, memory, freezer, pids) under /sys/fs/cgroup/<controller>');
  });

  it('a cgroup namespace or bind mount whose root is a cgroup: paths relative to it', () => {
    const l = detectLayout('30 23 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', '0::/kubepods/pod1/c1\n', controllers('memory pids'))!;
    expect(l.v2!.self).toBe('/c1');
  });

  it('v2 without controllers and no v1: v2 (kill_mode=cgroup only); nothing mounted: null', () => {
    expect(detectLayout(V2_MOUNTINFO, V2_SELF, controllers(''))!.version).toBe(2);
    expect(detectLayout('', '', controllers(''))).toBeNull();
  });
});

const v2 = detectLayout(V2_MOUNTINFO, V2_SELF, controllers('cpu io memory pids'))!;
const v1 = detectLayout(HYBRID_MOUNTINFO, HYBRID_SELF, controllers(''))!;
const ok = (p: CgroupPlan | { error: string }): CgroupPlan => {
  if ('error' in p) throw new Error(p.error);
  return p;
};

describe('planCgroup, v2', () => {
  const limits: CgroupLimits = { memory_max: 512 * 2 ** 20, memory_high: 256 * 2 ** 20, cpu_max: 50, cpu_weight: 200, pids_max: 64, io_weight: 300 };
  const exists = (p: string) => p === '/sys/fs/cgroup' || p === '/sys/fs/cgroup/system.slice' || p === '/sys/fs/cgroup/system.slice/fastvisor.service';

  it('one leaf under <daemon cgroup>/fastvisor, controllers enabled on the way down, systemd values', () => {
    const p = ok(planCgroup(v2, { group: 'web', name: 'web_0', limits, killMode: null, root: null }, exists));
    const leaf = '/sys/fs/cgroup/system.slice/fastvisor.service/fastvisor/web/web_0';
    expect(p.dirs).toEqual([leaf]);
    expect(p.procs).toEqual([`${leaf}/cgroup.procs`]);
    expect(p.cloneDir).toBe(leaf);
    expect(p.kill).toEqual({ dir: leaf, how: 'v2' });
    expect(p.oomFile).toBe(`${leaf}/memory.events`);
    expect(p.writes.map((w) => [w.path.replace('/sys/fs/cgroup/system.slice/fastvisor.service', '~'), w.value])).toEqual([
      ['~/cgroup.subtree_control', '+memory +cpu +pids +io'],
      ['~/fastvisor/cgroup.subtree_control', '+memory +cpu +pids +io'],
      ['~/fastvisor/web/cgroup.subtree_control', '+memory +cpu +pids +io'],
      ['~/fastvisor/web/web_0/memory.high', String(256 * 2 ** 20)],
      ['~/fastvisor/web/web_0/memory.max', String(512 * 2 ** 20)],
      ['~/fastvisor/web/web_0/cpu.max', '50000 100000'],
      ['~/fastvisor/web/web_0/cpu.weight', '200'],
      ['~/fastvisor/web/web_0/pids.max', '64'],
      ['~/fastvisor/web/web_0/io.weight', 'default 300'],
    ]);
    expect(p.parents).toEqual(['/sys/fs/cgroup/system.slice/fastvisor.service/fastvisor/web', '/sys/fs/cgroup/system.slice/fastvisor.service/fastvisor']);
  });

  it('cgroup_root= puts it elsewhere; kill_mode=cgroup alone writes nothing', () => {
    const p = ok(planCgroup(v2, { group: 'a', name: 'a', limits: none, killMode: 'cgroup', root: '/fv' }, exists));
    expect(p.dirs).toEqual(['/sys/fs/cgroup/fv/a/a']);
    expect(p.writes).toEqual([]);
    expect(p.oomFile).toBeNull();
  });

  it('a controller the hierarchy does not offer is refused, naming the option', () => {
    const noIo = detectLayout(V2_MOUNTINFO, V2_SELF, controllers('memory pids'))!;
    const r = planCgroup(noIo, { group: 'a', name: 'a', limits: { ...none, io_weight: 100 }, killMode: null, root: null }, exists);
    expect(r).toEqual({ error: 'io_weight: this host cannot enforce it: cgroup v2 at /sys/fs/cgroup has no io controller (it offers: memory pids)' });
  });
});

describe('planCgroup, v1', () => {
  const exists = (p: string) => !p.endsWith('blkio.weight');

  it('a leaf per hierarchy used, the daemon cgroup of each, systemd mapping of the values', () => {
    const p = ok(planCgroup(v1, { group: 'g', name: 'p', limits: { ...none, memory_max: 2 ** 30, memory_high: 2 ** 29, cpu_max: 20, cpu_weight: 50, pids_max: 20 }, killMode: 'cgroup', root: null }, exists));
    expect(p.dirs.sort()).toEqual([
      '/sys/fs/cgroup/cpu/fastvisor/g/p',
      '/sys/fs/cgroup/freezer/fastvisor/g/p',
      '/sys/fs/cgroup/memory/job/42/fastvisor/g/p',
      '/sys/fs/cgroup/pids/fastvisor/g/p',
    ]);
    expect(p.writes.map((w) => [w.path, w.value])).toEqual([
      ['/sys/fs/cgroup/memory/job/42/fastvisor/g/p/memory.limit_in_bytes', String(2 ** 30)],
      ['/sys/fs/cgroup/memory/job/42/fastvisor/g/p/memory.soft_limit_in_bytes', String(2 ** 29)],
      ['/sys/fs/cgroup/cpu/fastvisor/g/p/cpu.cfs_period_us', '100000'],
      ['/sys/fs/cgroup/cpu/fastvisor/g/p/cpu.cfs_quota_us', '20000'],
      ['/sys/fs/cgroup/cpu/fastvisor/g/p/cpu.shares', '512'],
      ['/sys/fs/cgroup/pids/fastvisor/g/p/pids.max', '20'],
    ]);
    expect(p.kill).toEqual({ dir: '/sys/fs/cgroup/freezer/fastvisor/g/p', how: 'v1-freezer' });
    expect(p.oomFile).toBe('/sys/fs/cgroup/memory/job/42/fastvisor/g/p/memory.oom_control');
    expect(p.cloneDir).toBeNull();
  });

  it('refuses what the host lacks: no blkio controller, no blkio.weight', () => {
    expect(planCgroup(v1, { group: 'g', name: 'p', limits: { ...none, io_weight: 100 }, killMode: null, root: null }, exists)).toEqual({
      error: 'io_weight: this host cannot enforce it: no blkio controller (cgroup v1, not mounted)',
    });
  });

  it('kill_mode=cgroup without a freezer: kill in rounds through another hierarchy', () => {
    const noFreezer = detectLayout(HYBRID_MOUNTINFO.replace(/.*freezer.*\n/, ''), HYBRID_SELF, controllers(''))!;
    const p = ok(planCgroup(noFreezer, { group: 'g', name: 'p', limits: none, killMode: 'cgroup', root: '/fv' }, exists));
    expect(p.kill).toEqual({ dir: '/sys/fs/cgroup/pids/fv/g/p', how: 'v1' });
  });
});

describe('OOM reporting', () => {
  it('reads oom_kill from memory.events (v2) and memory.oom_control (v1)', () => {
    expect(oomKills('low 0\nhigh 3\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n')).toBe(2);
    expect(oomKills('oom_kill_disable 0\nunder_oom 0\noom_kill 1\n')).toBe(1);
    expect(oomKills(null)).toBe(0);
  });

  it('names the limit as written', () => {
    expect(oomCause({ ...none, memory_max: 512 * 2 ** 20 })).toBe('killed by the OOM killer (memory_max 512MB)');
    expect(oomCause(none)).toBe('killed by the OOM killer');
    expect(formatBytes(3 * 2 ** 30)).toBe('3GB');
    expect(formatBytes(1000)).toBe('1000B');
  });
});
