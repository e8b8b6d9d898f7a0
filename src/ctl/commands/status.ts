// SPDX-License-Identifier: MIT
// status [name|group:*|all ...], and ours: status --json for scripts.
import type { XmlRpcStruct, XmlRpcValue } from '../../rpc/codec.js';
import { STOPPED_STATES, type ProcessState } from '../../process/states.js';
import { Faults } from '../../rpc/faults.js';
import { StatusExit, type Controller } from '../controller.js';
import { Fault } from '../errors.js';
import { statusLines } from '../format.js';
import { makeNamespec, pySplit, pyStr, splitNamespec } from '../py.js';
import type { Command } from './command.js';

const JSON_FLAG = '--json';

export const status: Command = {
  async run(ctl, arg) {
    const words = pySplit(arg);
    const json = words.includes(JSON_FLAG);
    if (json) return statusJson(ctl, words.filter((w) => w !== JSON_FLAG));
    const { infos, errors } = await select(ctl, words, true);
    if (!infos) return;
    ctl.outputLines([...errors, ...statusLines(infos, ctl.color)]);
  },
  help(ctl) {
    ctl.output('status <name>\t\tGet status for a single process');
    ctl.output('status <gname>:*\tGet status for all processes in a group');
    ctl.output('status <name> <name>\tGet status for multiple named processes');
    ctl.output('status\t\t\tGet all process status info');
  },
};

/**
 * DefaultControllerPlugin.do_status's selection and exit status: 4 for a name that
 * matches nothing (or no server), then 3 if any shown process is stopped.
 */
async function select(
  ctl: Controller,
  names: string[],
  plain = false,
): Promise<{ infos: XmlRpcStruct[] | undefined; errors: string[] }> {
  if (!(await ctl.upcheck())) {
    ctl.exitstatus = StatusExit.UNKNOWN;
    return { infos: undefined, errors: [] };
  }
  const all = (plain && (await statusRows(ctl))) || asInfos(await ctl.getSupervisor().call('getAllProcessInfo'));
  const errors: string[] = [];
  let matching: XmlRpcStruct[];
  if (names.length === 0 || names.includes('all')) {
    matching = all;
  } else {
    matching = [];
    for (const name of names) {
      const [group, proc] = splitNamespec(name);
      let bad = true;
      for (const info of all) {
        if (info['group'] === group && (proc === undefined || info['name'] === proc)) {
          bad = false;
          matching.push(info);
        }
      }
      if (bad) {
        errors.push(proc === undefined ? `${group}: ERROR (no such group)` : `${name}: ERROR (no such process)`);
        ctl.exitstatus = StatusExit.UNKNOWN;
      }
    }
  }
  for (const info of matching) {
    if (STOPPED_STATES.includes(info['state'] as ProcessState)) ctl.exitstatus = StatusExit.NOT_RUNNING;
  }
  return { infos: matching, errors };
}

/**
 * Ours: the selected getProcessInfo structs as one JSON array on stdout, each with its
 * `namespec` added; messages (no such process, no server) go to stderr so stdout stays
 * JSON. Exit statuses are those of plain status.
 */
async function statusJson(ctl: Controller, names: string[]): Promise<void> {
  ctl.messagesToStderr = true;
  try {
    const { infos, errors } = await select(ctl, names);
    for (const e of errors) ctl.output(e);
    if (!infos) return;
    const out = infos.map((i) => ({ namespec: makeNamespec(pyStr(i['group']), pyStr(i['name'])), ...jsonable(i) }));
    ctl.io.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    ctl.messagesToStderr = false;
  }
}

function jsonable(s: XmlRpcStruct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) out[k] = Buffer.isBuffer(v) ? v.toString('base64') : v;
  return out;
}

/**
 * What plain status shows, from fastvisor's getAllProcessStatus: one JSON text instead of
 * a struct of fourteen members per process (at 2000 processes 2.3 MB of XML to make and to
 * parse). Undefined from a daemon without it (supervisord: UNKNOWN_METHOD), or an answer
 * not in its shape: getAllProcessInfo then, as supervisorctl does.
 */
async function statusRows(ctl: Controller): Promise<XmlRpcStruct[] | undefined> {
  let text: XmlRpcValue;
  try {
    text = await ctl.getFastvisor().call('getAllProcessStatus');
  } catch (e) {
    if (e instanceof Fault && e.faultCode === Faults.UNKNOWN_METHOD) return undefined;
    throw e;
  }
  let rows: unknown;
  try {
    rows = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
  if (!Array.isArray(rows)) return undefined;
  const out: XmlRpcStruct[] = [];
  for (const r of rows as unknown[]) {
    if (!Array.isArray(r) || r.length !== 5) return undefined;
    const [group, name, state, statename, description] = r as unknown[];
    if (typeof group !== 'string' || typeof name !== 'string' || typeof state !== 'number') return undefined;
    if (typeof statename !== 'string' || typeof description !== 'string') return undefined;
    out.push({ group, name, state, statename, description });
  }
  return out;
}

function asInfos(v: XmlRpcValue): XmlRpcStruct[] {
  return Array.isArray(v) ? (v.filter((x) => typeof x === 'object' && x !== null) as XmlRpcStruct[]) : [];
}
