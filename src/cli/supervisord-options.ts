// SPDX-License-Identifier: MIT
// supervisord's command line, as options.py ServerOptions reads it: Python
// getopt over the same option table, each value through the same converter,
// and the same "Error: ... / For help, use PROG -h" exit 2 on any problem.
import {
  backups_integer,
  bounded_byte_size,
  bounded_integer,
  pyRepr,
  existing_directory,
  existing_dirpath,
  logging_level,
  octal_mode,
  ValueError,
} from '../config/datatypes.js';
import type { ServerOverrides } from '../config/load.js';
import { getopt, GetoptError } from './getopt.js';

/** Command-line values, converted; they win over the config file (options.py _set prio 2). */
export type CommandLineOverrides = ServerOverrides;

export type ParsedCommandLine =
  | { kind: 'run'; configfile: string | null; overrides: CommandLineOverrides }
  | { kind: 'help' }
  | { kind: 'version' };

/** What options.py usage() prints before "For help, use PROG -h"; exit 2. */
export class UsageError extends Error {}

export const SUPERVISOR_VERSION = '4.2.5';

// supervisord.py's __doc__, `%s` being the program name. --profile_options is
// accepted but refused: there is no Python profiler to run under.
export function helpText(progname: string): string {
  return `supervisord -- run a set of applications as daemons.

Usage: ${progname} [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success

`;
}

type Converter = (arg: string) => string | number | boolean;

interface OptionDef {
  name: keyof CommandLineOverrides | 'configfile' | 'help' | 'version' | 'profile_options';
  short?: string;
  long?: string;
  convert?: Converter;
  flag?: boolean;
}

const str = (s: string): string => s;
const int = (s: string): number => bounded_integer(s);

// Registration order = options.py's, which decides getopt's option strings.
const TABLE: OptionDef[] = [
  { name: 'help', short: 'h', long: 'help' },
  { name: 'help', short: '?' },
  { name: 'configfile', short: 'c:', long: 'configuration=', convert: str },
  { name: 'version', short: 'v', long: 'version' },
  { name: 'nodaemon', short: 'n', long: 'nodaemon', flag: true },
  { name: 'user', short: 'u:', long: 'user=', convert: str },
  { name: 'umask', short: 'm:', long: 'umask=', convert: octal_mode },
  { name: 'directory', short: 'd:', long: 'directory=', convert: existing_directory },
  { name: 'logfile', short: 'l:', long: 'logfile=', convert: existing_dirpath },
  { name: 'logfile_maxbytes', short: 'y:', long: 'logfile_maxbytes=', convert: bounded_byte_size },
  { name: 'logfile_backups', short: 'z:', long: 'logfile_backups=', convert: backups_integer },
  { name: 'loglevel', short: 'e:', long: 'loglevel=', convert: logging_level },
  { name: 'pidfile', short: 'j:', long: 'pidfile=', convert: existing_dirpath },
  { name: 'identifier', short: 'i:', long: 'identifier=', convert: str },
  { name: 'childlogdir', short: 'q:', long: 'childlogdir=', convert: existing_directory },
  { name: 'minfds', short: 'a:', long: 'minfds=', convert: int },
  { name: 'minprocs', long: 'minprocs=', convert: int },
  { name: 'nocleanup', short: 'k', long: 'nocleanup', flag: true },
  { name: 'strip_ansi', short: 't', long: 'strip_ansi', flag: true },
  { name: 'profile_options', long: 'profile_options=', convert: str },
  { name: 'silent', short: 's', long: 'silent', flag: true },
];

const SHORT = TABLE.map((o) => o.short ?? '').join('');
const LONG = TABLE.flatMap((o) => (o.long ? [o.long] : []));
const BY_KEY = new Map<string, OptionDef>();
for (const o of TABLE) {
  if (o.short) BY_KEY.set(`-${o.short[0]}`, o);
  if (o.long) BY_KEY.set(`--${o.long.replace(/=$/, '')}`, o);
}

export function parseCommandLine(argv: string[]): ParsedCommandLine {
  let opts: [string, string][];
  let rest: string[];
  try {
    [opts, rest] = getopt(argv, SHORT, LONG);
  } catch (err) {
    if (err instanceof GetoptError) throw new UsageError(err.message);
    throw err;
  }
  if (rest.length) throw new UsageError(`positional arguments are not supported: [${rest.map(pyRepr).join(', ')}]`);
  const seen = new Map<string, unknown>();
  for (const [opt, arg] of opts) {
    const def = BY_KEY.get(opt)!;
    // help and version act at once, as their handlers exit while parsing.
    if (def.name === 'help') return { kind: 'help' };
    if (def.name === 'version') return { kind: 'version' };
    let value: unknown;
    if (def.flag) value = true;
    else {
      try {
        value = def.convert!(arg);
      } catch (err) {
        if (err instanceof ValueError) throw new UsageError(`invalid value for ${opt} ${pyRepr(arg)}: ${err.message}`);
        throw err;
      }
    }
    if (seen.has(def.name)) throw new UsageError(`conflicting command line option ${pyRepr(opt)}`);
    seen.set(def.name, value);
  }
  if (seen.has('profile_options')) throw new UsageError('--profile_options is not supported: fastvisor is not a Python program to profile');
  const configfile = (seen.get('configfile') as string | undefined) ?? null;
  seen.delete('configfile');
  return { kind: 'run', configfile, overrides: Object.fromEntries(seen) as CommandLineOverrides };
}
