// SPDX-License-Identifier: MIT
// options.py process_groups_from_parser(): [group:x] first, then the
// [program:x], [eventlistener:x] and [fcgi-program:x] not claimed by a group,
// each kind in section order, then all sorted by (priority, name).
import {
  big_integer,
  boolean,
  bounded_integer,
  list_of_strings,
  MAX_EXACT,
  octal_mode,
  process_or_group_name,
  pyRepr,
  range_checked,
  ValueError,
} from '../datatypes.js';
import type { FcgiSocketConfig, ProcessGroupConfig } from '../model.js';
import type { ConfigParser, Default } from '../parser.js';
import { isabs, normalize_path } from '../pypath.js';
import { colon_separated_user_group, gid_for_uid, name_to_uid, type UserDb } from '../users.js';
import { builtinEntryPoint } from './entry-point.js';
import { byPriority, processesFromSection, sectionSuffix, type SectionContext } from './program.js';
import { EVENT_TYPE_NAMES } from '../../events/types.js';

// supervisor.events.EventTypes. Plugins may add more (events.register); no
// Python plugin runs here, so this list is complete.
// events.py's EventTypes, and fastvisor's PROCESS_HEALTH* (health checks).
const EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_TYPE_NAMES);

export const DEFAULT_RESULT_HANDLER = 'supervisor.dispatchers:default_handler';

export interface GroupsContext extends SectionContext {
  /** os.getuid(): an fcgi socket is chowned to the program's user only when that differs */
  getuid: () => number;
  cwd: string;
}

/** str(ValueError(a, b)): parse_fcgi_socket raises with two arguments, so supervisord prints a tuple. */
function tupleMessage(a: string, b: string): string {
  return `(${pyRepr(a)}, ${pyRepr(b)})`;
}

// \s and \d of a Python str pattern are Unicode-aware; `$` also matches before a final newline.
const TCP_SOCKET = /^tcp:\/\/([^\s:\p{Z}\u001c-\u001f\u0085]+):(\p{Nd}+)\n?$/u;

function parseFcgiSocket(
  sock: string,
  procUid: number | null,
  owner: [number, number] | null,
  mode: number | null,
  backlog: number | null,
  users: UserDb,
  ctx: GroupsContext,
): FcgiSocketConfig {
  if (sock.startsWith('unix://')) {
    let path = sock.slice(7);
    if (!isabs(path)) throw new ValueError(tupleMessage('Unix socket path %s is not an absolute path', path));
    path = normalize_path(path, ctx.cwd);
    if (owner === null && procUid !== null && procUid !== ctx.getuid()) owner = [procUid, gid_for_uid(users, procUid)];
    return { kind: 'unix', url: `unix://${path}`, path, owner, mode: mode ?? 0o700, backlog };
  }
  if (owner !== null || mode !== null) {
    throw new ValueError('socket_owner and socket_mode params should only be used with a Unix domain socket');
  }
  const m = TCP_SOCKET.exec(sock);
  if (m) {
    const host = m[1]!.toLowerCase();
    const big = BigInt(Array.from(m[2]!, digitValue).join(''));
    // InetStreamSocketConfig runs port_number() on it.
    if (big < 1n) throw new ValueError(`${big} is below lower bound (1)`);
    if (big > 0xffffn) throw new ValueError(`${big} is above upper bound (65535)`);
    const port = Number(big);
    return { kind: 'inet', url: `tcp://${host}:${port}`, host, port, backlog };
  }
  throw new ValueError(tupleMessage('Bad socket format %s', sock));
}

// A Unicode decimal digit's value: digits come in runs of ten starting at 0.
function digitValue(ch: string): string {
  let cp = ch.codePointAt(0)!;
  let start = cp;
  while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  cp = (cp - start) % 10;
  return String(cp);
}

