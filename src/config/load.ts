// SPDX-License-Identifier: MIT
// A config file path -> the typed Model, or a ConfigError with the text
// supervisord prints after "Error: ". The order of the steps is options.py's
// (realize -> process_config -> read_config), because the first failing step
// decides which error a broken config reports.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

import { checkAutoChildLogs } from './auto-log.js';
import { ConfigError } from './config-error.js';
import { ValueError } from './datatypes.js';
import { resolveDependencies } from './dependencies.js';
import { environ_expansions } from './expand.js';
import { readConfigFiles } from './include.js';
import { newIniDocument, readIni } from './ini-reader.js';
import type { Model, SupervisorctlConfig } from './model.js';
import { ConfigParser } from './parser.js';
import { abspath, dirname, normalize_path } from './pypath.js';
import { decodeConfigText } from './read-text.js';
import { processGroupsFromParser } from './sections/groups.js';
import { readRpcInterfaces } from './sections/rpcinterface.js';
import { fallbackServerUrl, serverConfigsFromParser } from './sections/servers.js';
import { DEFAULT_CTL, readSupervisorctlSection } from './sections/supervisorctl.js';
import { readSupervisordSection } from './sections/supervisord.js';
import { gid_for_uid, name_to_uid, systemUserDb, type UserDb } from './users.js';

export { ConfigError } from './config-error.js';
export { configSearchPaths, findConfigFile, ROOT_SEARCH_WARNING, searchConfigFile } from './search.js';
export type { UserDb } from './users.js';

/**
 * supervisord's command-line options, already converted by the handlers
 * options.py registers for them (octal_type for -m, existing_directory for
 * -d, ...). A value here beats the config file (Options._set priority 2).
 */
export interface ServerOverrides {
  nodaemon?: boolean;
  silent?: boolean;
  user?: string;
  umask?: number;
  directory?: string;
  logfile?: string;
  logfile_maxbytes?: number;
  logfile_backups?: number;
  loglevel?: number;
  pidfile?: string;
  identifier?: string;
  childlogdir?: string;
  minfds?: number;
  minprocs?: number;
  nocleanup?: boolean;
  strip_ansi?: boolean;
}

export interface LoadOptions {
  /** as given to -c or found by searchConfigFile(); relative to the CWD. Messages name it as given. */
  configfile: string;
  /** the daemon's environment: %(ENV_X)s and the default childlogdir ($TMPDIR); process.env by default */
  env?: Readonly<Record<string, string | undefined>>;
  overrides?: ServerOverrides;
  /** users and groups for user=, chown=, socket_owner=; the system's by default */
  users?: UserDb;
  /** %(host_node_name)s; os.hostname() (Python's platform.node()) by default */
  hostname?: string;
}

function asConfigError(e: unknown): never {
  if (e instanceof ValueError) throw new ConfigError(e.message);
  throw e;
}

