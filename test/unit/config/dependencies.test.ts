// SPDX-License-Identifier: MIT
// depends_on= resolved by loadConfig against every section of the file: the
// processes each entry names, and each bad entry (unknown names, :healthy
// without a health check, cycles) refused with the section and file named.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../../src/config/load.js';
import type { Model, ProcessConfig } from '../../../src/config/model.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

let conf = '';

function load(...lines: string[]): Model {
  const dir = tmpDir('fv-deps-');
  conf = path.join(dir, 'supervisord.conf');
  writeFileSync(conf, ['[supervisord]', ...lines, ''].join('\n'));
  return loadConfig({ configfile: conf, env: { TMPDIR: dir } });
}

function proc(m: Model, name: string): ProcessConfig {
  for (const g of m.groups) for (const p of g.processes) if (p.name === name) return p;
  throw new Error(`no process ${name}`);
}

function loadError(...lines: string[]): string {
  try {
    load(...lines);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const program = (name: string, ...options: string[]): string[] => [`[program:${name}]`, `command=/bin/${name}`, ...options];

describe('depends_on resolution', () => {
  it('a config without the options loads as before: nothing to resolve', () => {
    const m = load(...program('a'), ...program('b', 'numprocs=2', 'process_name=b%(process_num)d'));
    for (const g of m.groups) {
      for (const p of g.processes) {
        expect(p.fastvisor.depends_on).toEqual([]);
        expect(p.fastvisor.dependencies).toEqual([]);
      }
    }
  });

  it('a program name: every process of a numprocs program', () => {
    const m = load(
      ...program('x', 'depends_on = a'),
      ...program('a', 'numprocs=2', 'process_name=%(program_name)s_%(process_num)02d'),
    );
    expect(proc(m, 'x').fastvisor.dependencies).toEqual([
      {
        target: 'a',
        condition: 'running',
        text: 'a',
        processes: [
          { group: 'a', name: 'a_00' },
          { group: 'a', name: 'a_01' },
        ],
      },
    ]);
    expect(proc(m, 'a_00').fastvisor.dependencies).toEqual([]);
  });

  it('g:*, g:name, and a program inside a [group:g] by its program name', () => {
    const m = load(
      '[group:g]',
      'programs=p,q',
      ...program('p', 'numprocs=2', 'process_name=p%(process_num)d'),
      ...program('q', 'healthcheck=cmd:true'),
      ...program('x', 'depends_on = g:*, g:p1:exited, q:HEALTHY'),
      ...program('y', 'depends_on = p'),
    );
    expect(proc(m, 'x').fastvisor.dependencies).toEqual([
      {
        target: 'g:*',
        condition: 'running',
        text: 'g:*',
        processes: [
          { group: 'g', name: 'p0' },
          { group: 'g', name: 'p1' },
          { group: 'g', name: 'q' },
        ],
      },
      { target: 'g:p1', condition: 'exited', text: 'g:p1:exited', processes: [{ group: 'g', name: 'p1' }] },
      { target: 'q', condition: 'healthy', text: 'q:healthy', processes: [{ group: 'g', name: 'q' }] },
    ]);
    expect(proc(m, 'y').fastvisor.dependencies[0]!.processes).toEqual([
      { group: 'g', name: 'p0' },
      { group: 'g', name: 'p1' },
    ]);
  });

  it("a program's own group: a:* and a:a_1", () => {
    const m = load(
      ...program('a', 'numprocs=2', 'process_name=a_%(process_num)d', 'healthcheck = tcp:localhost:1'),
      ...program('x', 'depends_on = a:*'),
      ...program('y', 'depends_on = a:a_1:healthy'),
    );
    expect(proc(m, 'x').fastvisor.dependencies[0]!.processes.map((p) => p.name)).toEqual(['a_0', 'a_1']);
    expect(proc(m, 'y').fastvisor.dependencies).toEqual([
      { target: 'a:a_1', condition: 'healthy', text: 'a:a_1:healthy', processes: [{ group: 'a', name: 'a_1' }] },
    ]);
  });

  it('each process its own: %(process_num)d in depends_on', () => {
    const m = load(
      ...program('db', 'numprocs=2', 'process_name=db_%(process_num)d'),
      ...program('w', 'numprocs=2', 'process_name=w_%(process_num)d', 'depends_on = db:db_%(process_num)d'),
    );
    expect(proc(m, 'w_0').fastvisor.dependencies[0]!.processes).toEqual([{ group: 'db', name: 'db_0' }]);
    expect(proc(m, 'w_1').fastvisor.dependencies[0]!.processes).toEqual([{ group: 'db', name: 'db_1' }]);
  });

  it('an event listener can be a target (and depend)', () => {
    const m = load(
      '[eventlistener:ev]',
      'command=/bin/cat',
      'events=TICK_5',
      'depends_on = b:exited',
      ...program('a', 'depends_on = ev'),
      ...program('b'),
    );
    expect(proc(m, 'a').fastvisor.dependencies[0]!.processes).toEqual([{ group: 'ev', name: 'ev' }]);
    expect(proc(m, 'ev').fastvisor.dependencies).toMatchObject([{ text: 'b:exited', processes: [{ group: 'b', name: 'b' }] }]);
  });

  it('a process named like a condition: g:healthy:running', () => {
    const m = load(
      '[group:g]',
      'programs=healthy',
      ...program('healthy'),
      ...program('running'),
      ...program('x', 'depends_on = g:healthy:running, running'),
    );
    expect(proc(m, 'x').fastvisor.dependencies).toEqual([
      { target: 'g:healthy', condition: 'running', text: 'g:healthy:running', processes: [{ group: 'g', name: 'healthy' }] },
      { target: 'running', condition: 'running', text: 'running', processes: [{ group: 'running', name: 'running' }] },
    ]);
  });

  it('a chain without a cycle, and two processes sharing a dependency', () => {
    const m = load(
      ...program('a', 'depends_on = b, c'),
      ...program('b', 'depends_on = c'),
      ...program('c', 'depends_on = d:exited'),
      ...program('d'),
    );
    expect(proc(m, 'a').fastvisor.dependencies.map((d) => d.text)).toEqual(['b', 'c']);
  });
});

describe('depends_on errors name the section and file', () => {
  const at = (section: string, message: string) => `[${section}] depends_on: ${message} (file: '${conf}')`;

  it('unknown program', () => {
    const e = loadError(...program('x', 'depends_on = nope'));
    expect(e).toBe(at('program:x', "unknown program 'nope'"));
  });

  it('unknown program that is a [group:x]: the hint to write g:*', () => {
    const e = loadError('[group:g]', 'programs=p', ...program('p'), ...program('x', 'depends_on = g'));
    expect(e).toBe(at('program:x', "unknown program 'g' (for every process of group 'g' write 'g:*')"));
  });

  it('unknown group, and a group without that process', () => {
    expect(loadError(...program('x', 'depends_on = g:*'))).toBe(at('program:x', "'g:*': unknown group 'g'"));
    expect(loadError(...program('x', 'depends_on = g:p:healthy'))).toBe(at('program:x', "'g:p:healthy': unknown group 'g'"));
    expect(loadError('[group:g]', 'programs=p', ...program('p'), ...program('x', 'depends_on = g:q'))).toBe(
      at('program:x', "'g:q': group 'g' has no process 'q'"),
    );
    // a [group:g] wins over the reading as a condition
    expect(loadError('[group:g]', 'programs=p', ...program('p'), ...program('x', 'depends_on = g:started'))).toBe(
      at('program:x', "'g:started': group 'g' has no process 'started'"),
    );
    // not a word: a process name, not a condition
    expect(loadError(...program('a', 'numprocs=2', 'process_name=a_%(process_num)d'), ...program('x', 'depends_on = a:a_3'))).toBe(
      at('program:x', "'a:a_3': group 'a' has no process 'a_3'"),
    );
  });

  it('a misspelt condition of a program', () => {
    expect(loadError(...program('db'), ...program('x', 'depends_on = db:started'))).toBe(
      at('program:x', "'db:started': unknown condition 'started' (use running, healthy or exited)"),
    );
    expect(loadError(...program('a'), ...program('x', 'depends_on = a:healthyy'))).toBe(
      at('program:x', "'a:healthyy': unknown condition 'healthyy' (use running, healthy or exited)"),
    );
    // db inside a [group:g]: no group db, but a program db
    expect(loadError('[group:g]', 'programs=db', ...program('db'), ...program('x', 'depends_on = db:Up'))).toBe(
      at('program:x', "'db:Up': unknown condition 'Up' (use running, healthy or exited)"),
    );
  });

  it(':healthy needs a healthcheck on every process it names', () => {
    expect(loadError(...program('db'), ...program('x', 'depends_on = db:healthy'))).toBe(
      at('program:x', "'db:healthy' needs a healthcheck in [program:db]"),
    );
    const e = loadError(
      '[group:g]',
      'programs=p,q',
      ...program('p', 'healthcheck=cmd:true'),
      ...program('q'),
      ...program('x', 'depends_on = g:*:healthy'),
    );
    expect(e).toBe(at('program:x', "'g:*:healthy' needs a healthcheck in [program:q]"));
  });

  it('the errors of a program inside a [group:g] name its own section', () => {
    const e = loadError('[group:g]', 'programs=p', ...program('p', 'depends_on = nope'));
    expect(e).toBe(at('program:p', "unknown program 'nope'"));
  });

  it('a process depending on itself', () => {
    expect(loadError(...program('a', 'depends_on = a'))).toBe(at('program:a', 'dependency cycle: a -> a'));
    expect(loadError(...program('a', 'depends_on = a:*:exited'))).toBe(at('program:a', 'dependency cycle: a -> a'));
    expect(loadError('[group:g]', 'programs=a,b', ...program('a'), ...program('b', 'depends_on = g:*'))).toBe(
      at('program:b', 'dependency cycle: b -> b'),
    );
    expect(loadError(...program('w', 'numprocs=2', 'process_name=w%(process_num)d', 'depends_on = w'))).toBe(
      at('program:w', 'dependency cycle: w0 -> w0'),
    );
  });

  it('2- and 3-cycles, reported from the first process in load order', () => {
    expect(loadError(...program('a', 'depends_on = b'), ...program('b', 'depends_on = a:exited'))).toBe(
      at('program:a', 'dependency cycle: a -> b -> a'),
    );
    expect(
      loadError(...program('a', 'depends_on = b'), ...program('b', 'depends_on = c'), ...program('c', 'depends_on = a')),
    ).toBe(at('program:a', 'dependency cycle: a -> b -> c -> a'));
    // start order (priority) decides which process the walk starts from
    expect(
      loadError(
        ...program('a', 'depends_on = b'),
        ...program('b', 'depends_on = c'),
        ...program('c', 'depends_on = a', 'priority=1'),
      ),
    ).toBe(at('program:c', 'dependency cycle: c -> a -> b -> c'));
    // a cycle behind an acyclic start: the message names the cycle only
    expect(
      loadError(
        ...program('a', 'depends_on = b'),
        ...program('b', 'depends_on = c'),
        ...program('c', 'depends_on = d'),
        ...program('d', 'depends_on = b'),
      ),
    ).toBe(at('program:b', 'dependency cycle: b -> c -> d -> b'));
  });

  it('a cycle through a numprocs program and a group', () => {
    const e = loadError(
      '[group:g]',
      'programs=p',
      ...program('p', 'depends_on = w'),
      ...program('w', 'numprocs=2', 'process_name=w%(process_num)d', 'depends_on = g:p:running'),
    );
    expect(e).toBe(at('program:p', 'dependency cycle: p -> w0 -> p'));
  });

  it('through an event listener', () => {
    const e = loadError(
      '[eventlistener:ev]',
      'command=/bin/cat',
      'events=TICK_5',
      'depends_on = a',
      ...program('a', 'depends_on = ev'),
    );
    expect(e).toBe(at('eventlistener:ev', 'dependency cycle: ev -> a -> ev'));
  });

  it('a bad entry is a read error of its section (no resolution needed)', () => {
    expect(loadError(...program('x', 'depends_on = a:b:c:d'))).toBe(
      "depends_on: 'a:b:c:d' is not NAME, GROUP:* or GROUP:NAME (with an optional :running, :healthy or :exited) " +
        `in section 'program:x' (file: '${conf}')`,
    );
  });
});
