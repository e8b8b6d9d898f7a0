// SPDX-License-Identifier: MIT
// Tab completion in the shell: Controller.complete and its helpers, which
// complete command names, group names or process names by the line's first word.
import type { XmlRpcStruct } from '../rpc/codec.js';
import type { Controller } from './controller.js';
import { COMMAND_NAMES } from './commands/index.js';
import { pySplit, pyStr } from './py.js';

/**
 * Python readline's word delimiters, minus the three supervisorctl removes so that
 * `group:name`, `group:*` and names with dashes complete as one word.
 */
const DELIMS = new Set(' \t\n`~!@#$%^&()=+[{]}\\|;\'",<>/?');

/** The word under completion: what follows the last delimiter. */
export function currentWord(line: string): string {
  let i = line.length;
  while (i > 0 && !DELIMS.has(line[i - 1]!)) i--;
  return line.slice(i);
}

/** Controller.vocab: 'help', then the plugin's do_* names (its own do_help among them). */
const VOCAB = ['help', ...[...COMMAND_NAMES, 'help'].sort()];

const PROCESS_COMMANDS = ['clear', 'fg', 'pid', 'restart', 'signal', 'start', 'status', 'stop', 'tail'];
const GROUP_COMMANDS = ['add', 'remove', 'update'];

/** The completions of `text` (each ending in a space), for the line typed so far. */
export async function complete(ctl: Controller, line: string, text: string): Promise<string[]> {
  if (!line.trim()) return actions(text);
  const words = pySplit(line);
  const action = words[0]!;
  if (words.length === 1 && !line.endsWith(' ')) return actions(text);
  // 4.2.5 tests `action in ('help')`, a substring test on 'help', so 'he' and 'p' count too.
  if ('help'.includes(action)) return actions(text);
  if (GROUP_COMMANDS.includes(action)) {
    const groups: string[] = [];
    for (const info of await infos(ctl)) {
      const g = pyStr(info['group']);
      if (!groups.includes(g)) groups.push(g);
    }
    return groups.filter((g) => g.startsWith(text)).map((g) => g + ' ');
  }
  if (PROCESS_COMMANDS.includes(action)) {
    const procs: string[] = [];
    for (const info of await infos(ctl)) {
      const name = pyStr(info['name']);
      const group = pyStr(info['group']);
      if (text.includes(':') || name !== group) {
        procs.push(`${group}:${name}`);
        if (!procs.includes(`${group}:*`)) procs.push(`${group}:*`);
      } else {
        procs.push(name);
      }
    }
    return procs.filter((p) => p.startsWith(text)).map((p) => p + ' ');
  }
  return [];
}

function actions(text: string): string[] {
  return VOCAB.filter((a) => a.startsWith(text)).map((a) => a + ' ');
}

/** getAllProcessInfo, cached until the next command: readline may ask many times per Tab. */
async function infos(ctl: Controller): Promise<XmlRpcStruct[]> {
  if (ctl.completeInfo === undefined) {
    const v = await ctl.getSupervisor().call('getAllProcessInfo');
    ctl.completeInfo = Array.isArray(v) ? v : [];
  }
  return ctl.completeInfo.filter((x): x is XmlRpcStruct => typeof x === 'object' && x !== null && !Array.isArray(x));
}
