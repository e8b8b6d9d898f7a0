// SPDX-License-Identifier: MIT
// help and help <command>: ControllerPluginBase.do_help with cmd.Cmd's topic table.
import type { Controller } from '../controller.js';
import { columnize } from '../py.js';
import { COMMAND_NAMES, isCommand, loadCommand } from './index.js';

export async function helpCommand(ctl: Controller, arg: string): Promise<void> {
  if (arg) {
    if (!isCommand(arg)) return ctl.output(`*** No help on ${arg}`);
    return (await loadCommand(arg)).help(ctl);
  }
  // print_topics(doc_header, cmds, 15, 80): the ruler is as long as the header.
  const header = 'default commands (type help <topic>):';
  ctl.output('');
  ctl.output(header);
  ctl.output('='.repeat(header.length));
  for (const line of columnize(COMMAND_NAMES, 79)) ctl.output(line);
  ctl.output('');
}
