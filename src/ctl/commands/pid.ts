// SPDX-License-Identifier: MIT
// pid: supervisord's own, one process's, or every process's, one per line.
import type { XmlRpcStruct } from '../../rpc/codec.js';
import { Faults } from '../../rpc/faults.js';
import { Exit } from '../controller.js';
import { Fault } from '../errors.js';
import { pySplit, pyStr } from '../py.js';
import type { Command } from './command.js';

export const pid: Command = {
  async run(ctl, arg) {
    // 4.2.5 builds the proxy before the connection check, so a bad URL fails first.
    const sup = ctl.getSupervisor();
    if (!(await ctl.upcheck())) return;
    const names = pySplit(arg);
    if (names.length === 0) {
      ctl.output(pyStr(await sup.call('getPID')));
    } else if (names.includes('all')) {
      const infos = await sup.call('getAllProcessInfo');
      for (const info of Array.isArray(infos) ? infos : []) ctl.output(pyStr((info as XmlRpcStruct)['pid']));
    } else {
      for (const name of names) {
        let info: XmlRpcStruct;
        try {
          info = (await sup.call('getProcessInfo', name)) as XmlRpcStruct;
        } catch (e) {
          if (!(e instanceof Fault)) throw e;
          ctl.exitstatus = Exit.GENERIC;
          if (e.faultCode !== Faults.BAD_NAME) throw e;
          ctl.output(`No such process ${name}`);
          continue;
        }
        ctl.output(pyStr(info['pid']));
        if (info['pid'] === 0) ctl.exitstatus = Exit.NOT_RUNNING;
      }
    }
  },
  help(ctl) {
    ctl.output('pid\t\t\tGet the PID of supervisord.');
    ctl.output('pid <name>\t\tGet the PID of a single child process by name.');
    ctl.output('pid all\t\t\tGet the PID of every child process, one per line.');
  },
};
