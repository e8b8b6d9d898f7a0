// SPDX-License-Identifier: MIT
// fastvisor's cgroup options: values as read (systemd's units and meanings),
// none set = no cgroup, and each bad value refused at load naming the option.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { ConfigError } from '../../../src/config/config-error.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Model, ProcessConfig } from '../../../src/config/model.js';
import { memoryBytes } from '../../../src/config/fastvisor-options.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

function model(program: string, supervisord = ''): Model {
  const dir = tmpDir('fv-cg-');
  const conf = path.join(dir, 'supervisord.conf');
  writeFileSync(conf, `[supervisord]\n${supervisord}\n[program:a]\ncommand=/bin/true\n${program}\n`);
  return loadConfig({ configfile: conf });
}
const load = (program: string): ProcessConfig => model(program).groups[0]!.processes[0]!;

describe('cgroup options', () => {
  it('none set: no limits, kill_mode as supervisord (stopasgroup/killasgroup), default cgroup_root', () => {
    const p = load('');
    expect(Object.values(p.fastvisor.cgroup).every((v) => v === null)).toBe(true);
    expect(p.fastvisor.kill_mode).toBeNull();
    expect(model('').supervisord.cgroup_root).toBeNull();
  });

  it('reads every option', () => {
    const p = load('memory_max=512MB\nmemory_high=1GiB\ncpu_max=50%\ncpu_weight=200\npids_max=64\nio_weight=10000\nkill_mode=CGroup');
    expect(p.fastvisor.cgroup).toEqual({
      memory_max: 512 * 2 ** 20,
      memory_high: 2 ** 30,
      cpu_max: 50,
      cpu_weight: 200,
      pids_max: 64,
      io_weight: 10000,
    });
    expect(p.fastvisor.kill_mode).toBe('cgroup');
    expect(load('cpu_max=200%\npids_max=infinity\nmemory_max=max\nkill_mode=group').fastvisor).toMatchObject({
      cgroup: { cpu_max: 200, pids_max: null, memory_max: null },
      kill_mode: 'group',
    });
    expect(model('', 'cgroup_root=/services/fv/').supervisord.cgroup_root).toBe('/services/fv');
  });

  it('sizes: supervisord byte sizes and systemd units, powers of 1024', () => {
    expect(memoryBytes('256M', 'x')).toBe(256 * 2 ** 20);
    expect(memoryBytes('2G', 'x')).toBe(2 * 2 ** 30);
    expect(memoryBytes('64kb', 'x')).toBe(64 * 1024);
    expect(memoryBytes('1.5GiB', 'x')).toBe(1.5 * 2 ** 30);
    expect(memoryBytes('1048576', 'x')).toBe(2 ** 20);
  });

  it.each([
    ['memory_max=lots', "memory_max: invalid size 'lots'"],
    ['memory_high=10', 'memory_high: 10 is not between 4KB and 8PB'],
    ['cpu_max=50', "cpu_max: '50' is not a percentage of one CPU"],
    ['cpu_max=0%', "cpu_max: '0%' is not a percentage"],
    ['cpu_weight=0', "cpu_weight: '0' is not a whole number from 1 to 10000"],
    ['io_weight=10001', "io_weight: '10001' is not a whole number from 1 to 10000"],
    ['pids_max=-1', "pids_max: '-1' is not a whole number"],
    ['kill_mode=process', "kill_mode: 'process' is neither 'group' nor 'cgroup'"],
  ])('%s is refused at load, naming the option', (line, message) => {
    expect(() => load(line)).toThrow(ConfigError);
    expect(() => load(line)).toThrow(message);
    expect(() => load(line)).toThrow(/in section 'program:a'/);
  });

  it('cgroup_root must be an absolute cgroup path', () => {
    expect(() => model('', 'cgroup_root=fastvisor')).toThrow("cgroup_root: 'fastvisor' is not an absolute cgroup path");
    expect(() => model('', 'cgroup_root=/a/../b')).toThrow('cgroup_root:');
  });
});
