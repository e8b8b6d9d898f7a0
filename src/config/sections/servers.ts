// SPDX-License-Identifier: MIT
// [inet_http_server] and [unix_http_server] (options.py
// server_configs_from_parser): every section whose name starts with one of
// them is a server, so [inet_http_server:two] is a second listener.
import { inet_address, octal_mode, pyStrip, ValueError } from '../datatypes.js';
import type { HttpServerConfig } from '../model.js';
import type { ConfigParser } from '../parser.js';
import { normalize_path } from '../pypath.js';
import { colon_separated_user_group, type UserDb } from '../users.js';

function servernames(p: ConfigParser, stype: string): Array<{ name: string | null; section: string }> {
  return p
    .sections()
    .filter((s) => s.startsWith(stype))
    .map((section) => {
      const colon = section.indexOf(':');
      return { name: colon < 0 ? null : section.slice(colon + 1), section };
    });
}

// ENV_* only: no %(here)s for these.
function credentials(p: ConfigParser, section: string): { username: string | null; password: string | null } {
  const username = p.saneget(section, 'username', null);
  const password = p.saneget(section, 'password', null);
  if ((username !== null || password !== null) && (username === null || password === null)) {
    throw new ValueError(
      `Section [${section}] contains incomplete authentication: If a username or a password is specified, ` +
        'both the username and password must be specified',
    );
  }
  return { username, password };
}

export function serverConfigsFromParser(p: ConfigParser, here: string, users: UserDb, cwd: string): HttpServerConfig[] {
  const configs: HttpServerConfig[] = [];
  for (const { name, section } of servernames(p, 'inet_http_server')) {
    const auth = credentials(p, section);
    const port = p.saneget(section, 'port', null);
    if (port === null) throw new ValueError(`section [${section}] has no port value`);
    const addr = inet_address(port);
    configs.push({ kind: 'inet', name, section, host: addr.host, port: addr.port, ...auth });
  }
  for (const { name, section } of servernames(p, 'unix_http_server')) {
    const sfile = p.saneget(section, 'file', null, { expansions: { here } });
    if (sfile === null) throw new ValueError(`section [${section}] has no file value`);
    const file = normalize_path(pyStrip(sfile), cwd);
    const auth = credentials(p, section);
    const chownRaw = p.saneget(section, 'chown', null);
    let chown: { uid: number; gid: number } | null = null;
    if (chownRaw !== null) {
      try {
        const [uid, gid] = colon_separated_user_group(users, chownRaw);
        chown = { uid, gid };
      } catch {
        throw new ValueError(`Invalid sockchown value ${chownRaw}`);
      }
    }
    const chmodRaw = p.saneget(section, 'chmod', null);
    let chmod = 0o700;
    if (chmodRaw !== null) {
      try {
        chmod = octal_mode(chmodRaw);
      } catch {
        throw new ValueError(`Invalid chmod value ${chmodRaw}`);
      }
    }
    configs.push({ kind: 'unix', name, section, file, chmod, chown, ...auth });
  }
  return configs;
}

/**
 * ServerOptions.realize()'s fallback serverurl: the first unix server, else
 * the last inet one (its loop has no break), `localhost` for an empty host.
 */
export function fallbackServerUrl(servers: HttpServerConfig[]): string | null {
  const unix = servers.find((s) => s.kind === 'unix');
  if (unix) return `unix://${unix.file}`;
  let url: string | null = null;
  for (const s of servers) if (s.kind === 'inet') url = `http://${s.host || 'localhost'}:${s.port}`;
  return url;
}
