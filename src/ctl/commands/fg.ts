// SPDX-License-Identifier: MIT
// fg name: the process's stdout and stderr followed on the terminal, each typed line
// sent to its stdin, until Ctrl-C, end of input, or the process stops running.
import type { XmlRpcStruct } from '../../rpc/codec.js';
import { Faults } from '../../rpc/faults.js';
import { ProcessState } from '../../process/states.js';
import { Exit } from '../controller.js';
import { Fault, KeyboardInterrupt, PyException } from '../errors.js';
import { follow, type Follow } from '../logtail.js';
import { pySplit } from '../py.js';
import type { Command } from './command.js';

export const fg: Command = {
  async run(ctl, arg) {
    if (!(await ctl.upcheck())) return;
    const names = pySplit(arg);
    if (names.length === 0) {
      ctl.output('ERROR: no process name supplied');
      ctl.exitstatus = Exit.GENERIC;
      fg.help(ctl);
      return;
    }
    if (names.length > 1) {
      ctl.output('ERROR: too many process names supplied');
      ctl.exitstatus = Exit.GENERIC;
      return;
    }
    const name = names[0]!;
    const sup = ctl.getSupervisor();
    let info: XmlRpcStruct;
    try {
      info = (await sup.call('getProcessInfo', name)) as XmlRpcStruct;
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      if (e.faultCode === Faults.BAD_NAME) {
        ctl.output('ERROR: bad process name supplied');
        ctl.exitstatus = Exit.GENERIC;
      } else {
        ctl.output(`ERROR: ${e.toString()}`);
      }
      return;
    }
    if (info['state'] !== ProcessState.RUNNING) {
      ctl.output('ERROR: process not running');
      ctl.exitstatus = Exit.GENERIC;
      return;
    }

    ctl.output('==> Press Ctrl-C to exit <==');
    const { serverurl, username, password } = ctl.options;
    const streams: Follow[] = ['stdout', 'stderr'].map((ch) =>
      follow(ctl.io, { serverurl, username, password, path: `/logtail/${name}/${ch}` }),
    );
    // Ctrl-C while an RPC is in flight counts once the RPC returns (Python's
    // KeyboardInterrupt lands wherever the main thread is); at the prompt it
    // interrupts the read at once.
    let interrupted = false;
    const pop = ctl.interrupts.push(() => {
      interrupted = true;
    });
    const say = (...lines: string[]): void => {
      for (const l of lines) ctl.output(l);
    };
    try {
      for (;;) {
        const inp = (await ctl.input.readLine('', 'fgInput')) + '\n';
        if (interrupted) throw new KeyboardInterrupt();
        try {
          await sup.call('sendProcessStdin', name, inp);
        } catch (e) {
          if (!(e instanceof Fault)) throw e;
          return say(
            e.faultCode === Faults.NOT_RUNNING ? 'Process got killed' : `ERROR: ${e.toString()}`,
            'Exiting foreground',
          );
        }
        const now = (await sup.call('getProcessInfo', name)) as XmlRpcStruct;
        if (interrupted) throw new KeyboardInterrupt();
        if (now['state'] !== ProcessState.RUNNING) return say('Process got killed', 'Exiting foreground');
      }
    } catch (e) {
      const eof = e instanceof PyException && e.pyClass === 'EOFError';
      if (!(e instanceof KeyboardInterrupt) && !eof) throw e;
      say('Exiting foreground');
    } finally {
      pop();
      for (const s of streams) s.close();
    }
  },
  help(ctl) {
    ctl.output('fg <process>\tConnect to a process in foreground mode');
    ctl.output('\t\tCtrl-C to exit');
  },
};
