// SPDX-License-Identifier: MIT
// What every command module exports, in a module of its own so the imports run
// one way: the registry (index.ts) loads the commands, the commands need only
// this type, never the registry.
import type { Controller } from '../controller.js';

export interface Command {
  /** do_<name>: true stops the shell (quit, exit). */
  run(ctl: Controller, arg: string): Promise<boolean | void>;
  /** help_<name>. */
  help(ctl: Controller): void;
}
