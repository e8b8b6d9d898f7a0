// SPDX-License-Identifier: MIT
// The [supervisorctl] section of a config file: options.py ClientOptions.read_config,
// with its expansions (%(here)s only in serverurl and history_file, %(ENV_X)s in all)
// and its errors as ValueError, which the caller turns into a usage error.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { expanduser, ValueError } from '../config/datatypes.js';
import { environ_expansions, expand, type Expansions } from '../config/expand.js';
import { get, type IniDocument } from '../config/ini-reader.js';
import { normpath } from '../config/pypath.js';
import { readCtlSections } from './ini-skim.js';

export interface CtlSection {
  serverurl: string;
  prompt: string;
  username: string | null;
  password: string | null;
  history_file: string | null;
}

/** options.py normalize_path: normpath(abspath(expanduser(v))). */
export function normalizePath(v: string, cwd: string): string {
  const e = expanduser(v);
  return normpath(e.startsWith('/') ? e : `${cwd.replace(/\/+$/, '')}/${e}`);
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

export function readCtlSection(
  configfile: string,
  oenv: { env: Readonly<Record<string, string | undefined>>; cwd: string },
): CtlSection {
  const abs = path.resolve(oenv.cwd, configfile);
  const here = path.posix.dirname(normalizePath(configfile, oenv.cwd));
  if (!exists(abs)) throw new ValueError(`could not find config file ${configfile}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(abs));
  } catch {
    throw new ValueError(`could not read config file ${configfile}`);
  }
  // Python lets a configparser error escape as a traceback; it is a usage error here.
  // Every section is checked as ConfigParser reads it; only the ones used here are kept.
  const doc: IniDocument = readCtlSections(text, configfile);
  if (!doc.sections.has('supervisorctl')) throw new ValueError('.ini file does not include supervisorctl section');

  const environ = environ_expansions(oenv.env);
  const getdefault = (option: string, dflt: string | null, extra: Expansions = {}): string | null =>
    saneget(doc, 'supervisorctl', option, dflt, { ...environ, ...extra });

  let serverurl = getdefault('serverurl', 'http://localhost:9001', { here })!;
  if (serverurl.startsWith('unix://')) serverurl = `unix://${normalizePath(serverurl.slice(7), oenv.cwd)}`;
  const prompt = getdefault('prompt', 'supervisor')!;
  const username = getdefault('username', null);
  const password = getdefault('password', null);
  const history = getdefault('history_file', null, { here });

  // [ctlplugin:x] sections name Python factories, which cannot run here. Their values
  // are still checked as supervisorctl checks them, so a config that fails there fails here.
  for (const name of doc.sections.keys()) {
    if (!name.startsWith('ctlplugin:')) continue;
    const factory = saneget(doc, name, 'supervisor.ctl_factory', null, environ);
    if (factory === null) throw new ValueError(`section [${name}] does not specify a supervisor.ctl_factory`);
    for (const key of doc.sections.get(name)!.options.keys()) saneget(doc, name, key, null, environ);
  }

  return {
    serverurl,
    prompt,
    username,
    password,
    history_file: history ? normalizePath(history, oenv.cwd) : null,
  };
}

/** UnhosedConfigParser.saneget: the value or the default, %-expanded when it is a str. */
function saneget(
  doc: IniDocument,
  section: string,
  option: string,
  dflt: string | null,
  names: Expansions,
): string | null {
  const value = get(doc, section, option)?.value ?? dflt;
  if (value === null) return null;
  return expand(value, names, `${section}.${option}`);
}
