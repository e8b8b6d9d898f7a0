// SPDX-License-Identifier: MIT
// cgroups (fastvisor): memory_max with the OOM kill reported, pids_max
// stopping a fork bomb, cpu_max holding a spinner near its share,
// kill_mode=cgroup reaching a double-forked grandchild, and nothing left in
// any fastvisor cgroup after shutdown. Real daemons, real cgroups: needs root
// on Linux; each test skips, saying why, where the host lacks the controller.
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest';

import { detectLayout, type CgroupLayout } from '../../../src/process/cgroup-plan.js';
import { startDaemon, stopAllDaemons, type Daemon } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { PYTHON } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

const layout: CgroupLayout | null =
  process.platform === 'linux' && process.getuid?.() === 0
    ? detectLayout(read('/proc/self/mountinfo') ?? '', read('/proc/self/cgroup') ?? '', read)
    : null;
const whyNot = process.platform !== 'linux' ? 'not Linux' : process.getuid?.() !== 0 ? 'not root' : 'no cgroups mounted';

/** The controller is usable for limits here: v2 offers it, or v1 mounts it. */
function has(controller: string): boolean {
  if (!layout) return false;
  return layout.version === 2 ? layout.v2!.controllers.includes(controller) : layout.v1.has(controller);
}

// Every hierarchy's mount point the daemon would use.
function mounts(): string[] {
  if (!layout) return [];
  return layout.version === 2 ? [layout.v2!.mount] : [...new Set([...layout.v1.values()].map((h) => h.mount))];
}

// A cgroup_root of its own per test, directly under each hierarchy's root:
// on v2 only the root cgroup may have processes and enabled controllers at once.
const roots: string[] = [];
function testRoot(): string {
  const r = `/fastvisor-test-${process.pid}-${roots.length}`;
  roots.push(r);
  return r;
}

