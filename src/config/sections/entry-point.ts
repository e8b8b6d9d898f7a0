// SPDX-License-Identifier: MIT
// supervisord loads rpcinterface factories and listener result handlers as
// Python entry points (options.py import_spec). A TypeScript daemon has no
// Python to import into, so the one built-in spec is accepted and any other
// is a start-up error that says so.
import { pyRepr, ValueError } from '../datatypes.js';

// pkg_resources.EntryPoint.pattern, matched against "x=" + spec:
//   (?P<name>.+?)\s*=\s*(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+))?\s*(?P<extras>\[.*\])?\s*$
// `.` stops at a newline and `$` allows one before the end, as in Python. As one
// regex it backtracks quadratically over a long run of white space (a ten-million-
// space %(here)9999999s spec hung the daemon; found by npm run fuzz), so the same
// match is made in linear steps: the name is everything before one of the `=`, tried
// from the first, and what follows that `=` is matched in place (sticky, no copy) with
// every \s* taken whole ((?=(\s*))\k<w> is an atomic \s*: nothing after one starts
// with white space, so giving some back could never help).
const AFTER_EQUALS =
  /(?=(?<w0>\s*))\k<w0>(?<module>[\p{L}\p{N}_.]+)(?=(?<w1>\s*))\k<w1>(?::(?=(?<w2>\s*))\k<w2>(?<attr>[\p{L}\p{N}_.]+))?(?=(?<w3>\s*))\k<w3>(\[[^\n]*\])?(?=(?<w4>\s*))\k<w4>$/uy;

export function parseEntryPoint(spec: string): { module: string; attr: string | undefined } {
  const src = `x=${spec}`;
  // `^\s*(.+?)\s*$` on the text before an `=`: the name starts with the x, so it is one
  // line once its trailing white space is off, as long as nothing but white space
  // follows the first newline. No `=` past the first non-white character after that
  // newline can start the module.
  const nl = src.indexOf('\n');
  const lastNameEnd = nl < 0 ? Infinity : nl + (/^\s*/u.exec(src.slice(nl))![0].length);
  for (let eq = src.indexOf('='); eq >= 0 && eq <= lastNameEnd; eq = src.indexOf('=', eq + 1)) {
    AFTER_EQUALS.lastIndex = eq + 1;
    const m = AFTER_EQUALS.exec(src);
    if (m) return { module: m.groups!['module']!, attr: m.groups!['attr'] };
  }
  // str() of a two-argument ValueError is the tuple.
  throw new ValueError(`(${pyRepr("EntryPoint must be in 'name=module:attrs [extras]' format")}, ${pyRepr(src)})`);
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
