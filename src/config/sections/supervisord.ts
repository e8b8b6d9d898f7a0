// SPDX-License-Identifier: MIT
// [supervisord]: the options read_config() takes from it, in its order (the
// first bad value is the one reported), before command-line overrides.
import {
  backups_integer,
  boolean,
  bounded_byte_size,
  bounded_integer,
  dict_of_key_value_pairs,
  existing_directory,
  existing_dirpath,
  logging_level,
  octal_mode,
} from '../datatypes.js';
import { expand } from '../expand.js';
import type { Names, ConfigParser } from '../parser.js';
import { captureLagMs, cgroupRoot, environmentFiles, lineFormat, logRotation } from '../fastvisor-options.js';
import type { LineFormat, LogRotation } from '../model.js';
import { gettempdir } from '../pypath.js';

export interface SupervisordSection {
  minfds: number;
  minprocs: number;
  directory: string | null;
  user: string | null;
  umask: number;
  logfile: string;
  logfile_maxbytes: number;
  logfile_backups: number;
  loglevel: number;
  pidfile: string;
  identifier: string;
  nodaemon: boolean;
  silent: boolean;
  childlogdir: string;
  nocleanup: boolean;
  strip_ansi: boolean;
  environment: Record<string, string>;
  /** fastvisor only: dotenv files for every program (merged into each program's list by loadConfig) */
  environment_file: Array<{ path: string; optional: boolean }>;
  /** fastvisor only: where the programs' cgroups go; null: under the daemon's own cgroup */
  cgroup_root: string | null;
  /** fastvisor only: GET /metrics on the HTTP servers */
  metrics: boolean;
  /** fastvisor only: line format of child logs written to the daemon's stdout/stderr */
  child_log_format: LineFormat;
  /** fastvisor only: logfile_rotate_every / logfile_max_age / logfile_compress; null: none set */
  logfile_rotation: LogRotation | null;
  /** fastvisor only: the capture lag bound in ms; null: the I/O core's default */
  capture_lag_ms: number | null;
}

export interface SupervisordContext {
  here: string;
  /** read_config's `expansions`: here, host_node_name and ENV_* of the daemon's environment */
  includeNames: Names;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export function readSupervisordSection(p: ConfigParser, ctx: SupervisordContext): SupervisordSection {
  const get = <D extends string | number | null>(opt: string, def: D) =>
    p.saneget('supervisord', opt, def, { expansions: { here: ctx.here } });

  const minfds = bounded_integer(get('minfds', 1024));
  const minprocs = bounded_integer(get('minprocs', 200));
  const dir = get('directory', null);
  const directory = dir === null ? null : existing_directory(dir);
  const user = get('user', null);
  const umask = octal_mode(get('umask', '022'));
  const logfile = existing_dirpath(get('logfile', 'supervisord.log'));
  const logfile_maxbytes = bounded_byte_size(get('logfile_maxbytes', '50MB'));
  const logfile_backups = backups_integer(get('logfile_backups', 10));
  const loglevel = logging_level(get('loglevel', 'info'));
  const pidfile = existing_dirpath(get('pidfile', 'supervisord.pid'));
  const identifier = get('identifier', 'supervisor');
  const nodaemon = boolean(get('nodaemon', 'false'));
  const silent = boolean(get('silent', 'false'));
  // The default is a str, so it is %-expanded like a value; computed only when needed.
  const childlogdir = existing_directory(
    p.raw('supervisord', 'childlogdir') === undefined
      ? get('childlogdir', gettempdir(ctx.env, ctx.cwd))
      : get('childlogdir', ''),
  );
  const nocleanup = boolean(get('nocleanup', 'false'));
  const strip_ansi = boolean(get('strip_ansi', 'false'));
  // Expanded twice: by get(), then with host_node_name (so 4.2.5 wants
  // %%(host_node_name)s here, and %%%% for one literal %).
  const environment = dict_of_key_value_pairs(expand(get('environment', ''), ctx.includeNames, 'environment'));
  // Every later section may use these as %(ENV_X)s.
  for (const [k, v] of Object.entries(environment)) p.expansions[`ENV_${k}`] = v;
  // fastvisor only: env files for every program, read before the program's own.
  const environment_file = environmentFiles(get('environment_file', ''));
  const cgroup_root = cgroupRoot(get('cgroup_root', ''));
  const metrics = boolean(get('metrics', 'true'));
  const child_log_format = lineFormat(get('child_log_format', 'raw'), 'child_log_format');
  const logfile_rotation = logRotation((option) => get(option, null), 'logfile');
  const capture_lag_ms = captureLagMs(get('capture_lag_ms', ''));

  return {
    minfds,
    minprocs,
    directory,
    user,
    umask,
    logfile,
    logfile_maxbytes,
    logfile_backups,
    loglevel,
    pidfile,
    identifier,
    nodaemon,
    silent,
    childlogdir,
    nocleanup,
    strip_ansi,
    environment,
    environment_file,
    cgroup_root,
    metrics,
    child_log_format,
    logfile_rotation,
    capture_lag_ms,
  };
}
