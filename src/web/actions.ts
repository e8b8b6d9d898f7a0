// SPDX-License-Identifier: MIT
// index.html?action=...: web.py StatusView.make_callback() through the XML-RPC methods,
// with its messages word for word ("Process foo started", "All stopped at <ctime>",
// "ERROR: Process foo: spawn error"). Two differences, both deliberate: an unknown action
// is a 400 page (supervisord: a ValueError and a 500), and a restart whose start fails
// says so (supervisord reports "restarted" whatever the multicall returned).
import { XmlRpcDouble, type XmlRpcValue } from '../rpc/codec.js';
import { Faults, RPCError } from '../rpc/faults.js';
import type { Call } from './rpc.js';

export const PROCESS_ACTIONS = ['start', 'stop', 'restart', 'clearlog'] as const;
export const GLOBAL_ACTIONS = ['refresh', 'stopall', 'restartall'] as const;

/** The action is not one web.py knows: the caller answers 400. */
export class UnknownAction extends Error {}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** time.ctime(): 'Sun Nov  1 17:39:26 2026', local time. */
export function ctime(d = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

function rpcFault(err: unknown): RPCError {
  if (err instanceof RPCError) return err;
  throw err;
}

function unexpected(e: { code: number; text: string }): string {
  return `unexpected rpc fault [${e.code}] ${e.text}`;
}

// web.py's start error texts, for the immediate and the deferred faults alike.
function startError(e: { code: number; text: string }): string {
  switch (e.code) {
    case Faults.NO_FILE:
      return 'no such file';
    case Faults.NOT_EXECUTABLE:
      return 'file not executable';
    case Faults.ALREADY_STARTED:
      return 'already started';
    case Faults.SPAWN_ERROR:
      return 'spawn error';
    case Faults.ABNORMAL_TERMINATION:
      return 'abnormal termination';
    default:
      return unexpected(e);
  }
}

function asFault(v: XmlRpcValue | undefined): { code: number; text: string } | null {
  if (v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date) && !(v instanceof XmlRpcDouble) && typeof v.faultCode === 'number') {
    return { code: v.faultCode, text: String(v.faultString) };
  }
  return null;
}

/**
 * Runs one action and returns the message the redirect carries.
 * Throws UnknownAction for an action web.py would not know.
 */
export async function runAction(call: Call, action: string, namespec: string | undefined, now: () => Date = () => new Date()): Promise<string> {
  switch (action) {
    case 'refresh':
      return `Page refreshed at ${ctime(now())}`;
    case 'stopall':
      try {
        await call('supervisor.stopAllProcesses');
      } catch (err) {
        return `ERROR: ${unexpected(rpcFault(err))}`;
      }
      return `All stopped at ${ctime(now())}`;
    case 'restartall':
      await call('system.multicall', [{ methodName: 'supervisor.stopAllProcesses' }, { methodName: 'supervisor.startAllProcesses' }]);
      return `All restarted at ${ctime(now())}`;
  }
  if (!namespec) throw new UnknownAction(action);

  // web.py looks the process up before it looks at the action: a name that is not one
  // process (an unknown one, or a whole group, 'grp:') is "No such process" for any action.
  try {
    await call('supervisor.getProcessInfo', namespec);
  } catch (err) {
    if (rpcFault(err).code === Faults.BAD_NAME) return `No such process named ${namespec}`;
    // SHUTDOWN_STATE and the like: the action itself will say so.
  }

  switch (action) {
    case 'start':
      try {
        await call('supervisor.startProcess', namespec);
      } catch (err) {
        return `ERROR: Process ${namespec}: ${startError(rpcFault(err))}`;
      }
      return `Process ${namespec} started`;
    case 'stop':
      try {
        await call('supervisor.stopProcess', namespec);
      } catch (err) {
        return unexpected(rpcFault(err));
      }
      return `Process ${namespec} stopped`;
    case 'restart': {
      const results = await call('system.multicall', [
        { methodName: 'supervisor.stopProcess', params: [namespec] },
        { methodName: 'supervisor.startProcess', params: [namespec] },
      ]);
      const started = asFault(Array.isArray(results) ? results[1] : undefined);
      if (started) return `ERROR: Process ${namespec}: ${startError(started)}`;
      return `Process ${namespec} restarted`;
    }
    case 'clearlog':
      try {
        await call('supervisor.clearProcessLogs', namespec);
      } catch (err) {
        return unexpected(rpcFault(err));
      }
      return `Log for ${namespec} cleared`;
    default:
      throw new UnknownAction(action);
  }
}
