// SPDX-License-Identifier: MIT
// One process's config -> what the native spawn needs: argv from command=
// (shlex, PATH search and the executable checks of supervisord's
// get_execv_args/check_execv_args) and the child's environment
// (_spawn_as_child). Failures here are supervisord's spawnerr: the process
// goes to BACKOFF with the message, no fork happens.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import path from 'node:path';

import type { ProcessConfig } from '../config/model.js';
import { pyRepr } from './py-repr.js';
import { shlexSplit, ShlexError } from './shlex.js';

export class SpawnRefused extends Error {}

export interface ExecArgs {
  filename: string;
  argv: string[];
}

// options.py get_path(): $PATH, or supervisord's fallback list.
export function searchPath(env: Record<string, string | undefined>): string[] {
  const p = env.PATH;
  return p ? p.split(':') : ['/bin', '/usr/bin', '/usr/local/bin'];
}

function tryStat(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

export function execArgs(command: string, pathDirs: string[]): ExecArgs {
  let argv: string[];
  try {
    argv = shlexSplit(command);
  } catch (err) {
    if (err instanceof ShlexError) throw new SpawnRefused(`can't parse command ${pyRepr(command)}: ${err.message}`);
    throw err;
  }
  if (argv.length === 0) throw new SpawnRefused('command is empty');
  const program = argv[0]!;
  let filename = program;
  let st: Stats | null = null;
  if (program.includes('/')) {
    st = tryStat(program);
  } else {
    for (const dir of pathDirs) {
      const found = path.join(dir, program);
      st = tryStat(found);
      if (st) {
        filename = found;
        break;
      }
    }
  }
  // options.py check_execv_args()
  if (!st) throw new SpawnRefused(`can't find command ${pyRepr(filename)}`);
  if (st.isDirectory()) throw new SpawnRefused(`command at ${pyRepr(filename)} is a directory`);
  if (!(st.mode & 0o111)) throw new SpawnRefused(`command at ${pyRepr(filename)} is not executable`);
  try {
    accessSync(filename, constants.X_OK);
  } catch {
    throw new SpawnRefused(`no permission to run command ${pyRepr(filename)}`);
  }
  return { filename, argv };
}

/**
 * process.py _spawn_as_child(): the daemon's environment, SUPERVISOR_*, then
 * (fastvisor) the environment_file values, then environment= (which already
 * holds [supervisord] environment= underneath).
 */
export function childEnvironment(
  daemonEnv: Record<string, string | undefined>,
  config: Pick<ProcessConfig, 'name' | 'environment' | 'serverurl'>,
  groupName: string | null,
  daemonServerUrl: string | null,
  fileEnv: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(daemonEnv)) if (v !== undefined) env[k] = v;
  env.SUPERVISOR_ENABLED = '1';
  const serverurl = config.serverurl ?? daemonServerUrl;
  if (serverurl) env.SUPERVISOR_SERVER_URL = serverurl;
  env.SUPERVISOR_PROCESS_NAME = config.name;
  if (groupName !== null) env.SUPERVISOR_GROUP_NAME = groupName;
  // fastvisor's environment_file values, under environment= (which wins).
  for (const [k, v] of Object.entries(fileEnv)) env[k] = v;
  Object.assign(env, config.environment);
  return env;
}

/** config.get_path(): the PATH the child will see decides the search. */
export function pathForConfig(
  daemonEnv: Record<string, string | undefined>,
  config: Pick<ProcessConfig, 'environment'>,
  fileEnv: Readonly<Record<string, string>> = {},
): string[] {
  const p = config.environment.PATH ?? fileEnv.PATH;
  if (p !== undefined) return p.split(':');
  return searchPath(daemonEnv);
}