/** ServerOptions.realize() from the config file on: the whole model, or a ConfigError. */
export function loadConfig(opts: LoadOptions): Model {
  const env = opts.env ?? process.env;
  const cwd = process.cwd();
  const users = opts.users ?? systemUserDb();
  const hostNodeName = opts.hostname ?? hostname();
  const { configfile } = opts;
  const o = opts.overrides ?? {};
  const here = abspath(dirname(configfile), cwd);
  // parser.expansions: [supervisord] environment= extends it in place.
  const environ = environ_expansions(env);
  try {
    const { parser, mainText, warnings, infos } = readConfigFiles({ configfile, environ, hostNodeName, cwd });
    if (!parser.has_section('supervisord')) throw new ValueError('.ini file does not include supervisord section');
    const includeNames = { here, host_node_name: hostNodeName, ...environ };
    const sd = readSupervisordSection(parser, { here, includeNames, env, cwd });
    const rpcinterfaces = readRpcInterfaces(parser);
    const groups = processGroupsFromParser(parser, {
      here,
      hostNodeName,
      users,
      warnings,
      cwd,
      getuid: () => process.getuid?.() ?? -1,
    });
    // [supervisord] environment= under each program's own (the program wins).
    for (const g of groups) for (const proc of g.processes) proc.environment = { ...sd.environment, ...proc.environment };
    // fastvisor's environment_file: [supervisord]'s files first, so the program's win.
    if (sd.environment_file.length) {
      for (const g of groups) for (const proc of g.processes) proc.fastvisor.environment_file = [...sd.environment_file, ...proc.fastvisor.environment_file];
    }
    // fastvisor's depends_on: the processes each entry names, once every section is read.
    resolveDependencies(groups);
    const servers = serverConfigsFromParser(parser, here, users, cwd);

    // process_config(): command-line values beat the file's.
    const user = o.user ?? sd.user;
    let uid: number | null = null;
    let gid: number | null = null;
    if (user !== null) {
      uid = name_to_uid(users, user);
      gid = gid_for_uid(users, uid);
    }
    // realize() tests these two for truth, so an empty -l/-j means "the file's".
    const logfile = o.logfile || sd.logfile;
    const pidfile = o.pidfile || sd.pidfile;
    const childlogdir = o.childlogdir ?? sd.childlogdir;
    const identifier = o.identifier ?? sd.identifier;
    // supervisord names the AUTO logs once running (and dies there on a name
    // that cannot exist); here such a name is an error like any other.
    checkAutoChildLogs(groups, childlogdir, identifier, cwd);
    return {
      configfile: abspath(configfile, cwd),
      here,
      supervisord: {
        // realize(): both are made absolute against the CWD now, not the config's directory.
        logfile: logfile === 'syslog' ? logfile : normalize_path(logfile, cwd),
        logfile_maxbytes: o.logfile_maxbytes ?? sd.logfile_maxbytes,
        logfile_backups: o.logfile_backups ?? sd.logfile_backups,
        loglevel: o.loglevel ?? sd.loglevel,
        pidfile: normalize_path(pidfile, cwd),
        umask: o.umask ?? sd.umask,
        nodaemon: o.nodaemon ?? sd.nodaemon,
        silent: o.silent ?? sd.silent,
        minfds: o.minfds ?? sd.minfds,
        minprocs: o.minprocs ?? sd.minprocs,
        nocleanup: o.nocleanup ?? sd.nocleanup,
        childlogdir,
        user,
        uid,
        gid,
        directory: o.directory ?? sd.directory,
        strip_ansi: o.strip_ansi ?? sd.strip_ansi,
        environment: sd.environment,
        identifier,
        cgroup_root: sd.cgroup_root,
        metrics: sd.metrics,
        child_log_format: sd.child_log_format,
        logfile_rotation: sd.logfile_rotation,
        capture_lag_ms: sd.capture_lag_ms,
      },
      groups,
      servers,
      serverurl: fallbackServerUrl(servers),
      rpcinterfaces,
      supervisorctl: ctlSection(mainText, configfile, env, cwd),
      warnings,
      infos,
    };
  } catch (e) {
    return asConfigError(e);
  }
}

// The Model's view of [supervisorctl]: supervisorctl's own reading, or null
// (a broken [supervisorctl] does not stop supervisord).
function ctlSection(
  text: string,
  configfile: string,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): SupervisorctlConfig | null {
  try {
    const p = new ConfigParser(readIni(text, configfile, newIniDocument()), environ_expansions(env), configfile);
    if (!p.has_section('supervisorctl')) return null;
    return readSupervisorctlSection(p, dirname(normalize_path(configfile, cwd)), cwd);
  } catch (e) {
    if (e instanceof ValueError) return null;
    throw e;
  }
}

/**
 * supervisorctl's config (ClientOptions.read_config): the defaults when no
 * file was found (`configfile` null), else the file's [supervisorctl], which
 * must exist. [ctlplugin:x] sections are not read.
 */
export function loadClientConfig(opts: {
  configfile: string | null;
  env?: Readonly<Record<string, string | undefined>>;
}): SupervisorctlConfig {
  const { configfile } = opts;
  if (configfile === null) return { ...DEFAULT_CTL };
  const cwd = process.cwd();
  try {
    if (!existsSync(configfile)) throw new ValueError(`could not find config file ${configfile}`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(configfile);
    } catch {
      throw new ValueError(`could not read config file ${configfile}`);
    }
    const decoded = decodeConfigText(bytes);
    if ('error' in decoded) throw decoded.error;
    const p = new ConfigParser(readIni(decoded.text, configfile), environ_expansions(opts.env ?? process.env), configfile);
    return readSupervisorctlSection(p, dirname(normalize_path(configfile, cwd)), cwd);
  } catch (e) {
    return asConfigError(e);
  }
}
