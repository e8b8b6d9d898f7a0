// SPDX-License-Identifier: MIT
// supervisord loads rpcinterface factories and listener result handlers as
// Python entry points (options.py import_spec). A TypeScript daemon has no
// Python to import into, so the one built-in spec is accepted and any other
// is a start-up error that says so.
import { pyRepr, ValueError } from '../datatypes.js';

// pkg_resources.EntryPoint.pattern, matched against "x=" + spec. `.` stops at
// a newline and `$` allows one before the end, as in Python.
const ENTRY_POINT = /^\s*(.+?)\s*=\s*([\p{L}\p{N}_.]+)\s*(?::\s*([\p{L}\p{N}_.]+))?\s*(\[[^\n]*\])?\s*$/u;

export function parseEntryPoint(spec: string): { module: string; attr: string | undefined } {
  const src = `x=${spec}`;
  const m = ENTRY_POINT.exec(src);
  if (!m) {
    // str() of a two-argument ValueError is the tuple.
    throw new ValueError(`(${pyRepr("EntryPoint must be in 'name=module:attrs [extras]' format")}, ${pyRepr(src)})`);
  }
  return { module: m[2]!, attr: m[3] };
}

/**
 * Accepts `spec` only if it names the built-in `expected` (`module:attr`);
 * otherwise a ValueError naming the section, the option and the spec.
 */
export function builtinEntryPoint(spec: string, expected: string, section: string, option: string, what: string): void {
  const { module, attr } = parseEntryPoint(spec);
  if (`${module}:${attr ?? ''}` === expected) return;
  throw new ValueError(
    `fastvisor cannot load Python ${what}: [${section}] ${option} = ${spec} ` +
      `(only ${expected} is built in)`,
  );
}
