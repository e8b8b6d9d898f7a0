// SPDX-License-Identifier: MIT
// Output that scripts parse: the status table, and the optional colour that is
// added on a terminal only (never into a pipe, never with NO_COLOR or TERM=dumb).
import type { XmlRpcStruct } from '../rpc/codec.js';
import type { CtlIo } from './io.js';
import { ljust, makeNamespec, pyLen, pyStr } from './py.js';

export function colorEnabled(io: Pick<CtlIo, 'stdout' | 'env'>): boolean {
  if (!io.stdout.isTTY) return false;
  if (io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '') return false;
  return io.env['TERM'] !== 'dumb';
}

const SGR = { red: '31', green: '32', yellow: '33', bold: '1' } as const;

export function paint(on: boolean, color: keyof typeof SGR, text: string): string {
  return on ? `\x1b[${SGR[color]}m${text}\x1b[0m` : text;
}

const STATE_COLOR: Record<string, keyof typeof SGR> = {
  RUNNING: 'green',
  STARTING: 'yellow',
  BACKOFF: 'yellow',
  STOPPING: 'yellow',
  STOPPED: 'bold',
  EXITED: 'red',
  FATAL: 'red',
  UNKNOWN: 'red',
};

/**
 * DefaultControllerPlugin._show_statuses: '%-(maxlen+3)s%-10s%s', maxlen at least 30.
 * With colour only the state word is painted; the padding stays outside the escape.
 */
export function statusLines(infos: readonly XmlRpcStruct[], color: boolean): string[] {
  const namespecs = infos.map((i) => makeNamespec(pyStr(i['group']), pyStr(i['name'])));
  const maxlen = Math.max(30, ...namespecs.map(pyLen));
  return infos.map((info, n) => {
    const state = pyStr(info['statename']);
    const hue = color ? STATE_COLOR[state] : undefined;
    const column = hue ? paint(true, hue, state) + ' '.repeat(Math.max(0, 10 - pyLen(state))) : ljust(state, 10);
    return ljust(namespecs[n]!, maxlen + 3) + column + pyStr(info['description']);
  });
}

/** `name: ERROR (why)`, with ERROR in red on a terminal. */
export function errorLine(color: boolean, name: string, why: string): string {
  return `${name}: ${paint(color, 'red', 'ERROR')} (${why})`;
}
