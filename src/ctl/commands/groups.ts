// SPDX-License-Identifier: MIT
// The config-change commands: avail, reread, add, remove, update. Like 4.2.5 they
// skip the connection check, so a dead server shows up as an error line.
import type { XmlRpcStruct, XmlRpcValue } from '../../rpc/codec.js';
import { Faults } from '../../rpc/faults.js';
import { Exit, type Controller } from '../controller.js';
import { Fault } from '../errors.js';
import { codePointCompare, ljust, makeNamespec, pySplit, pyStr, pyTruthy } from '../py.js';
import type { Command } from './command.js';

function strings(v: XmlRpcValue | undefined): string[] {
  return Array.isArray(v) ? v.map((x) => pyStr(x)) : [];
}

/** reloadConfig's [[added, changed, removed]]. */
function changes(result: XmlRpcValue): [string[], string[], string[]] {
  const first = Array.isArray(result) ? result[0] : undefined;
  const lists = Array.isArray(first) ? first : [];
  return [strings(lists[0]), strings(lists[1]), strings(lists[2])];
}

function rejectArgs(ctl: Controller, name: string, arg: string, help: (ctl: Controller) => void): boolean {
  if (!arg) return false;
  ctl.output(`Error: ${name} accepts no arguments`);
  ctl.exitstatus = Exit.GENERIC;
  help(ctl);
  return true;
}

export const avail: Command = {
  async run(ctl, arg) {
    if (rejectArgs(ctl, 'avail', arg, avail.help)) return;
    const sup = ctl.getSupervisor();
    let infos: XmlRpcValue;
    try {
      infos = await sup.call('getAllConfigInfo');
    } catch (e) {
      ctl.exitstatus = Exit.GENERIC;
      if (e instanceof Fault && e.faultCode === Faults.SHUTDOWN_STATE) {
        ctl.output('ERROR: supervisor shutting down');
        return;
      }
      throw e;
    }
    for (const info of (Array.isArray(infos) ? infos : []) as XmlRpcStruct[]) {
      // '%(name)-32s %(inuse)-9s %(autostart)-9s %(priority)s'
      const name = makeNamespec(pyStr(info['group']), pyStr(info['name']));
      const inuse = pyTruthy(info['inuse']) ? 'in use' : 'avail';
      const auto = pyTruthy(info['autostart']) ? 'auto' : 'manual';
      const prio = `${pyStr(info['group_prio'])}:${pyStr(info['process_prio'])}`;
      ctl.output(`${ljust(name, 32)} ${ljust(inuse, 9)} ${ljust(auto, 9)} ${prio}`);
    }
  },
  help(ctl) {
    ctl.output('avail\t\t\tDisplay all configured processes');
  },
};

export const reread: Command = {
  async run(ctl, arg) {
    if (rejectArgs(ctl, 'reread', arg, reread.help)) return;
    const sup = ctl.getSupervisor();
    let result: XmlRpcValue;
    try {
      result = await sup.call('reloadConfig');
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      ctl.exitstatus = Exit.GENERIC;
      if (e.faultCode === Faults.SHUTDOWN_STATE) ctl.output('ERROR: supervisor shutting down');
      else if (e.faultCode === Faults.CANT_REREAD) ctl.output(`ERROR: ${e.faultString}`);
      else throw e;
      return;
    }
    // _formatChanges: one line per name, sorted; a name in several lists keeps the last word.
    const [added, changed, dropped] = changes(result);
    const what = new Map<string, string>();
    for (const n of added) what.set(n, 'available');
    for (const n of changed) what.set(n, 'changed');
    for (const n of dropped) what.set(n, 'disappeared');
    if (what.size === 0) {
      ctl.output('No config updates to processes');
      return;
    }
    for (const n of [...what.keys()].sort(codePointCompare)) ctl.output(`${n}: ${what.get(n)}`);
  },
  help(ctl) {
    ctl.output("reread \t\t\tReload the daemon's configuration files without add/remove");
  },
};

