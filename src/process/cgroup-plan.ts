// SPDX-License-Identifier: MIT
// Pure cgroup decisions: which hierarchy the host offers (v2 or v1, from
// /proc/self/mountinfo and /proc/self/cgroup), and for one process which
// directories, which files with which values, where it is placed, how it is
// killed and where its OOM kills are counted. cgroups.ts carries them out
// through native/ (cgroupfs).
import type { CgroupLimits } from '../config/model.js';

export interface CgroupLayout {
  version: 1 | 2;
  /** the unified hierarchy: mount point, the daemon's cgroup in it, the controllers its root offers */
  v2: { mount: string; self: string; controllers: string[] } | null;
  /** v1: controller -> its hierarchy's mount point and the daemon's cgroup there */
  v1: Map<string, { mount: string; self: string }>;
}

/** The controllers the limits use, by their v2 names (v1's blkio is io). */
const LIMIT_CONTROLLERS = ['memory', 'pids', 'cpu', 'io'];
const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer', 'blkio', 'cpuset', 'devices', 'net_cls', 'perf_event', 'hugetlb'];

// mountinfo escapes space, tab, newline and backslash as \ooo.
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/**
 * The layout from /proc/self/mountinfo and /proc/self/cgroup. controllersOf
 * reads a cgroup.controllers file (null when unreadable). v2 when the unified
 * hierarchy offers the controllers limits use; else v1 when v1 controllers are mounted; else
 * v2 without controllers (kill_mode=cgroup still works there); null: no cgroups.
 */
export function detectLayout(mountinfo: string, procCgroup: string, controllersOf: (file: string) => string | null): CgroupLayout | null {
  const selfV1 = new Map<string, string>();
  let selfV2: string | null = null;
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') selfV2 = m[3]!;
    else for (const c of m[2]!.split(',')) selfV1.set(c, m[3]!);
  }
  let v2: CgroupLayout['v2'] = null;
  const v1 = new Map<string, { mount: string; self: string }>();
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || fields.length < dash + 4) continue;
    const root = unescape(fields[3]!);
    const mount = unescape(fields[4]!);
    const fstype = fields[dash + 1];
    const inMount = (self: string): string => {
      // In a cgroup namespace or a bind mount, the mount's root is a cgroup itself.
      if (root !== '/' && (self === root || self.startsWith(`${root}/`))) return self.slice(root.length) || '/';
      return self;
    };
    if (fstype === 'cgroup2' && selfV2 !== null && !v2) {
      const text = controllersOf(`${mount}/cgroup.controllers`);
      v2 = { mount, self: inMount(selfV2), controllers: text ? text.trim().split(/\s+/).filter(Boolean) : [] };
    } else if (fstype === 'cgroup') {
      for (const opt of fields[dash + 3]!.split(',')) {
        if (!V1_CONTROLLERS.includes(opt) || v1.has(opt)) continue;
        const self = selfV1.get(opt);
        if (self !== undefined) v1.set(opt, { mount, self: inMount(self) });
      }
    }
  }
  // Hybrid hosts may put an unrelated controller (hugetlb) on v2: what counts is ours.
  if (v2 && v2.controllers.some((c) => LIMIT_CONTROLLERS.includes(c))) return { version: 2, v2, v1 };
  if (v1.size) return { version: 1, v2, v1 };
  if (v2) return { version: 2, v2, v1 };
  return null;
}

/** The main log's line: `cgroups: v1 (memory, pids, …) under /sys/fs/cgroup/<controller>/…`. */
export function describeLayout(layout: CgroupLayout): string {
  if (layout.version === 2) {
    const c = layout.v2!.controllers;
    return `cgroups: v2 (${c.length ? c.join(', ') : 'no controllers: kill_mode=cgroup only'}) under ${layout.v2!.mount}`;
  }
  return `cgroups: v1 (${[...layout.v1.keys()].join(', ')}) under ${commonMount([...layout.v1.values()].map((h) => h.mount))}`;
}

function commonMount(mounts: string[]): string {
  const parents = new Set(mounts.map((m) => m.slice(0, m.lastIndexOf('/'))));
  return parents.size === 1 ? `${[...parents][0]}/<controller>` : mounts.join(', ');
}

export type KillMode = 'group' | 'cgroup' | null;

export interface CgroupRequest {
  group: string;
  name: string;
  limits: CgroupLimits;
  killMode: KillMode;
  /** [supervisord] cgroup_root: a cgroup path; null: `<daemon's cgroup>/fastvisor` in each hierarchy */
  root: string | null;
}

export interface CgroupPlan {
  version: 1 | 2;
  /** the process's leaf, one per hierarchy (v2: one) */
  dirs: string[];
  /** in order: v2 subtree_control enables, then the limits; the option each is for (null: an enable) */
  writes: Array<{ path: string; value: string; option: string | null }>;
  /** cgroup.procs per leaf: the child writes itself there before exec */
  procs: string[];
  /** v2: the leaf for clone3(CLONE_INTO_CGROUP) */
  cloneDir: string | null;
  kill: { dir: string; how: 'v2' | 'v1-freezer' | 'v1' };
  /** where the OOM kills of this cgroup are counted (`oom_kill N`), null without a memory controller in use */
  oomFile: string | null;
  /** the directories above the leaves up to the root, deepest first: removed when they empty */
  parents: string[];
}

