// SPDX-License-Identifier: MIT
// The default plugin's commands by name, each module loaded only when used so a
// one-shot `status` does not pay for tail, fg or the shell.
import type { Command } from './command.js';

type CommandModule = Record<string, Command>;

const MODULES: Record<string, () => Promise<CommandModule>> = {
  add: () => import('./groups.js'),
  avail: () => import('./groups.js'),
  clear: () => import('./processes.js'),
  exit: () => import('./session.js'),
  fg: () => import('./fg.js'),
  maintail: () => import('./tail.js'),
  open: () => import('./server.js'),
  pid: () => import('./pid.js'),
  quit: () => import('./session.js'),
  reload: () => import('./server.js'),
  remove: () => import('./groups.js'),
  reread: () => import('./groups.js'),
  restart: () => import('./processes.js'),
  shutdown: () => import('./server.js'),
  signal: () => import('./processes.js'),
  start: () => import('./processes.js'),
  status: () => import('./status.js'),
  stop: () => import('./processes.js'),
  tail: () => import('./tail.js'),
  update: () => import('./groups.js'),
  version: () => import('./server.js'),
};

/**
 * fastvisor's own commands: `help top` knows them, but the `help` list stays
 * supervisorctl's, byte for byte (scripts and the parity tests read it).
 */
const FASTVISOR_MODULES: Record<string, () => Promise<CommandModule>> = {
  top: () => import('./top.js').then((m) => ({ top: m.top })),
  rotate: () => import('./rotate.js').then((m) => ({ rotate: m.rotate })),
};

/** The documented commands, sorted as `help` lists them (dir() order). */
export const COMMAND_NAMES: readonly string[] = Object.keys(MODULES).sort();

/** Every command that runs: supervisorctl's and fastvisor's. */
export function isCommand(name: string): boolean {
  return Object.hasOwn(MODULES, name) || Object.hasOwn(FASTVISOR_MODULES, name);
}

export async function loadCommand(name: string): Promise<Command> {
  const mod = await (MODULES[name] ?? FASTVISOR_MODULES[name])!();
  return mod[name]!;
}
