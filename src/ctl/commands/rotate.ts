// SPDX-License-Identifier: MIT
// fastvisorctl rotate <name> | <gname>:* | all: rotate those processes' log
// files now (fastvisor.rotateLogs), one line per process, in clear's words.
import type { XmlRpcStruct, XmlRpcValue } from '../../rpc/codec.js';
import { Faults } from '../../rpc/faults.js';
import { Exit } from '../controller.js';
import { Fault } from '../errors.js';
import { errorLine } from '../format.js';
import { makeNamespec, pySplit, pyStr, splitNamespec } from '../py.js';
import type { Command } from './command.js';

export const rotate: Command = {
  async run(ctl, arg) {
    const names = pySplit(arg);
    if (names.length === 0) {
      ctl.output('Error: rotate requires a process name');
      ctl.exitstatus = Exit.GENERIC;
      rotate.help(ctl);
      return;
    }
    if (!(await ctl.upcheck())) return;
    const fv = ctl.getFastvisor();
    for (const name of names.includes('all') ? ['all'] : names) {
      let results: XmlRpcValue;
      try {
        results = await fv.call('rotateLogs', name);
      } catch (e) {
        if (!(e instanceof Fault)) throw e;
        const [group, proc] = splitNamespec(name);
        const why = e.faultCode === Faults.BAD_NAME ? (proc === undefined ? 'no such group' : 'no such process') : e.faultString;
        ctl.output(errorLine(ctl.color, proc === undefined ? group : makeNamespec(group, proc), why));
        ctl.exitstatus = Exit.GENERIC;
        continue;
      }
      for (const v of Array.isArray(results) ? results : []) {
        const s = (typeof v === 'object' && v !== null ? v : {}) as XmlRpcStruct;
        const who = makeNamespec(pyStr(s['group']), pyStr(s['name']));
        const status = typeof s['status'] === 'number' ? s['status'] : Faults.FAILED;
        if (status === Faults.SUCCESS) ctl.output(`${who}: rotated`);
        else ctl.output(errorLine(ctl.color, who, pyStr(s['description'])));
        ctl.setExitstatusFromFault(status);
      }
    }
  },
  help(ctl) {
    ctl.output('rotate <name>\t\tRotate a process\' log files now (as maxbytes would)');
    ctl.output('rotate <gname>:*\tRotate the log files of every process in a group');
    ctl.output('rotate all\t\tRotate every process\' log files');
  },
};