export function wantsCgroup(limits: CgroupLimits, killMode: KillMode): boolean {
  return killMode === 'cgroup' || Object.values(limits).some((v) => v !== null);
}

// A process or group name as one directory name.
const dirName = (s: string): string => s.replace(/\//g, '_');

const join = (...parts: string[]): string => parts.join('/').replace(/\/+/g, '/');

type Option = keyof CgroupLimits;
const CONTROLLER: Record<Option, { v2: string; v1: string }> = {
  memory_max: { v2: 'memory', v1: 'memory' },
  memory_high: { v2: 'memory', v1: 'memory' },
  cpu_max: { v2: 'cpu', v1: 'cpu' },
  cpu_weight: { v2: 'cpu', v1: 'cpu' },
  pids_max: { v2: 'pids', v1: 'pids' },
  io_weight: { v2: 'io', v1: 'blkio' },
};

const CPU_PERIOD_US = 100_000;
const OPTIONAL_V1_FILES = ['cpu.cfs_quota_us', 'cpu.cfs_period_us', 'blkio.weight'];

/** cgroup v2's files and values for the limits set (systemd's mapping). */
export function v2Files(l: CgroupLimits): Array<{ file: string; value: string; option: Option }> {
  const out: Array<{ file: string; value: string; option: Option }> = [];
  if (l.memory_high !== null) out.push({ file: 'memory.high', value: String(l.memory_high), option: 'memory_high' });
  if (l.memory_max !== null) out.push({ file: 'memory.max', value: String(l.memory_max), option: 'memory_max' });
  if (l.cpu_max !== null) out.push({ file: 'cpu.max', value: `${Math.round((l.cpu_max * CPU_PERIOD_US) / 100)} ${CPU_PERIOD_US}`, option: 'cpu_max' });
  if (l.cpu_weight !== null) out.push({ file: 'cpu.weight', value: String(l.cpu_weight), option: 'cpu_weight' });
  if (l.pids_max !== null) out.push({ file: 'pids.max', value: String(l.pids_max), option: 'pids_max' });
  if (l.io_weight !== null) out.push({ file: 'io.weight', value: `default ${l.io_weight}`, option: 'io_weight' });
  return out;
}

/**
 * cgroup v1's: memory.limit_in_bytes, memory.soft_limit_in_bytes,
 * cpu.cfs_period_us + cpu.cfs_quota_us, cpu.shares (weight 100 = 1024 shares),
 * pids.max, blkio.weight (weight 100 = 500, within 10-1000), as systemd maps them.
 */
export function v1Files(l: CgroupLimits): Array<{ controller: string; file: string; value: string; option: Option }> {
  const out: Array<{ controller: string; file: string; value: string; option: Option }> = [];
  if (l.memory_max !== null) out.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(l.memory_max), option: 'memory_max' });
  if (l.memory_high !== null) out.push({ controller: 'memory', file: 'memory.soft_limit_in_bytes', value: String(l.memory_high), option: 'memory_high' });
  if (l.cpu_max !== null) {
    out.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US), option: 'cpu_max' });
    out.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(Math.round((l.cpu_max * CPU_PERIOD_US) / 100)), option: 'cpu_max' });
  }
  if (l.cpu_weight !== null) out.push({ controller: 'cpu', file: 'cpu.shares', value: String(Math.max(2, Math.round((l.cpu_weight * 1024) / 100))), option: 'cpu_weight' });
  if (l.pids_max !== null) out.push({ controller: 'pids', file: 'pids.max', value: String(l.pids_max), option: 'pids_max' });
  if (l.io_weight !== null) {
    const w = Math.min(1000, Math.max(10, Math.round((l.io_weight * 500) / 100)));
    out.push({ controller: 'blkio', file: 'blkio.weight', value: String(w), option: 'io_weight' });
  }
  return out;
}

/**
 * The plan for one process, or why the host cannot enforce what it asks
 * (naming the option). exists() tells whether a path exists (a limit's file
 * at the hierarchy's root, an ancestor cgroup).
 */
