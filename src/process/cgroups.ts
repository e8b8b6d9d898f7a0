// SPDX-License-Identifier: MIT
// Carries out cgroup-plan.ts through native/ (cgroupfs): detects the layout
// once (and says which in the main log), makes a process's cgroup before each
// spawn, signals and kills through it, counts its OOM kills, removes it.
import { existsSync, readFileSync } from 'node:fs';

import type { CgroupLimits } from '../config/model.js';
import type { MainLog } from '../log/main-log.js';
import { cgroupfs, type NativeError } from '../native/index.js';
import { describeLayout, detectLayout, oomKills, planCgroup, type CgroupLayout, type CgroupPlan, type KillMode } from './cgroup-plan.js';

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The host's cgroups for one daemon run: detected at the first use. */
export class Cgroups {
  private detected: CgroupLayout | null | undefined;

  constructor(
    private readonly log: MainLog,
    readonly root: string | null,
  ) {}

  /** The layout (logged once), or null where there are no cgroups (not Linux, nothing mounted). */
  layout(): CgroupLayout | null {
    if (this.detected !== undefined) return this.detected;
    const mountinfo = process.platform === 'linux' ? readText('/proc/self/mountinfo') : null;
    const self = process.platform === 'linux' ? readText('/proc/self/cgroup') : null;
    this.detected = mountinfo && self ? detectLayout(mountinfo, self, readText) : null;
    if (this.detected) this.log.info(describeLayout(this.detected));
    else this.log.warn('cgroups: none on this host; programs with cgroup options cannot start');
    return this.detected;
  }

  /**
   * cgroup v2 allows controllers to be enabled only in cgroups without
   * processes of their own (the real root excepted), and by default the
   * programs' cgroups go under the daemon's own: a daemon that is alone there
   * (a container's init, a systemd unit with Delegate=yes) moves itself into
   * the leaf `<own>/supervisord`, as container inits do, and says so. With
   * other processes beside it, or with cgroup_root= set, nothing moves (a
   * limit's spawn error then says EBUSY and what to do).
   */
  leaveOwnCgroup(): void {
    const layout = this.layout();
    if (!layout || layout.version !== 2 || !layout.v2 || this.root !== null) return;
    const own = `${layout.v2.mount}${layout.v2.self === '/' ? '' : layout.v2.self}`;
    // The real root has no cgroup.type and is exempt from the rule.
    if (!existsSync(`${own}/cgroup.type`)) return;
    const members = (readText(`${own}/cgroup.procs`) ?? '').split('\n').filter(Boolean);
    if (members.length !== 1 || members[0] !== String(process.pid)) {
      if (members.length > 1) {
        this.log.info(`cgroups: the daemon's cgroup ${layout.v2.self} has other processes; cgroup limits need [supervisord] cgroup_root= pointing at a cgroup without processes`);
      }
      return;
    }
    const leaf = `${own}/supervisord`;
    try {
      cgroupfs.setup([leaf], [[`${leaf}/cgroup.procs`, String(process.pid)]]);
    } catch (err) {
      this.log.warn(`cgroups: could not move the daemon into ${leaf}: ${(err as NativeError).code ?? String(err)}`);
      return;
    }
    this.log.info(`cgroups: moved the daemon into ${leaf.slice(layout.v2.mount.length)}, so its cgroup can hand controllers to the programs' (cgroup v2)`);
  }

  /** Makes the cgroup (limits written) for a spawn, or says why not, naming the option. */
  prepare(group: string, name: string, limits: CgroupLimits, killMode: KillMode): ProcessCgroup | string {
    const layout = this.layout();
    if (!layout) return `${killMode === 'cgroup' ? 'kill_mode=cgroup' : 'cgroup limits'}: this host has no cgroups`;
    const plan = planCgroup(layout, { group, name, limits, killMode, root: this.root }, existsSync);
    if ('error' in plan) return plan.error;
    try {
      cgroupfs.setup(plan.dirs, plan.writes.map((w) => [w.path, w.value]));
    } catch (err) {
      const e = err as NativeError;
      const w = plan.writes.find((x) => x.path === e.path);
      const what = w?.option ? `${w.option}: couldn't write ${w.value} to ${e.path}` : w ? `couldn't enable ${w.value} in ${e.path}` : `couldn't create cgroup ${e.path}`;
      const hint = e.code === 'EBUSY' && w && !w.option ? ' (that cgroup has processes of its own; point [supervisord] cgroup_root= at one without)' : '';
      return `${what}: ${e.code}${hint}`;
    }
    return new ProcessCgroup(plan, limits);
  }
}

/** One process's cgroup from its spawn until it is removed. */
export class ProcessCgroup {
  /** OOM kills counted before this spawn (a reused cgroup keeps its count) */
  private readonly oomBefore: number;

  constructor(
    readonly plan: CgroupPlan,
    readonly limits: CgroupLimits,
  ) {
    this.oomBefore = this.oomCount();
  }

  /** For SpawnRequest.cgroup. */
  request(): { procs: string[]; dir?: string } {
    return this.plan.cloneDir ? { procs: this.plan.procs, dir: this.plan.cloneDir } : { procs: this.plan.procs };
  }

  /** The signal to every process in the cgroup; how many got it. */
  signal(sig: number): number {
    return cgroupfs.signal(this.plan.kill.dir, sig);
  }

  /** SIGKILL to everything in it (cgroup.kill, or freeze + kill + thaw). */
  kill(): void {
    cgroupfs.kill(this.plan.kill.dir, this.plan.kill.how);
  }

  private oomCount(): number {
    return this.plan.oomFile ? oomKills(cgroupfs.read(this.plan.oomFile)) : 0;
  }

  /** OOM kills in this cgroup since the spawn. */
  oomKillsSinceSpawn(): number {
    return this.oomCount() - this.oomBefore;
  }

  /**
   * Memory in use by everything in the cgroup (v2 memory.current, v1
   * memory.usage_in_bytes, beside the OOM counter); null without the memory
   * controller. The figure `memory_max` is held against.
   */
  memoryBytes(): number | null {
    const oom = this.plan.oomFile;
    if (!oom) return null;
    const dir = oom.slice(0, oom.lastIndexOf('/'));
    const text = cgroupfs.read(oom.endsWith('/memory.events') ? `${dir}/memory.current` : `${dir}/memory.usage_in_bytes`);
    const n = text === null ? NaN : Number(text.trim());
    return Number.isFinite(n) ? n : null;
  }

  /** Whether any process is left in it. */
  populated(): boolean {
    return this.plan.dirs.some((d) => (cgroupfs.read(`${d}/cgroup.procs`) ?? '').trim() !== '');
  }

  /** Removes the leaves, then the emptied parents; false while processes are left. */
  remove(): boolean {
    let gone = true;
    for (const d of this.plan.dirs) if (!cgroupfs.remove(d)) gone = false;
    if (!gone) return false;
    // Parents shared with other processes stay until the last one goes.
    for (const p of this.plan.parents) cgroupfs.remove(p);
    return true;
  }
}
