// SPDX-License-Identifier: MIT
// start, stop, restart, signal and clear: one RPC per name, group or `all`, and one
// result line per process in DefaultControllerPlugin's words.
import type { XmlRpcStruct, XmlRpcValue } from '../../rpc/codec.js';
import { Faults } from '../../rpc/faults.js';
import { Exit, type Controller } from '../controller.js';
import { Fault, PyException, type SiteName } from '../errors.js';
import { errorLine } from '../format.js';
import { makeNamespec, pySplit, pyStr, splitNamespec } from '../py.js';
import type { Command } from './command.js';

interface Result {
  name: string | undefined;
  group: string;
  status: number;
  description: string;
}

function asResult(v: XmlRpcValue): Result {
  const s = (typeof v === 'object' && v !== null ? v : {}) as XmlRpcStruct;
  return {
    name: pyStr(s['name']),
    group: pyStr(s['group']),
    status: typeof s['status'] === 'number' ? s['status'] : NaN,
    description: pyStr(s['description']),
  };
}

function asResults(v: XmlRpcValue): Result[] {
  return Array.isArray(v) ? v.map(asResult) : [];
}

/** A fault for one name, as the result struct the command formats (name undefined for `g:*`). */
function faultResult(e: Fault, group: string, proc: string | undefined): Result {
  return { name: proc, group, status: e.faultCode, description: e.faultString };
}

function nameOf(r: Result): string {
  // make_namespec(group, None) is 'group:None' in Python.
  return makeNamespec(r.group, r.name ?? 'None');
}

/** The ValueError 4.2.5 raises for a status code it has no words for. */
function unknownResult(r: Result, site: SiteName): never {
  const code = Number.isNaN(r.status) ? 'None' : String(r.status);
  throw new PyException('ValueError', `Unknown result code ${code} for ${nameOf(r)}`, site);
}

/** _startresult. */
function startResult(ctl: Controller, r: Result): string {
  const name = nameOf(r);
  const why: Record<number, string> = {
    [Faults.BAD_NAME]: 'no such process',
    [Faults.NO_FILE]: 'no such file',
    [Faults.NOT_EXECUTABLE]: 'file is not executable',
    [Faults.ALREADY_STARTED]: 'already started',
    [Faults.SPAWN_ERROR]: 'spawn error',
    [Faults.ABNORMAL_TERMINATION]: 'abnormal termination',
  };
  if (r.status === Faults.SUCCESS) return `${name}: started`;
  const w = why[r.status];
  if (w !== undefined) return errorLine(ctl.color, name, w);
  return unknownResult(r, 'startResult');
}

/** _signalresult; _stopresult is the same with 'stopped'. FAILED prints the fault text alone. */
function signalResult(ctl: Controller, r: Result, success = 'signalled'): string {
  const name = nameOf(r);
  if (r.status === Faults.BAD_NAME) return errorLine(ctl.color, name, 'no such process');
  if (r.status === Faults.BAD_SIGNAL) return errorLine(ctl.color, name, 'bad signal name');
  if (r.status === Faults.NOT_RUNNING) return errorLine(ctl.color, name, 'not running');
  if (r.status === Faults.SUCCESS) return `${name}: ${success}`;
  if (r.status === Faults.FAILED) return r.description;
  return unknownResult(r, 'signalResult');
}

/** _clearresult. */
function clearResult(ctl: Controller, r: Result): string {
  const name = nameOf(r);
  if (r.status === Faults.BAD_NAME) return errorLine(ctl.color, name, 'no such process');
  if (r.status === Faults.FAILED) return errorLine(ctl.color, name, 'failed');
  if (r.status === Faults.SUCCESS) return `${name}: cleared`;
  return unknownResult(r, 'clearResult');
}

function noSuchGroup(ctl: Controller, group: string): void {
  ctl.output(errorLine(ctl.color, group, 'no such group'));
}

export const start: Command = {
  async run(ctl, arg) {
    if (!(await ctl.upcheck())) return;
    const names = pySplit(arg);
    const sup = ctl.getSupervisor();
    if (names.length === 0) {
      ctl.output('Error: start requires a process name');
      ctl.exitstatus = Exit.INVALID_ARGS;
      start.help(ctl);
      return;
    }
    const report = (results: Result[]): void => {
      for (const r of results) {
        ctl.output(startResult(ctl, r));
        ctl.setExitstatusFromFault(r.status, Faults.ALREADY_STARTED);
      }
    };
    if (names.includes('all')) return report(asResults(await sup.call('startAllProcesses')));
    for (const name of names) {
      const [group, proc] = splitNamespec(name);
      if (proc === undefined) {
        try {
          report(asResults(await sup.call('startProcessGroup', group)));
        } catch (e) {
          if (e instanceof Fault && e.faultCode === Faults.BAD_NAME) {
            noSuchGroup(ctl, group);
            ctl.exitstatus = Exit.INVALID_ARGS;
          } else {
            ctl.exitstatus = Exit.GENERIC;
            throw e;
          }
        }
        continue;
      }
      try {
        await sup.call('startProcess', name);
      } catch (e) {
        if (!(e instanceof Fault)) throw e;
        report([faultResult(e, group, proc)]);
        continue;
      }
      ctl.output(`${makeNamespec(group, proc)}: started`);
    }
  },
  help(ctl) {
    ctl.output('start <name>\t\tStart a process');
    ctl.output('start <gname>:*\t\tStart all processes in a group');
    ctl.output('start <name> <name>\tStart multiple processes or groups');
    ctl.output('start all\t\tStart all processes');
  },
};

