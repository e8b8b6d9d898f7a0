// SPDX-License-Identifier: MIT
// supervisorctl's command line and [supervisorctl] section: options.py Options.realize
// and ClientOptions, with their usage errors word for word. Command-line values win
// over the file, the file over the defaults.
import { existsSync } from 'node:fs';
import path from 'node:path';

import { getopt, GetoptError } from '../cli/getopt.js';
import { url as urlType, ValueError } from '../config/datatypes.js';
import { readCtlSection } from './config.js';
import { pyRepr } from './py.js';

export const USAGE = `supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default "http://localhost:9001").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like "tail" or "stop".  If -i is specified or no action is
specified on the command line, a "shell" interpreting actions typed
interactively is started.  Use the action "help" to find out about available
actions.
`;

export interface CtlOptions {
  configfile: string | null;
  /** -i, or no command given: confirmations and the login prompt are asked. */
  interactive: boolean;
  serverurl: string;
  username: string | null;
  password: string | null;
  prompt: string;
  historyFile: string | null;
  /** The command and its arguments; empty for the shell. */
  args: string[];
}

export interface OptionsEnv {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** sys.argv[0]: named in usage errors, and its grandparent directory is searched for a config. */
  progname: string;
}

/** Options.usage(): `Error: msg` and a pointer to -h on stderr, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** -h / -?: the docstring on stdout, exit 0. */
export class HelpRequested extends Error {
  override name = 'HelpRequested';
}

const SHORT = 'h?c:is:u:p:r:';
const LONG = ['help', 'configuration=', 'interactive', 'serverurl=', 'username=', 'password=', 'history_file='];
const NAME_OF: Record<string, keyof Given> = {
  '-c': 'configfile',
  '--configuration': 'configfile',
  '-i': 'interactive',
  '--interactive': 'interactive',
  '-s': 'serverurl',
  '--serverurl': 'serverurl',
  '-u': 'username',
  '-p': 'password',
  '--username': 'username',
  '--password': 'password',
  '-r': 'history',
  '--history_file': 'history',
};

interface Given {
  configfile?: string;
  interactive?: boolean;
  serverurl?: string;
  username?: string;
  password?: string;
  history?: string;
}

/** The config files tried when -c is not given, in options.py Options.__init__'s order. */
export function searchPaths(progname: string): string[] {
  const here = path.posix.dirname(path.posix.dirname(progname));
  return [
    path.posix.join(here, 'etc', 'supervisord.conf'),
    path.posix.join(here, 'supervisord.conf'),
    'supervisord.conf',
    'etc/supervisord.conf',
    '/etc/supervisord.conf',
    '/etc/supervisor/supervisord.conf',
  ];
}

export function parseOptions(argv: readonly string[], oenv: OptionsEnv): CtlOptions {
  let opts: [string, string][];
  let args: string[];
  try {
    [opts, args] = getopt([...argv], SHORT, LONG);
  } catch (e) {
    if (e instanceof GetoptError) throw new UsageError(e.message);
    throw e;
  }

  const given: Given = {};
  for (const [opt, arg] of opts) {
    if (opt === '-h' || opt === '--help' || opt === '-?') throw new HelpRequested();
    const name = NAME_OF[opt]!;
    let value: string | boolean = arg;
    if (name === 'interactive') value = true;
    if (name === 'serverurl') {
      try {
        value = urlType(arg);
      } catch (e) {
        if (e instanceof ValueError) throw new UsageError(`invalid value for ${opt} ${pyRepr(arg)}: ${e.message}`);
        throw e;
      }
    }
    if (given[name] !== undefined) throw new UsageError(`conflicting command line option ${pyRepr(opt)}`);
    (given as Record<string, string | boolean>)[name] = value;
  }

  let configfile: string | null = given.configfile ?? null;
  if (configfile === null) {
    configfile = searchPaths(oenv.progname).find((p) => existsSync(path.resolve(oenv.cwd, p))) ?? null;
  }

  let section = null;
  if (configfile) {
    try {
      section = readCtlSection(configfile, oenv);
    } catch (e) {
      if (e instanceof ValueError) throw new UsageError(e.message);
      throw e;
    }
  }

  // 4.2.5 stores -r under a name the shell never reads, so only history_file= in the file
  // works there; here -r works too, and wins over the file as every other option does.
  const history = given.history !== undefined ? given.history : (section?.history_file ?? null);
  return {
    configfile,
    interactive: given.interactive === true || args.length === 0,
    serverurl: given.serverurl ?? section?.serverurl ?? 'http://localhost:9001',
    username: given.username ?? section?.username ?? null,
    password: given.password ?? section?.password ?? null,
    prompt: section?.prompt ?? 'supervisor',
    historyFile: history === null || history === '' ? null : history,
    args,
  };
}

/** The -h text: the docstring with every %s replaced by the program name, plus a newline. */
export function helpText(progname: string): string {
  return USAGE.split('%s').join(progname) + '\n';
}
