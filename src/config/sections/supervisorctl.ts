// SPDX-License-Identifier: MIT
// [supervisorctl] as supervisorctl reads it (options.py
// ClientOptions.read_config): the main file only, no [include], ENV_* from
// the environment only, %(here)s for serverurl and history_file.
import { ValueError } from '../datatypes.js';
import type { SupervisorctlConfig } from '../model.js';
import type { ConfigParser } from '../parser.js';
import { normalize_path } from '../pypath.js';

export const DEFAULT_CTL: SupervisorctlConfig = {
  serverurl: 'http://localhost:9001',
  username: null,
  password: null,
  prompt: 'supervisor',
  history_file: null,
};

/** `here` is dirname(normalize_path(configfile)). */
export function readSupervisorctlSection(p: ConfigParser, here: string, cwd: string): SupervisorctlConfig {
  if (!p.has_section('supervisorctl')) throw new ValueError('.ini file does not include supervisorctl section');
  const get = <D extends string | null>(opt: string, def: D, withHere = false) =>
    p.saneget('supervisorctl', opt, def, withHere ? { expansions: { here } } : {});
  let serverurl = get('serverurl', DEFAULT_CTL.serverurl, true);
  if (serverurl.startsWith('unix://')) serverurl = `unix://${normalize_path(serverurl.slice(7), cwd)}`;
  const prompt = get('prompt', DEFAULT_CTL.prompt);
  const username = get('username', null);
  const password = get('password', null);
  const history = get('history_file', null, true);
  return { serverurl, username, password, prompt, history_file: history ? normalize_path(history, cwd) : null };
}