export function planCgroup(layout: CgroupLayout, req: CgroupRequest, exists: (path: string) => boolean): CgroupPlan | { error: string } {
  const rootPath = (self: string): string => req.root ?? join(self, 'fastvisor');
  const tail = (self: string): string => join(rootPath(self), dirName(req.group), dirName(req.name));
  // Emptied parents go too, deepest first: the group's directory, then the root.
  const parentsIn = (mount: string, self: string): string[] => [join(mount, rootPath(self), dirName(req.group)), join(mount, rootPath(self))];
  if (layout.version === 2) {
    const v2 = layout.v2!;
    const files = v2Files(req.limits);
    for (const f of files) {
      const c = CONTROLLER[f.option].v2;
      if (!v2.controllers.includes(c)) {
        return { error: `${f.option}: this host cannot enforce it: cgroup v2 at ${v2.mount} has no ${c} controller (it offers: ${v2.controllers.join(' ') || 'none'})` };
      }
    }
    const leafPath = tail(v2.self);
    const leaf = join(v2.mount, leafPath);
    const chain = ancestors(v2.mount, leafPath);
    const writes: CgroupPlan['writes'] = [];
    const needed = [...new Set(files.map((f) => CONTROLLER[f.option].v2))];
    if (needed.length) {
      // Enable the controllers on the way down: from the deepest cgroup that
      // exists already (or the hierarchy's root) to the leaf's parent.
      let from = chain.length - 1;
      while (from > 0 && !exists(chain[from]!)) from--;
      for (let i = from; i < chain.length; i++) {
        writes.push({ path: `${chain[i]}/cgroup.subtree_control`, value: needed.map((c) => `+${c}`).join(' '), option: null });
      }
    }
    for (const f of files) writes.push({ path: `${leaf}/${f.file}`, value: f.value, option: f.option });
    return {
      version: 2,
      dirs: [leaf],
      writes,
      procs: [`${leaf}/cgroup.procs`],
      cloneDir: leaf,
      kill: { dir: leaf, how: 'v2' },
      oomFile: needed.includes('memory') ? `${leaf}/memory.events` : null,
      parents: parentsIn(v2.mount, v2.self),
    };
  }
  const files = v1Files(req.limits);
  const controllers = new Set(files.map((f) => f.controller));
  for (const f of files) {
    const h = layout.v1.get(f.controller);
    if (!h) return { error: `${f.option}: this host cannot enforce it: no ${f.controller} controller (cgroup v1, not mounted)` };
    // Files that depend on kernel options or the I/O scheduler; the hierarchy's
    // root shows them where they exist (pids.max, freezer.state are never there).
    if (OPTIONAL_V1_FILES.includes(f.file) && !exists(join(h.mount, f.file))) return { error: `${f.option}: this host cannot enforce it: cgroup v1 ${f.controller} has no ${f.file} (kernel or I/O scheduler without it)` };
  }
  if (req.killMode === 'cgroup' && layout.v1.has('freezer')) controllers.add('freezer');
  // cpuacct counts the CPU time of what cpu limits (the figures read it).
  if (controllers.has('cpu') && layout.v1.has('cpuacct')) controllers.add('cpuacct');
  if (!controllers.size) {
    // kill_mode=cgroup alone, without a freezer: any hierarchy lists the processes.
    const any = ['pids', 'memory', 'cpu'].find((c) => layout.v1.has(c)) ?? [...layout.v1.keys()][0]!;
    controllers.add(any);
  }
  // One leaf per hierarchy (cpu and cpuacct often share one).
  const leaves = new Map<string, string>();
  const byController = new Map<string, string>();
  const parents: string[] = [];
  for (const c of [...controllers].sort()) {
    const h = layout.v1.get(c)!;
    let leaf = leaves.get(h.mount);
    if (!leaf) {
      leaf = join(h.mount, tail(h.self));
      leaves.set(h.mount, leaf);
      parents.push(...parentsIn(h.mount, h.self));
    }
    byController.set(c, leaf);
  }
  const dirs = [...leaves.values()];
  const freezer = byController.get('freezer');
  return {
    version: 1,
    dirs,
    writes: files.map((f) => ({ path: `${byController.get(f.controller)}/${f.file}`, value: f.value, option: f.option })),
    procs: dirs.map((d) => `${d}/cgroup.procs`),
    cloneDir: null,
    kill: freezer ? { dir: freezer, how: 'v1-freezer' } : { dir: dirs[0]!, how: 'v1' },
    oomFile: byController.has('memory') ? `${byController.get('memory')}/memory.oom_control` : null,
    parents: [...new Set(parents)].sort((a, b) => b.length - a.length),
  };
}

// mount + each prefix of path, from the root down to the leaf's parent.
function ancestors(mount: string, path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out = [mount];
  for (let i = 1; i < parts.length; i++) out.push(join(mount, ...parts.slice(0, i)));
  return out;
}

/** 536870912 -> `512MB`: the largest unit that divides it, as supervisord writes sizes. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['TB', 2 ** 40], ['GB', 2 ** 30], ['MB', 2 ** 20], ['KB', 2 ** 10]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}

/** `oom_kill N` from memory.events (v2) or memory.oom_control (v1); 0 when absent. */
export function oomKills(text: string | null): number {
  const m = text ? /^oom_kill (\d+)$/m.exec(text) : null;
  return m ? Number(m[1]) : 0;
}

/** The exit's description for an OOM kill: `killed by the OOM killer (memory_max 512MB)`. */
export function oomCause(limits: CgroupLimits): string {
  return limits.memory_max !== null ? `killed by the OOM killer (memory_max ${formatBytes(limits.memory_max)})` : 'killed by the OOM killer';
}