export function processGroupsFromParser(p: ConfigParser, ctx: GroupsContext): ProcessGroupConfig[] {
  const groups: ProcessGroupConfig[] = [];
  const all = p.sections();
  const has = new Set(all);
  const homogeneousExclude = new Set<string>();
  const get = <D extends Default>(section: string, opt: string, def: D, extra: Record<string, string> = {}) =>
    p.saneget(section, opt, def, { expansions: { ...extra, here: ctx.here } });

  for (const groupSection of all) {
    if (!groupSection.startsWith('group:')) continue;
    // options.py reuses its loop variable for the member's section, so after
    // the first member the "unknown program" error names the previous member.
    let section = groupSection;
    const name = process_or_group_name(sectionSuffix(section));
    const programs = list_of_strings(get(section, 'programs', null) ?? '');
    const priority = bounded_integer(get(section, 'priority', 999));
    const processes = [];
    for (const program of programs) {
      const programSection = `program:${program}`;
      const fcgiSection = `fcgi-program:${program}`;
      if (!has.has(programSection) && !has.has(fcgiSection)) {
        throw new ValueError(`[${section}] names unknown program or fcgi-program ${program}`);
      }
      if (has.has(programSection) && has.has(fcgiSection)) {
        throw new ValueError(`[${section}] name ${program} is ambiguous (exists as program and fcgi-program)`);
      }
      section = has.has(programSection) ? programSection : fcgiSection;
      homogeneousExclude.add(section);
      // An fcgi-program in a [group:x] is read as a plain program: it gets no socket.
      processes.push(...processesFromSection(p, ctx, section, name));
    }
    groups.push({ name, kind: 'group', priority, processes });
  }

  for (const section of all) {
    if (!section.startsWith('program:') || homogeneousExclude.has(section)) continue;
    const name = process_or_group_name(sectionSuffix(section));
    const priority = bounded_integer(get(section, 'priority', 999));
    groups.push({ name, kind: 'program', priority, processes: processesFromSection(p, ctx, section, name) });
  }

  for (const section of all) {
    if (!section.startsWith('eventlistener:')) continue;
    // Not checked with process_or_group_name here (its processes are), nor stripped.
    const name = sectionSuffix(section);
    // a "high" default priority: listeners start first and stop last
    const priority = bounded_integer(get(section, 'priority', -1));
    const exactSize = big_integer(get(section, 'buffer_size', 10));
    if (exactSize < 1n) throw new ValueError(`[${section}] section sets invalid buffer_size (${exactSize})`);
    const buffer_size = Number(range_checked(exactSize, 1n, MAX_EXACT));
    const result_handler = get(section, 'result_handler', DEFAULT_RESULT_HANDLER);
    builtinEntryPoint(result_handler, DEFAULT_RESULT_HANDLER, section, 'result_handler', 'event listener result handlers');
    const events: string[] = [];
    for (const e of list_of_strings(get(section, 'events', ''))) {
      const upper = e.toUpperCase();
      if (!events.includes(upper)) events.push(upper);
    }
    if (events.length === 0) throw new ValueError(`[${section}] section requires an "events" line`);
    for (const e of events) {
      if (!EVENT_TYPES.has(e)) throw new ValueError(`Unknown event type ${e} in [${section}] events`);
    }
    if (boolean(get(section, 'redirect_stderr', 'false'))) {
      throw new ValueError(
        `[${section}] section sets redirect_stderr=true but this is not allowed because it will interfere ` +
          'with the eventlistener protocol',
      );
    }
    const processes = processesFromSection(p, ctx, section, name);
    groups.push({ name, kind: 'eventlistener', priority, processes, pool: { buffer_size, events, result_handler } });
  }

  for (const section of all) {
    if (!section.startsWith('fcgi-program:') || homogeneousExclude.has(section)) continue;
    const name = process_or_group_name(sectionSuffix(section));
    const priority = bounded_integer(get(section, 'priority', 999));
    const procUser = get(section, 'user', null);
    const procUid = procUser === null ? null : name_to_uid(ctx.users, procUser);
    const backlogRaw = get(section, 'socket_backlog', null);
    let backlog: number | null = null;
    if (backlogRaw !== null) {
      const exact = big_integer(backlogRaw);
      if (exact < 1n || exact > 65535n) throw new ValueError(`Invalid socket_backlog value ${exact}`);
      backlog = Number(exact);
    }
    const ownerRaw = get(section, 'socket_owner', null);
    let owner: [number, number] | null = null;
    if (ownerRaw !== null) {
      try {
        owner = colon_separated_user_group(ctx.users, ownerRaw);
      } catch {
        throw new ValueError(`Invalid socket_owner value ${ownerRaw}`);
      }
    }
    const modeRaw = get(section, 'socket_mode', null);
    let mode: number | null = null;
    if (modeRaw !== null) {
      try {
        mode = octal_mode(modeRaw);
      } catch {
        throw new ValueError(`Invalid socket_mode value ${modeRaw}`);
      }
    }
    const sock = get(section, 'socket', null, { program_name: name });
    if (!sock) throw new ValueError(`[${section}] section requires a "socket" line`);
    let socket: FcgiSocketConfig;
    try {
      socket = parseFcgiSocket(sock, procUid, owner, mode, backlog, ctx.users, ctx);
    } catch (e) {
      if (e instanceof ValueError) throw new ValueError(`${e.message} in [${section}] socket`);
      throw e;
    }
    const processes = processesFromSection(p, ctx, section, name);
    groups.push({ name, kind: 'fcgi-program', priority, processes, socket });
  }

  return byPriority(groups);
}
