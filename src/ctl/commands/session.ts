// SPDX-License-Identifier: MIT
// quit and exit: leave the shell (do_EOF: an empty line, then stop).
import type { Command } from './command.js';

export const quit: Command = {
  async run(ctl) {
    return ctl.doEOF();
  },
  help(ctl) {
    ctl.output('quit\tExit the supervisor shell.');
  },
};

export const exit: Command = {
  async run(ctl) {
    return ctl.doEOF();
  },
  help(ctl) {
    ctl.output('exit\tExit the supervisor shell.');
  },
};
