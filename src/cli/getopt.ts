// SPDX-License-Identifier: MIT
// Python's getopt.getopt(), which supervisord and supervisorctl parse their
// command lines with: stops at the first non-option, accepts unique prefixes
// of long options, and words its errors the way scripts have seen for years.

export class GetoptError extends Error {}

export type ParsedOption = [name: string, value: string];

export function getopt(args: string[], shortopts: string, longopts: string[]): [ParsedOption[], string[]] {
  const opts: ParsedOption[] = [];
  let i = 0;
  while (i < args.length) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a.startsWith('--')) {
      i = doLong(opts, a.slice(2), longopts, args, i + 1);
    } else {
      i = doShort(opts, a.slice(1), shortopts, args, i + 1);
    }
  }
  return [opts, args.slice(i)];
}

function doLong(opts: ParsedOption[], text: string, longopts: string[], args: string[], next: number): number {
  const eq = text.indexOf('=');
  const name = eq >= 0 ? text.slice(0, eq) : text;
  let value: string | undefined = eq >= 0 ? text.slice(eq + 1) : undefined;
  const [full, hasArg] = longHasArgs(name, longopts);
  if (hasArg) {
    if (value === undefined) {
      if (next >= args.length) throw new GetoptError(`option --${full} requires argument`);
      value = args[next++]!;
    }
  } else if (value !== undefined) {
    throw new GetoptError(`option --${full} must not have an argument`);
  }
  opts.push([`--${full}`, value ?? '']);
  return next;
}

function longHasArgs(name: string, longopts: string[]): [string, boolean] {
  const matches = longopts.filter((o) => o.startsWith(name));
  if (matches.length === 0) throw new GetoptError(`option --${name} not recognized`);
  if (matches.includes(name)) return [name, false];
  if (matches.includes(`${name}=`)) return [name, true];
  if (matches.length > 1) throw new GetoptError(`option --${name} not a unique prefix`);
  const only = matches[0]!;
  return only.endsWith('=') ? [only.slice(0, -1), true] : [only, false];
}

function doShort(opts: ParsedOption[], text: string, shortopts: string, args: string[], next: number): number {
  while (text !== '') {
    const c = text[0]!;
    text = text.slice(1);
    const at = c === ':' ? -1 : shortopts.indexOf(c);
    if (at < 0) throw new GetoptError(`option -${c} not recognized`);
    if (shortopts[at + 1] === ':') {
      let value = text;
      if (value === '') {
        if (next >= args.length) throw new GetoptError(`option -${c} requires argument`);
        value = args[next++]!;
      }
      opts.push([`-${c}`, value]);
      text = '';
    } else {
      opts.push([`-${c}`, '']);
    }
  }
  return next;
}