export const stop: Command = {
  async run(ctl, arg) {
    if (!(await ctl.upcheck())) return;
    const names = pySplit(arg);
    const sup = ctl.getSupervisor();
    if (names.length === 0) {
      ctl.output('Error: stop requires a process name');
      ctl.exitstatus = Exit.GENERIC;
      stop.help(ctl);
      return;
    }
    const report = (results: Result[]): void => {
      for (const r of results) {
        ctl.output(signalResult(ctl, r, 'stopped'));
        ctl.setExitstatusFromFault(r.status, Faults.NOT_RUNNING);
      }
    };
    if (names.includes('all')) return report(asResults(await sup.call('stopAllProcesses')));
    for (const name of names) {
      const [group, proc] = splitNamespec(name);
      if (proc === undefined) {
        try {
          report(asResults(await sup.call('stopProcessGroup', group)));
        } catch (e) {
          if (!(e instanceof Fault)) throw e;
          ctl.exitstatus = Exit.GENERIC;
          if (e.faultCode !== Faults.BAD_NAME) throw e;
          noSuchGroup(ctl, group);
        }
        continue;
      }
      try {
        await sup.call('stopProcess', name);
      } catch (e) {
        if (!(e instanceof Fault)) throw e;
        report([faultResult(e, group, proc)]);
        continue;
      }
      ctl.output(`${makeNamespec(group, proc)}: stopped`);
    }
  },
  help(ctl) {
    ctl.output('stop <name>\t\tStop a process');
    ctl.output('stop <gname>:*\t\tStop all processes in a group');
    ctl.output('stop <name> <name>\tStop multiple processes or groups');
    ctl.output('stop all\t\tStop all processes');
  },
};

export const restart: Command = {
  async run(ctl, arg) {
    if (!(await ctl.upcheck())) return;
    if (pySplit(arg).length === 0) {
      ctl.output('Error: restart requires a process name');
      ctl.exitstatus = Exit.GENERIC;
      restart.help(ctl);
      return;
    }
    // No reread: stop then start, each with its own connection check.
    await stop.run(ctl, arg);
    await start.run(ctl, arg);
  },
  help(ctl) {
    ctl.output('restart <name>\t\tRestart a process');
    ctl.output('restart <gname>:*\tRestart all processes in a group');
    ctl.output('restart <name> <name>\tRestart multiple processes or groups');
    ctl.output('restart all\t\tRestart all processes');
    ctl.output('Note: restart does not reread config files. For that, see reread and update.');
  },
};

export const signal: Command = {
  async run(ctl, arg) {
    if (!(await ctl.upcheck())) return;
    const args = pySplit(arg);
    if (args.length < 2) {
      ctl.output('Error: signal requires a signal name and a process name');
      signal.help(ctl);
      ctl.exitstatus = Exit.GENERIC;
      return;
    }
    const sig = args[0]!;
    const names = args.slice(1);
    const sup = ctl.getSupervisor();
    const report = (results: Result[]): void => {
      for (const r of results) {
        ctl.output(signalResult(ctl, r));
        ctl.setExitstatusFromFault(r.status);
      }
    };
    if (names.includes('all')) return report(asResults(await sup.call('signalAllProcesses', sig)));
    for (const name of names) {
      const [group, proc] = splitNamespec(name);
      if (proc === undefined) {
        try {
          report(asResults(await sup.call('signalProcessGroup', group, sig)));
        } catch (e) {
          if (!(e instanceof Fault) || e.faultCode !== Faults.BAD_NAME) throw e;
          noSuchGroup(ctl, group);
          ctl.exitstatus = Exit.GENERIC;
        }
        continue;
      }
      try {
        await sup.call('signalProcess', name, sig);
      } catch (e) {
        if (!(e instanceof Fault)) throw e;
        report([faultResult(e, group, proc)]);
        continue;
      }
      ctl.output(`${makeNamespec(group, proc)}: signalled`);
    }
  },
  help(ctl) {
    ctl.output('signal <signal name> <name>\t\tSignal a process');
    ctl.output('signal <signal name> <gname>:*\t\tSignal all processes in a group');
    ctl.output('signal <signal name> <name> <name>\tSignal multiple processes or groups');
    ctl.output('signal <signal name> all\t\tSignal all processes');
  },
};

export const clear: Command = {
  async run(ctl, arg) {
    if (!(await ctl.upcheck())) return;
    const names = pySplit(arg);
    if (names.length === 0) {
      ctl.output('Error: clear requires a process name');
      ctl.exitstatus = Exit.GENERIC;
      clear.help(ctl);
      return;
    }
    const sup = ctl.getSupervisor();
    const report = (results: Result[]): void => {
      for (const r of results) {
        ctl.output(clearResult(ctl, r));
        ctl.setExitstatusFromFault(r.status);
      }
    };
    if (names.includes('all')) return report(asResults(await sup.call('clearAllProcessLogs')));
    for (const name of names) {
      const [group, proc] = splitNamespec(name);
      try {
        await sup.call('clearProcessLogs', name);
      } catch (e) {
        if (!(e instanceof Fault)) throw e;
        report([faultResult(e, group, proc)]);
        continue;
      }
      ctl.output(`${makeNamespec(group, proc ?? 'None')}: cleared`);
    }
  },
  help(ctl) {
    ctl.output("clear <name>\t\tClear a process' log files.");
    ctl.output("clear <name> <name>\tClear multiple process' log files");
    ctl.output("clear all\t\tClear all process' log files");
  },
};