export const add: Command = {
  async run(ctl, arg) {
    const sup = ctl.getSupervisor();
    for (const name of pySplit(arg)) {
      try {
        await sup.call('addProcessGroup', name);
      } catch (e) {
        if (!(e instanceof Fault)) throw e;
        if (e.faultCode === Faults.SHUTDOWN_STATE) {
          ctl.output('ERROR: shutting down');
          ctl.exitstatus = Exit.GENERIC;
        } else if (e.faultCode === Faults.ALREADY_ADDED) {
          // Not an error for the exit status in 4.2.5.
          ctl.output('ERROR: process group already active');
        } else if (e.faultCode === Faults.BAD_NAME) {
          ctl.output(`ERROR: no such process/group: ${name}`);
          ctl.exitstatus = Exit.GENERIC;
        } else {
          ctl.exitstatus = Exit.GENERIC;
          throw e;
        }
        continue;
      }
      ctl.output(`${name}: added process group`);
    }
  },
  help(ctl) {
    ctl.output('add <name> [...]\tActivates any updates in config for process/group');
  },
};

export const remove: Command = {
  async run(ctl, arg) {
    const sup = ctl.getSupervisor();
    for (const name of pySplit(arg)) {
      try {
        await sup.call('removeProcessGroup', name);
      } catch (e) {
        if (!(e instanceof Fault)) throw e;
        ctl.exitstatus = Exit.GENERIC;
        if (e.faultCode === Faults.STILL_RUNNING) ctl.output(`ERROR: process/group still running: ${name}`);
        else if (e.faultCode === Faults.BAD_NAME) ctl.output(`ERROR: no such process/group: ${name}`);
        else throw e;
        continue;
      }
      ctl.output(`${name}: removed process group`);
    }
  },
  help(ctl) {
    ctl.output('remove <name> [...]\tRemoves process/group from active config');
  },
};

export const update: Command = {
  async run(ctl, arg) {
    const sup = ctl.getSupervisor();
    const log = (name: string, message: string): void => ctl.output(`${name}: ${message}`);
    let result: XmlRpcValue;
    try {
      result = await sup.call('reloadConfig');
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      ctl.exitstatus = Exit.GENERIC;
      if (e.faultCode !== Faults.SHUTDOWN_STATE) throw e;
      ctl.output('ERROR: already shutting down');
      return;
    }
    const [added, changed, removed] = changes(result);
    // "all" means the same as no names. A set, iterated in insertion order (Python's is hash order).
    let valid = new Set(pySplit(arg));
    if (valid.has('all')) valid = new Set();
    if (valid.size > 0) {
      const groups = new Set<string>();
      const infos = await sup.call('getAllProcessInfo');
      for (const info of (Array.isArray(infos) ? infos : []) as XmlRpcStruct[]) groups.add(pyStr(info['group']));
      for (const g of added) groups.add(g);
      for (const g of valid) {
        if (!groups.has(g)) {
          ctl.output(`ERROR: no such group: ${g}`);
          ctl.exitstatus = Exit.GENERIC;
        }
      }
    }
    const wanted = (g: string): boolean => valid.size === 0 || valid.has(g);

    for (const g of removed.filter(wanted)) {
      const results = await sup.call('stopProcessGroup', g);
      log(g, 'stopped');
      const fails = (Array.isArray(results) ? results : []).filter(
        (r) => (r as XmlRpcStruct)['status'] === Faults.FAILED,
      );
      if (fails.length > 0) {
        ctl.output(`${g}: has problems; not removing`);
        ctl.exitstatus = Exit.GENERIC;
        continue;
      }
      await sup.call('removeProcessGroup', g);
      log(g, 'removed process group');
    }
    // A changed group restarts whole, members that did not change included.
    for (const g of changed.filter(wanted)) {
      await sup.call('stopProcessGroup', g);
      log(g, 'stopped');
      await sup.call('removeProcessGroup', g);
      await sup.call('addProcessGroup', g);
      log(g, 'updated process group');
    }
    for (const g of added.filter(wanted)) {
      await sup.call('addProcessGroup', g);
      log(g, 'added process group');
    }
  },
  help(ctl) {
    ctl.output('update\t\t\tReload config and add/remove as necessary, and will restart affected programs');
    ctl.output('update all\t\tReload config and add/remove as necessary, and will restart affected programs');
    ctl.output('update <gname> [...]\tUpdate specific groups');
  },
};
