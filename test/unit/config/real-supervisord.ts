// SPDX-License-Identifier: MIT
// Runs a table of config cases through supervisord's own parser (one python
// process for the whole table) and through loadConfig, in the same shape, so
// tests can compare them with one toEqual.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadClientConfig, loadConfig, type ServerOverrides } from '../../../src/config/load.js';
import type { Model, ProcessConfig, ProcessGroupConfig } from '../../../src/config/model.js';
import { parseEntryPoint } from '../../../src/config/sections/entry-point.js';
import { PYTHON } from '../../helpers/python.js';

const HARNESS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'supervisord_config.py');

export interface Case {
  name: string;
  /** files under the case's directory; null makes a directory */
  files: Record<string, string | Buffer | null>;
  /** the -c argument, relative to the case directory (the CWD), `{dir}` being that directory; default supervisord.conf */
  main?: string;
  /** extra supervisord options for Python, and the same as overrides for loadConfig */
  args?: string[];
  overrides?: ServerOverrides;
  env?: Record<string, string>;
  /** read as supervisorctl does */
  client?: boolean;
}

export type Outcome = { ok: unknown } | { error: string } | { crash: string };

export interface Prepared {
  case: Case;
  dir: string;
  env: Record<string, string>;
  main: string;
}

export function prepare(root: string, cases: Case[]): Prepared[] {
  return cases.map((c, i) => {
    const dir = path.join(root, `case${String(i).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    mkdirSync(path.join(dir, 'tmp'));
    for (const [rel, content] of Object.entries(c.files)) {
      const p = path.join(dir, rel);
      if (content === null) mkdirSync(p, { recursive: true });
      else {
        mkdirSync(path.dirname(p), { recursive: true });
        writeFileSync(p, content);
      }
    }
    const env: Record<string, string> = {
      HOME: process.env.HOME ?? '/root',
      PATH: '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      TMPDIR: path.join(dir, 'tmp'),
      FOO: 'bar',
      ...c.env,
    };
    return { case: c, dir, env, main: (c.main ?? 'supervisord.conf').replace('{dir}', dir) };
  });
}

/** supervisord's view of every case, in one python run. */
export function runPython(prepared: Prepared[]): Outcome[] {
  const input = prepared.map((p) => ({
    cwd: p.dir,
    env: p.env,
    args: ['-c', p.main, ...(p.case.args ?? [])],
    client: p.case.client ?? false,
  }));
  const out = execFileSync(PYTHON, [HARNESS], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(out) as Outcome[];
}

const CLS: Record<ProcessGroupConfig['kind'], string> = {
  program: 'ProcessGroupConfig',
  group: 'ProcessGroupConfig',
  eventlistener: 'EventListenerPoolConfig',
  'fcgi-program': 'FastCGIGroupConfig',
};

// The fields of Python's ProcessConfig (fastvisor's extras are checked in load-model.test.ts).
const NOT_IN_PYTHON = ['program_name', 'section', 'file', 'user', 'process_num', 'numprocs', 'fastvisor'];

function proc(p: ProcessConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p, environment: { ...p.environment } };
  for (const k of NOT_IN_PYTHON) delete out[k];
  return out;
}

// The harness names the function Python imported; the model keeps the spec as written.
function spec(s: string): string {
  const ep = parseEntryPoint(s);
  return `${ep.module}:${ep.attr}`;
}

/** loadConfig's model in the harness's shape. */
export function shape(m: Model): unknown {
  // cgroup_root (fastvisor-options.test.ts), metrics (load-model.test.ts), child_log_format,
  // logfile_rotation and capture_lag_ms (fastvisor-options.test.ts) are fastvisor's own.
  const {
    environment,
    cgroup_root: _cgroupRoot,
    metrics: _metrics,
    child_log_format: _childLogFormat,
    logfile_rotation: _rotation,
    capture_lag_ms: _captureLagMs,
    ...sd
  } = m.supervisord;
  return {
    supervisord: { ...sd, environment: { ...environment } },
    groups: m.groups.map((g) => ({
      name: g.name,
      priority: g.priority,
      cls: CLS[g.kind],
      processes: g.processes.map(proc),
      ...(g.pool
        ? { buffer_size: g.pool.buffer_size, events: [...g.pool.events].sort(), result_handler: spec(g.pool.result_handler) }
        : {}),
      ...(g.socket
        ? {
            socket:
              g.socket.kind === 'unix'
                ? { url: g.socket.url, backlog: g.socket.backlog, mode: g.socket.mode, owner: g.socket.owner }
                : { url: g.socket.url, backlog: g.socket.backlog, mode: null, owner: null },
          }
        : {}),
    })),
    servers: m.servers.map((s) =>
      s.kind === 'unix'
        ? { name: s.name, section: s.section, username: s.username, password: s.password, kind: 'unix', file: s.file,
            chmod: s.chmod, chown: s.chown ? [s.chown.uid, s.chown.gid] : null }
        : { name: s.name, section: s.section, username: s.username, password: s.password, kind: 'inet', host: s.host,
            port: s.port },
    ),
    serverurl: m.serverurl,
    rpcinterfaces: m.rpcinterfaces.map((r) => {
      return { name: r.name, factory: spec(r.factory), extras: r.extras };
    }),
    warnings: m.warnings,
    infos: m.infos,
  };
}

/** loadConfig (or loadClientConfig) on a case, from its directory, in the harness's shape. */
export function runOurs(p: Prepared): Outcome {
  const before = process.cwd();
  process.chdir(p.dir);
  try {
    if (p.case.client) return { ok: loadClientConfig({ configfile: p.main, env: p.env }) };
    const m = loadConfig({ configfile: p.main, env: p.env, overrides: p.case.overrides });
    return { ok: shape(m) };
  } catch (e) {
    if (e instanceof Error && e.name === 'ConfigError') return { error: e.message };
    throw e;
  } finally {
    process.chdir(before);
  }
}
