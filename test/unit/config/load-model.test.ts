// SPDX-License-Identifier: MIT
// What the parity table cannot see: the model's own fields (kinds, sections,
// files, process_num), where fastvisor must differ from supervisord (Python
// plugins), and the config file search.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  ConfigError,
  configSearchPaths,
  findConfigFile,
  loadClientConfig,
  loadConfig,
  ROOT_SEARCH_WARNING,
  searchConfigFile,
  type UserDb,
} from '../../../src/config/load.js';
import { python } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

const conf = (...lines: string[]): string => `${lines.join('\n')}\n`;

function write(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
}

function load(files: Record<string, string>, main = 'supervisord.conf') {
  const dir = tmpDir('fv-model-');
  write(dir, files);
  return { dir, model: loadConfig({ configfile: path.join(dir, main), env: { TMPDIR: dir } }) };
}

function loadError(files: Record<string, string>): string {
  try {
    load(files);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('the model', () => {
  it('group kinds, process_num, numprocs, program_name, section and file', () => {
    const { dir, model } = load({
      'supervisord.conf': conf(
        '[supervisord]',
        '[include]',
        'files=more.conf',
        '[program:p]',
        'command=p',
        'numprocs=2',
        'numprocs_start=4',
        'process_name=p%(process_num)d',
        'user=nobody',
        '[group:g]',
        'programs=q',
        '[program:q]',
        'command=q',
      ),
      'more.conf': conf('[eventlistener:e]', 'command=e', 'events=TICK_5', '[fcgi-program:f]', 'command=f',
        'socket=tcp://h:9'),
    });
    const kinds = Object.fromEntries(model.groups.map((g) => [g.name, g.kind]));
    expect(kinds).toEqual({ e: 'eventlistener', p: 'program', g: 'group', f: 'fcgi-program' });
    const p = model.groups.find((g) => g.name === 'p')!.processes;
    expect(p.map((x) => [x.name, x.process_num, x.numprocs, x.program_name, x.user, x.uid])).toEqual([
      ['p4', 4, 2, 'p', 'nobody', 65534],
      ['p5', 5, 2, 'p', 'nobody', 65534],
    ]);
    expect(p[0]!.section).toBe('program:p');
    expect(p[0]!.file).toBe(path.join(dir, 'supervisord.conf'));
    const f = model.groups.find((g) => g.name === 'f')!;
    expect(f.processes[0]!.file).toBe(path.join(dir, 'more.conf'));
    expect(f.socket).toEqual({ kind: 'inet', url: 'tcp://h:9', host: 'h', port: 9, backlog: null });
    expect(model.groups.find((g) => g.name === 'e')!.pool).toEqual({
      buffer_size: 10,
      events: ['TICK_5'],
      result_handler: 'supervisor.dispatchers:default_handler',
    });
    expect(model.configfile).toBe(path.join(dir, 'supervisord.conf'));
    expect(model.here).toBe(dir);
    expect(model.serverurl).toBeNull();
    expect(model.rpcinterfaces).toEqual([]);
  });

  it('[supervisorctl]: absent, present, broken (supervisord does not read it, so it never fails the load)', () => {
    expect(load({ 'supervisord.conf': conf('[supervisord]') }).model.supervisorctl).toBeNull();
    const { dir, model } = load({ 'supervisord.conf': conf('[supervisord]', '[supervisorctl]', 'serverurl=unix://s.sock') });
    expect(model.supervisorctl).toEqual({
      serverurl: `unix://${path.join(process.cwd(), 's.sock')}`,
      username: null,
      password: null,
      prompt: 'supervisor',
      history_file: null,
    });
    void dir;
    expect(load({ 'supervisord.conf': conf('[supervisord]', '[supervisorctl]', 'prompt=%(nope)s') }).model.supervisorctl)
      .toBeNull();
  });

  it('[supervisord] metrics (fastvisor): on by default, a boolean', () => {
    expect(load({ 'supervisord.conf': conf('[supervisord]') }).model.supervisord.metrics).toBe(true);
    expect(load({ 'supervisord.conf': conf('[supervisord]', 'metrics = false') }).model.supervisord.metrics).toBe(false);
    expect(loadError({ 'supervisord.conf': conf('[supervisord]', 'metrics = maybe') })).toMatch(/maybe/);
  });

  it('a users database and host name can be passed in', () => {
    const dir = tmpDir('fv-model-');
    write(dir, { 'a.conf': conf('[supervisord]', 'user=app', '[program:p]', 'command=%(host_node_name)s', 'user=1234') });
    const users: UserDb = {
      getpwnam: (n) => (n === 'app' ? { name: 'app', uid: 1234, gid: 99 } : undefined),
      getpwuid: (u) => (u === 1234 ? { name: 'app', uid: 1234, gid: 99 } : undefined),
      getgrnam: () => undefined,
      getgrgid: () => false,
    };
    const m = loadConfig({ configfile: path.join(dir, 'a.conf'), env: {}, users, hostname: 'box' });
    expect([m.supervisord.uid, m.supervisord.gid]).toEqual([1234, 99]);
    expect(m.groups[0]!.processes[0]!.command).toBe('box');
    expect(m.groups[0]!.processes[0]!.uid).toBe(1234);
  });
});

describe('where fastvisor differs: no Python plugins', () => {
  it('an rpcinterface factory other than make_main_rpcinterface', () => {
    expect(
      loadError({
        'supervisord.conf': conf('[supervisord]', '[rpcinterface:laforge]',
          'supervisor.rpcinterface_factory = mr.laforge.rpcinterface:make_laforge_rpcinterface'),
      }),
    ).toBe(
      'fastvisor cannot load Python rpcinterface plugins: [rpcinterface:laforge] supervisor.rpcinterface_factory = ' +
        'mr.laforge.rpcinterface:make_laforge_rpcinterface (only supervisor.rpcinterface:make_main_rpcinterface is built in)',
    );
  });

  it('a result_handler other than the default one', () => {
    expect(
      loadError({
        'supervisord.conf': conf('[supervisord]', '[eventlistener:e]', 'command=e', 'events=EVENT',
          'result_handler=superlance.x:handler'),
      }),
    ).toBe(
      'fastvisor cannot load Python event listener result handlers: [eventlistener:e] result_handler = ' +
        'superlance.x:handler (only supervisor.dispatchers:default_handler is built in)',
    );
  });
});

describe('config file search (options.py searchpaths, default_configfile)', () => {
  const argv0s = ['/usr/bin/supervisord', 'supervisord', './supervisord', '/opt/x/bin/../bin/fastvisord', '/sd'];

  it('the candidate list for each argv[0], the "not found" error and the root warning', () => {
    const want = python<Array<{ paths: string[]; error: string; warned: string[] }>>(
      `import sys, json, os
argv0s = json.load(sys.stdin)
from supervisor.options import ServerOptions
class U(Exception): pass
def usage(m): raise U(m)
out = []
os.path.exists = lambda p: False
for a in argv0s:
    sys.argv[0] = a
    o = ServerOptions()
    o.usage = usage
    warned = []
    o.warnings = type('W', (), {'warn': staticmethod(lambda m: warned.append(m))})
    try:
        o.default_configfile()
        err = None
    except U as e:
        err = str(e)
    out.append({'paths': o.searchpaths, 'error': err, 'warned': warned})
print(json.dumps(out))`,
      argv0s,
    );
    const empty = tmpDir('fv-search-');
    const got = argv0s.map((a) => {
      const warned: string[] = [];
      let error = '';
      // The system's own /etc/supervisor/supervisord.conf may exist: only judge
      // the message when nothing is found, as the Python side (exists() = False) does.
      try {
        searchConfigFile(empty, a, { uid: 0, warn: (m) => warned.push(m) });
      } catch (e) {
        error = (e as Error).message;
      }
      return { paths: configSearchPaths(a), error, warned };
    });
    for (const [i, g] of got.entries()) {
      expect(g.paths).toEqual(want[i]!.paths);
      expect(g.warned).toEqual(want[i]!.warned);
      expect(want[i]!.warned).toEqual([ROOT_SEARCH_WARNING]);
      if (g.error) expect(g.error).toBe(want[i]!.error);
    }
  });

  it('no warning when not root', () => {
    const warned: string[] = [];
    try {
      searchConfigFile(tmpDir('fv-search-'), '/x/bin/sd', { uid: 1000, warn: (m) => warned.push(m) });
    } catch {
      // nothing found is fine here
    }
    expect(warned).toEqual([]);
  });

  it('the first existing candidate wins, spelled as in the list', () => {
    const root = tmpDir('fv-search-');
    const argv0 = path.join(root, 'bin', 'supervisord');
    const all = ['etc/supervisord.conf', 'supervisord.conf', 'cwd/supervisord.conf', 'cwd/etc/supervisord.conf'];
    const stages = all.map((_, i) => {
      const tree = path.join(root, `t${i}`);
      for (const f of all.slice(i)) write(tree, { [f]: '[supervisord]\n' });
      mkdirSync(path.join(tree, 'cwd'), { recursive: true });
      return tree;
    });
    const want = python<Array<string | null>>(
      `import sys, json, os
d = json.load(sys.stdin)
from supervisor.options import ServerOptions
out = []
for tree in d['stages']:
    sys.argv[0] = os.path.join(tree, 'bin', 'supervisord')
    os.chdir(os.path.join(tree, 'cwd'))
    o = ServerOptions()
    o.warnings = type('W', (), {'warn': staticmethod(lambda m: None)})
    out.append(o.default_configfile())
print(json.dumps(out))`,
      { stages },
    );
    const got = stages.map((tree) => findConfigFile(path.join(tree, 'cwd'), path.join(tree, 'bin', 'supervisord')));
    expect(got).toEqual(want);
    expect(got.slice(0, 2)).toEqual([path.join(stages[0]!, 'etc/supervisord.conf'), path.join(stages[1]!, 'supervisord.conf')]);
    expect(got.slice(2)).toEqual(['supervisord.conf', 'etc/supervisord.conf']);
    void argv0;
  });
});

describe('loadClientConfig (supervisorctl)', () => {
  it('defaults without a file, errors as ClientOptions words them', () => {
    expect(loadClientConfig({ configfile: null })).toEqual({
      serverurl: 'http://localhost:9001',
      username: null,
      password: null,
      prompt: 'supervisor',
      history_file: null,
    });
    const dir = tmpDir('fv-ctl-');
    write(dir, { 'a.conf': conf('[supervisord]') });
    expect(() => loadClientConfig({ configfile: path.join(dir, 'a.conf') })).toThrow(
      new ConfigError('.ini file does not include supervisorctl section'),
    );
    expect(() => loadClientConfig({ configfile: path.join(dir, 'nope.conf') })).toThrow(
      new ConfigError(`could not find config file ${path.join(dir, 'nope.conf')}`),
    );
  });
});
