// SPDX-License-Identifier: MIT
// tail [-f|-N] name [stdout|stderr] and maintail [-f|-N]: the last N bytes by RPC,
// or the log followed over HTTP until Ctrl-C.
import { pyInt } from '../../config/datatypes.js';
import { Faults } from '../../rpc/faults.js';
import { Exit, type Controller } from '../controller.js';
import { Fault } from '../errors.js';
import { errorLine } from '../format.js';
import { follow } from '../logtail.js';
import { allProcesses, mergedTail, mergedTailError, parseMergedTail } from '../multitail.js';
import { pyRepr, pySplit, pyStr } from '../py.js';
import type { Command } from './command.js';

/** What tail and maintail say for the faults of a log read (maintail has no process name to get wrong). */
const READ_FAULTS: Record<number, string> = {
  [Faults.NO_FILE]: 'no log file',
  [Faults.FAILED]: 'unknown error reading log',
  [Faults.BAD_NAME]: 'no such process name',
};

/** Python's int() of a modifier's digits ('100', '+5', '1_000'), or undefined. */
function pyIntOrUndefined(s: string): number | undefined {
  try {
    return Number(pyInt(s));
  } catch {
    return undefined;
  }
}

/** DefaultControllerPlugin._tailf: stream until the server ends it or Ctrl-C (then an empty line). */
async function tailf(ctl: Controller, path: string): Promise<void> {
  ctl.output('==> Press Ctrl-C to exit <==');
  const { serverurl, username, password } = ctl.options;
  const f = follow(ctl.io, { serverurl, username, password, path });
  let interrupted = false;
  const pop = ctl.interrupts.push(() => {
    interrupted = true;
    f.close();
  });
  try {
    await f.done;
  } finally {
    pop();
  }
  if (interrupted) ctl.output('');
}

export const tail: Command = {
  async run(ctl, arg) {
    if (!(await ctl.upcheck())) return;
    const args = pySplit(arg);
    // fastvisor: several processes, group:*, all, --stderr/--both: one merged stream (multitail.ts).
    const merged = parseMergedTail(args);
    if (typeof merged === 'string') return mergedTailError(ctl, merged);
    if (merged && (merged.explicit || (await allProcesses(ctl, merged.specs)))) return mergedTail(ctl, merged);
    if (args.length < 1 || args.length > 3) {
      ctl.output(args.length < 1 ? 'Error: too few arguments' : 'Error: too many arguments');
      ctl.exitstatus = Exit.GENERIC;
      tail.help(ctl);
      return;
    }
    const modifier = args[0]!.startsWith('-') ? args.shift()! : undefined;
    let name: string;
    let channel = 'stdout';
    if (args.length === 1) {
      name = args[0]!;
    } else if (args.length > 0) {
      name = args[0]!;
      channel = args[args.length - 1]!.toLowerCase();
      if (channel !== 'stderr' && channel !== 'stdout') {
        ctl.output(`Error: bad channel ${pyRepr(channel)}`);
        ctl.exitstatus = Exit.GENERIC;
        return;
      }
    } else {
      ctl.output('Error: tail requires process name');
      ctl.exitstatus = Exit.GENERIC;
      return;
    }

    let bytes: number | 'follow' = 1600;
    if (modifier !== undefined) {
      const what = modifier.slice(1);
      if (what === 'f') {
        bytes = 'follow';
      } else {
        const n = pyIntOrUndefined(what);
        if (n === undefined) {
          ctl.output(`Error: bad argument ${modifier}`);
          ctl.exitstatus = Exit.GENERIC;
          return;
        }
        bytes = n;
      }
    }

    const sup = ctl.getSupervisor();
    if (bytes === 'follow') return tailf(ctl, `/logtail/${name}/${channel}`);
    let output;
    try {
      const method = channel === 'stdout' ? 'readProcessStdoutLog' : 'readProcessStderrLog';
      output = await sup.call(method, name, -bytes, 0);
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      ctl.exitstatus = Exit.GENERIC;
      const why = READ_FAULTS[e.faultCode];
      if (why === undefined) throw e;
      ctl.output(errorLine(ctl.color, name, why));
      return;
    }
    ctl.output(pyStr(output));
  },
  help(ctl) {
    ctl.output(
      'tail [-f] <name> [stdout|stderr] (default stdout)\n' +
        'Ex:\n' +
        'tail -f <name>\t\tContinuous tail of named process stdout\n' +
        '\t\t\tCtrl-C to exit.\n' +
        'tail -100 <name>\tlast 100 *bytes* of process stdout\n' +
        'tail <name> stderr\tlast 1600 *bytes* of process stderr',
    );
  },
};

export const maintail: Command = {
  async run(ctl, arg) {
    if (!(await ctl.upcheck())) return;
    const args = pySplit(arg);
    let bytes = 1600;
    if (args.length > 1) {
      ctl.output('Error: too many arguments');
      ctl.exitstatus = Exit.GENERIC;
      maintail.help(ctl);
      return;
    }
    if (args.length === 1) {
      const a = args[0]!;
      const n = a.startsWith('-') ? a.slice(1) : undefined;
      if (n === 'f') return tailf(ctl, '/mainlogtail');
      const parsed = n === undefined ? undefined : pyIntOrUndefined(n);
      if (parsed === undefined) {
        ctl.output(`Error: bad argument ${a}`);
        ctl.exitstatus = Exit.GENERIC;
        return;
      }
      bytes = parsed;
    }
    const sup = ctl.getSupervisor();
    let output;
    try {
      output = await sup.call('readLog', -bytes, 0);
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      ctl.exitstatus = Exit.GENERIC;
      const why = READ_FAULTS[e.faultCode];
      if (why === undefined || e.faultCode === Faults.BAD_NAME) throw e;
      ctl.output(errorLine(ctl.color, 'supervisord', why));
      return;
    }
    ctl.output(pyStr(output));
  },
  help(ctl) {
    ctl.output(
      'maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n' +
        'maintail -100\tlast 100 *bytes* of supervisord main log file\n' +
        'maintail\tlast 1600 *bytes* of supervisor main log file\n',
    );
  },
};
