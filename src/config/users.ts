// SPDX-License-Identifier: MIT
// supervisor/datatypes.py name_to_uid, name_to_gid, gid_for_uid and
// colon_separated_user_group: supervisord checks user=, chown= and
// socket_owner= while it reads the config, so a typo fails at start-up.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { pyInt, ValueError } from './datatypes.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

/** pwd/grp lookups. The default reads /etc/passwd and /etc/group, then asks getent (NSS: LDAP, sssd). */
export interface UserDb {
  getpwnam(name: string): PasswdEntry | undefined;
  getpwuid(uid: number): PasswdEntry | undefined;
  getgrnam(name: string): number | undefined;
  getgrgid(gid: number): boolean;
}

type Row = string[];

function readRows(file: string, minFields: number): Row[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= minFields && f[0] !== '' && !f[0]!.startsWith('+') && !f[0]!.startsWith('-'));
}

// getent answers from every NSS source; asked only when the files have no
// answer, so the common case costs no process. Missing getent (macOS): no answer.
function getent(db: 'passwd' | 'group', key: string): Row | undefined {
  try {
    const out = execFileSync('getent', [db, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    const first = out.split('\n')[0];
    return first ? first.split(':') : undefined;
  } catch {
    return undefined;
  }
}

// uid_t and gid_t hold 32 bits, and all ones (-1) means "unchanged", never an
// id. A larger number is never looked up: getent and the native lookup parse
// it with strtoul and wrap it (`getent passwd 4294967296` answers root), where
// pwd.getpwuid() raises KeyError, so supervisord says "Invalid user id".
const ID_MAX = 2 ** 32 - 2;

function validId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= ID_MAX;
}

function toPasswd(f: Row | undefined): PasswdEntry | undefined {
  if (!f || f.length < 4) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  return { name: f[0]!, uid, gid };
}

/** The system's users and groups, looked up once per key: one instance per config load. */
export function systemUserDb(): UserDb {
  let passwd: Row[] | undefined;
  let group: Row[] | undefined;
  const pw = () => (passwd ??= readRows('/etc/passwd', 7));
  const gr = () => (group ??= readRows('/etc/group', 4));
  const memo = new Map<string, unknown>();
  const cached = <T>(key: string, f: () => T): T => {
    if (!memo.has(key)) memo.set(key, f());
    return memo.get(key) as T;
  };
  return {
    getpwnam: (name) =>
      cached(`pwnam:${name}`, () => toPasswd(pw().find((f) => f[0] === name) ?? getent('passwd', name))),
    getpwuid: (uid) =>
      cached(`pwuid:${uid}`, () => {
        if (!validId(uid)) return undefined;
        const rec = toPasswd(pw().find((f) => Number(f[2]) === uid) ?? getent('passwd', String(uid)));
        return rec?.uid === uid ? rec : undefined;
      }),
    getgrnam: (name) =>
      cached(`grnam:${name}`, () => {
        const f = gr().find((r) => r[0] === name) ?? getent('group', name);
        const gid = f ? Number(f[2]) : NaN;
        return Number.isInteger(gid) ? gid : undefined;
      }),
    getgrgid: (gid) =>
      cached(`grgid:${gid}`, () => {
        if (!validId(gid)) return false;
        if (gr().some((r) => Number(r[2]) === gid)) return true;
        const row = getent('group', String(gid));
        return row !== undefined && Number(row[2]) === gid;
      }),
  };
}

function tryInt(s: string): number | undefined {
  // int() needs a decimal digit; most user names have none, and a thrown
  // ValueError per program is measurable in a config with a thousand.
  if (!/\p{Nd}/u.test(s)) return undefined;
  try {
    return Number(pyInt(s));
  } catch {
    return undefined;
  }
}

/** datatypes.name_to_uid: a name, or a number that must have a passwd entry. */
export function name_to_uid(db: UserDb, name: string): number {
  const uid = tryInt(name);
  if (uid === undefined) {
    const rec = db.getpwnam(name);
    if (!rec) throw new ValueError(`Invalid user name ${name}`);
    return rec.uid;
  }
  if (!validId(uid) || !db.getpwuid(uid)) throw new ValueError(`Invalid user id ${name}`);
  return uid;
}

/** datatypes.name_to_gid. */
export function name_to_gid(db: UserDb, name: string): number {
  const gid = tryInt(name);
  if (gid === undefined) {
    const g = db.getgrnam(name);
    if (g === undefined) throw new ValueError(`Invalid group name ${name}`);
    return g;
  }
  if (!validId(gid) || !db.getgrgid(gid)) throw new ValueError(`Invalid group id ${name}`);
  return gid;
}

/** datatypes.gid_for_uid: the user's primary group. */
export function gid_for_uid(db: UserDb, uid: number): number {
  const rec = db.getpwuid(uid);
  // pwd.getpwuid raises KeyError, which supervisord does not catch; the uid
  // was checked just before, so only a passwd edited in between gets here.
  if (!rec) throw new ValueError(`getpwuid(): uid not found: ${uid}`);
  return rec.gid;
}

/** datatypes.colon_separated_user_group: `user` -> [uid, -1], `user:group` -> [uid, gid]. */
export function colon_separated_user_group(db: UserDb, arg: string): [number, number] {
  try {
    const colon = arg.indexOf(':');
    if (colon < 0) return [name_to_uid(db, arg), -1];
    return [name_to_uid(db, arg.slice(0, colon)), name_to_gid(db, arg.slice(colon + 1))];
  } catch {
    throw new ValueError(`Invalid user:group definition ${arg}`);
  }
}
