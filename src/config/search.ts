// SPDX-License-Identifier: MIT
// Where supervisord and supervisorctl look for a config file without -c
// (options.py Options.__init__ searchpaths, default_configfile).
import { existsSync } from 'node:fs';
import path from 'node:path';

import { ConfigError } from './config-error.js';
import { dirname, join } from './pypath.js';

/** ServerOptions.default_configfile's warning (Python prints it on stderr as a UserWarning). */
export const ROOT_SEARCH_WARNING =
  'Supervisord is running as root and it is searching for its configuration file in default locations ' +
  '(including its current working directory); you probably want to specify a "-c" argument specifying an ' +
  'absolute path to a configuration file for improved security.';

/**
 * The candidates, first match wins. `argv0` is the program's path (Python's
 * sys.argv[0]); its grandparent directory comes first: /usr/bin/supervisord
 * -> /usr/etc/supervisord.conf. Relative entries are relative to the CWD.
 */
export function configSearchPaths(argv0: string): string[] {
  const here = dirname(dirname(argv0));
  return [
    join(here, 'etc', 'supervisord.conf'),
    join(here, 'supervisord.conf'),
    'supervisord.conf',
    'etc/supervisord.conf',
    '/etc/supervisord.conf',
    '/etc/supervisor/supervisord.conf',
  ];
}

function exists(p: string): boolean {
  try {
    return existsSync(p);
  } catch {
    return false;
  }
}

/** The first candidate that exists, spelled as in the list (so maybe relative), or null: supervisorctl's search. */
export function findConfigFile(cwd: string, argv0: string = process.argv[1] ?? ''): string | null {
  return configSearchPaths(argv0).find((p) => exists(path.resolve(cwd, p))) ?? null;
}

export interface SearchOptions {
  /** os.getuid(); as root, supervisord warns that it is searching */
  uid?: number;
  /** where the root warning goes; by default stderr, as Python's warnings module prints it */
  warn?: (message: string) => void;
}

/**
 * supervisord's search: as root, first the warning; then the found path, or a
 * ConfigError with supervisord's "No config file found" text.
 */
export function searchConfigFile(cwd: string, argv0: string = process.argv[1] ?? '', opts: SearchOptions = {}): string {
  const uid = opts.uid ?? process.getuid?.() ?? -1;
  if (uid === 0) (opts.warn ?? ((m) => process.stderr.write(`UserWarning: ${m}\n`)))(ROOT_SEARCH_WARNING);
  const found = findConfigFile(cwd, argv0);
  if (found !== null) return found;
  throw new ConfigError(
    `No config file found at default paths (${configSearchPaths(argv0).join(', ')}); ` +
      'use the -c option to specify a config file at a different path',
  );
}