// Depth-first rmdir of whatever a failed test left (processes are killed by pid first).
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) removeTree(p);
  }
  for (const pid of (read(path.join(dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
  try {
    rmdirSync(dir);
  } catch {
    // still dying; the next run uses another name
  }
}

afterEach(stopAllDaemons);
afterAll(() => {
  for (const r of roots) for (const m of mounts()) removeTree(path.join(m, r));
  removeTmpDirs();
});

async function running(d: Daemon, name: string): Promise<{ pid: number; statename: string; description: string }> {
  return pollUntil(
    async () => {
      const info = (await d.rpc('supervisor.getProcessInfo', name)) as { pid: number; statename: string; description: string };
      return info.statename === 'RUNNING' && info;
    },
    { what: `${name} RUNNING`, timeout: 15_000 },
  );
}

// A Python script in a fresh directory (the daemon's too). The real
// interpreter, not a PATH shim: pyenv's shims fork helpers, which pids_max counts.
function script(name: string, body: string): { dir: string; command: string } {
  const dir = tmpDir('fv-cgroup-');
  writeFileSync(path.join(dir, `${name}.py`), body);
  return { dir, command: `${PYTHON} -u ${path.join(dir, `${name}.py`)}` };
}

describe.skipIf(!layout)(`cgroups (${layout ? `v${layout.version}` : whyNot})`, () => {
  it('says in the main log which cgroups it uses', async () => {
    const d = await startDaemon('fastvisor', `[supervisord]\ncgroup_root=${testRoot()}\n[program:a]\ncommand=sleep 1000\nstartsecs=0\nkill_mode=cgroup\n`);
    await running(d, 'a');
    expect(d.mainLog()).toMatch(new RegExp(`INFO cgroups: v${layout!.version} \\(`));
  });

  it.skipIf(!has('memory'))('memory_max: a memory hog is killed by the OOM killer, and the exit says so', async () => {
    // bytes filled with 'x': every page touched, so it counts against the limit at once.
    const hog = script('hog', "b = []\nwhile True:\n    b.append(b'x' * (1 << 20))\n");
    const d = await startDaemon(
      'fastvisor',
      `[supervisord]\ncgroup_root=${testRoot()}\n[program:hog]\ncommand=${hog.command}\nstartsecs=0\nautorestart=false\nmemory_max=64MB\n`,
      { dir: hog.dir },
    );
    const line = await pollUntil(() => d.mainLog().split('\n').find((l) => l.includes('exited: hog')), { what: 'hog to exit', timeout: 20_000 });
    expect(line).toMatch(/WARN exited: hog \(killed by the OOM killer \(memory_max 64MB\); not expected\)/);
    expect(d.mainLog()).toMatch(/WARN oom: hog: 1 process of its cgroup killed by the OOM killer \(memory_max 64MB\)/);
    const info = (await d.rpc('supervisor.getProcessInfo', 'hog')) as { statename: string; exitstatus: number; description: string };
    expect(info.statename).toBe('EXITED');
    expect(info.description).toContain('killed by the OOM killer (memory_max 64MB)');
    // counted for /metrics' fastvisor_process_oom_kills_total
    expect(((await d.rpc('fastvisor.getProcessStats', 'hog')) as Record<string, unknown>)['oom_kills']).toBe(1);
  });

  it.skipIf(!has('pids'))('pids_max: a fork bomb stops at the limit; stop ends all of it', async () => {
    // Forks until the kernel says EAGAIN, then reports how far it got.
    const bomb = script(
      'bomb',
      "import os, time\nn = 0\ntry:\n    while n < 1000:\n        if os.fork() == 0:\n            time.sleep(1000)\n            os._exit(0)\n        n += 1\nexcept OSError as e:\n    print('forks', n, 'errno', e.errno)\ntime.sleep(1000)\n",
    );
    const root = testRoot();
    const d = await startDaemon(
      'fastvisor',
      `[supervisord]\ncgroup_root=${root}\n[program:bomb]\ncommand=${bomb.command}\nstartsecs=0\npids_max=20\nkill_mode=cgroup\nstdout_logfile=%(here)s/bomb.log\n`,
      { dir: bomb.dir },
    );
    const out = await pollUntil(() => /forks (\d+) errno (\d+)/.exec(read(path.join(d.dir, 'bomb.log')) ?? ''), { what: 'the fork bomb to hit the limit' });
    expect(Number(out[2])).toBe(11); // EAGAIN
    expect(Number(out[1])).toBeLessThan(20);
    expect(Number(out[1])).toBeGreaterThanOrEqual(10);
    const leaves = mounts().map((m) => path.join(m, root, 'bomb', 'bomb'));
    const procs = leaves.map((l) => read(path.join(l, 'cgroup.procs'))).find((t) => t !== null)!;
    const pids = procs.split('\n').filter(Boolean).map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(11);
    onTestFinished(() => pids.forEach((p) => {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }));
    await d.rpc('supervisor.stopProcess', 'bomb');
    await pollUntil(() => pids.every((p) => !existsSync(`/proc/${p}`) || /^State:\s+Z/m.test(read(`/proc/${p}/status`) ?? '')), { what: 'every fork gone' });
    await pollUntil(() => leaves.every((l) => !existsSync(l)), { what: 'the cgroup removed' });
  });

  it.skipIf(!has('cpu'))('cpu_max=20%: a spinner gets about a fifth of one CPU', async () => {
    const spin = script('spin', 'while True:\n    pass\n');
    const d = await startDaemon(
      'fastvisor',
      `[supervisord]\ncgroup_root=${testRoot()}\n[program:spin]\ncommand=${spin.command}\nstartsecs=0\ncpu_max=20%\n`,
      { dir: spin.dir },
    );
    const { pid } = await running(d, 'spin');
    // utime + stime of the spinner, in clock ticks (USER_HZ = 100 on Linux).
    const ticks = (): number => {
      const f = read(`/proc/${pid}/stat`)!.split(') ')[1]!.split(' ');
      return Number(f[11]) + Number(f[12]);
    };
    // A 2 s window, measured by polling (no sleep): the quota's period is 100 ms.
    const t0 = Date.now();
    const c0 = ticks();
    await pollUntil(() => Date.now() - t0 >= 2000, { what: '2 s to pass', interval: 100 });
    const share = (ticks() - c0) / 100 / ((Date.now() - t0) / 1000);
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.35);
  });

  it('kill_mode=cgroup: a double-forked grandchild is gone after stop, and no cgroup is left after shutdown', async () => {
    // The grandchild starts a session of its own: no process group reaches it.
    const d = await startDaemon(
      'fastvisor',
      `[program:a]\ncommand=/bin/sh -c 'setsid sh -c "echo \\$\\$ > %(here)s/gc.pid; exec sleep 1001" & exec sleep 1000'\nstartsecs=0\nkill_mode=cgroup\n`,
    );
    await running(d, 'a');
    const gc = await pollUntil(() => Number(read(path.join(d.dir, 'gc.pid'))) || null, { what: 'the grandchild' });
    onTestFinished(() => {
      try {
        process.kill(gc, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    });
    // It is in the program's cgroup under the default root, <daemon's cgroup>/fastvisor.
    expect(read(`/proc/${gc}/cgroup`)).toMatch(/\/fastvisor\/a\/a$/m);
    const leaves = (read(`/proc/${gc}/cgroup`) ?? '')
      .split('\n')
      .map((l) => /^\d+:([^:]*):(.*\/fastvisor\/a\/a)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    await d.rpc('supervisor.stopProcess', 'a');
    await pollUntil(() => !existsSync(`/proc/${gc}`) || /^State:\s+Z/m.test(read(`/proc/${gc}/status`) ?? ''), { what: 'the grandchild gone' });
    expect(await d.stop()).toBe(0);
    // Shutdown left no fastvisor cgroup behind in any hierarchy.
    for (const m of leaves) {
      const rel = m[2]!.replace(/\/a\/a$/, '');
      const where = m[1] === '' ? [layout!.v2!.mount] : mounts().filter((mt) => m[1]!.split(',').some((c) => layout!.v1.get(c)?.mount === mt));
      for (const mt of where) expect(existsSync(path.join(mt, rel)), path.join(mt, rel)).toBe(false);
    }
  });

  it.skipIf(has('io') || (layout?.version === 1 && existsSync(path.join(layout.v1.get('blkio')?.mount ?? '/nonexistent', 'blkio.weight'))))(
    'a limit the host cannot enforce is refused at spawn, naming the option',
    async () => {
      const d = await startDaemon('fastvisor', `[supervisord]\ncgroup_root=${testRoot()}\n[program:io]\ncommand=sleep 1000\nstartsecs=0\nstartretries=0\nio_weight=200\n`);
      const info = await pollUntil(
        async () => {
          const i = (await d.rpc('supervisor.getProcessInfo', 'io')) as { statename: string; spawnerr: string };
          return i.statename === 'FATAL' && i;
        },
        { what: 'io FATAL' },
      );
      expect(info.spawnerr).toMatch(/^io_weight: this host cannot enforce it: /);
      expect(d.mainLog()).toContain('spawnerr: io_weight: this host cannot enforce it');
    },
  );
});
