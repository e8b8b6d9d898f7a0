// SPDX-License-Identifier: MIT
// -errno + spawn stage from the addon -> an Error with code, errno, syscall and
// path, whose message is supervisord's wording where it has one.
import { constants } from 'node:os';

// native/errors.h SpawnStage, same numbers.
export const SpawnStage = {
  none: 0,
  pipe: 1,
  fork: 2,
  setpgid: 3,
  dup2: 4,
  setgroups: 5,
  setgid: 6,
  setuid: 7,
  chdir: 8,
  exec: 9,
  devnull: 10,
  pidfd: 11,
  cgroup: 12,
} as const;
export type SpawnStageName = keyof typeof SpawnStage;

const stageNames = new Map<number, SpawnStageName>(
  Object.entries(SpawnStage).map(([name, n]) => [n, name as SpawnStageName]),
);

// libuv's getSystemErrorName knows only the errnos libuv maps (not ENOEXEC),
// so name them from the OS's own table.
const errnoNames = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno as Record<string, number>)) {
  if (!errnoNames.has(n)) errnoNames.set(n, name);
}

export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

export interface NativeError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  stage?: SpawnStageName;
  /** spawn: the child failed after fork (setuid, chdir, exec) and was reaped already */
  pid?: number;
}

export function nativeError(errno: number, syscall: string, message: string, path?: string): NativeError {
  const err = new Error(message) as NativeError;
  err.code = errnoName(errno);
  err.errno = errno;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  return err;
}

export interface SpawnContext {
  file: string;
  cwd?: string;
  uid?: number;
  gid?: number;
}

// supervisord words these in process.py (_spawn_as_child) and options.py
// (get_execv_args): "can't find command 'x'", "couldn't chdir to /x: ENOENT".
export function spawnError(errno: number, stageNumber: number, ctx: SpawnContext): NativeError {
  const stage = stageNames.get(stageNumber) ?? 'none';
  const code = errnoName(errno);
  let message: string;
  let path: string | undefined;
  switch (stage) {
    case 'exec':
      path = ctx.file;
      if (code === 'ENOENT') message = `can't find command '${ctx.file}'`;
      else if (code === 'EACCES') message = `command at '${ctx.file}' is not executable`;
      else if (code === 'ENOEXEC') message = `command at '${ctx.file}' is not an executable format`;
      else message = `couldn't exec ${ctx.file}: ${code}`;
      break;
    case 'chdir':
      path = ctx.cwd;
      message = `couldn't chdir to ${ctx.cwd}: ${code}`;
      break;
    case 'setuid':
      message = `couldn't setuid to ${ctx.uid}: ${code}`;
      break;
    case 'setgid':
    case 'setgroups':
      message = `couldn't ${stage} to ${ctx.gid}: ${code}`;
      break;
    case 'pipe':
    case 'devnull':
      message = `too many open files to spawn '${ctx.file}'`;
      if (code !== 'EMFILE' && code !== 'ENFILE') message = `couldn't make pipes for '${ctx.file}': ${code}`;
      break;
    case 'fork':
      message = `couldn't fork for '${ctx.file}': ${code}`;
      break;
    case 'cgroup':
      message = `couldn't move the child of '${ctx.file}' into its cgroup: ${code}`;
      break;
    default:
      message = `couldn't spawn '${ctx.file}' (${stage}): ${code}`;
  }
  const err = nativeError(errno, `spawn ${stage}`, message, path);
  err.stage = stage;
  return err;
}
