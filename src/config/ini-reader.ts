// SPDX-License-Identifier: MIT
// Python's RawConfigParser as supervisord sets it up (options.py UnhosedConfigParser) → raw sections of strings.
// Not the `ini` package: it cuts at `;`/`#` anywhere (`url=http://h/#x`), lacks `:` and continuation lines, keeps case.
import { pyIsSpace, pyRepr, pyRstrip, pyStrip, ValueError } from './datatypes.js';

/*
The dialect (Python 3.11 configparser._read with UnhosedConfigParser's
arguments: inline_comment_prefixes=(';', '#'), strict=False, otherwise the
defaults: delimiters '=' and ':', comment_prefixes ('#', ';'),
empty_lines_in_values=True, default_section 'DEFAULT', allow_no_value=False):
- strict=False: a repeated section merges into the first (keeping its place),
  a repeated option replaces the value (keeping its place). No error.
- Inline comments need whitespace (or the line start) before `;`/`#`.
- A line indented deeper than the option line continues the value, even when
  it looks like `[section]` or `key=value`; blank lines inside a value are kept,
  comment lines are skipped, trailing whitespace of the joined value dropped.
- Option names are lower-cased; section names are kept as written, spaces too.
- Options of [DEFAULT] show through in every section (options(), get()).
- Bad lines are collected and reported together after the file is read; a
  line before any section header is fatal at once.
*/

export interface IniOption {
  /** lower-cased, as ConfigParser's optionxform() leaves it */
  readonly name: string;
  value: string;
  /** where the (last) assignment was made */
  readonly file: string;
  readonly line: number;
}

export interface IniSection {
  readonly name: string;
  /** the file and line that first opened the section (supervisord's section_to_file) */
  readonly file: string;
  readonly line: number;
  readonly options: Map<string, IniOption>;
}

/** One parser's state: feed it the main file, then the included ones, as supervisord does. */
export interface IniDocument {
  /** in order of first appearance, without DEFAULT */
  readonly sections: Map<string, IniSection>;
  readonly defaults: Map<string, IniOption>;
}

export const DEFAULT_SECTION = 'DEFAULT';

/** configparser.ParsingError; supervisord re-raises its str() as a ValueError. */
export class ParsingError extends ValueError {
  override name = 'ParsingError';
  constructor(
    readonly source: string,
    readonly errors: ReadonlyArray<{ line: number; text: string }>,
    message?: string,
  ) {
    super(
      message ??
        `Source contains parsing errors: ${pyRepr(source)}` +
          errors.map((e) => `\n\t[line ${String(e.line).padStart(2)}]: ${pyRepr(e.text)}`).join(''),
    );
  }
}

export class MissingSectionHeaderError extends ParsingError {
  override name = 'MissingSectionHeaderError';
  constructor(source: string, line: number, text: string) {
    super(
      source,
      [{ line, text }],
      `File contains no section headers.\nfile: ${pyRepr(source)}, line: ${line}\n${pyRepr(text)}`,
    );
  }
}

export function newIniDocument(): IniDocument {
  return { sections: new Map(), defaults: new Map() };
}

const INLINE_COMMENT_PREFIXES = [';', '#'];
const COMMENT_PREFIXES = ['#', ';'];

// configparser._read's inline comment search, including its quirk: each round
// looks at the next occurrence of every prefix and stops at the first round
// that finds a real comment, so in `a=x#y #z ;w` the `;` wins over the `#`
// before it (the value is `x#y #z`).
function commentStart(line: string): number {
  // Most lines hold neither prefix: nothing to search (a config of thousands of
  // programs is read by every supervisorctl command).
  if (line.indexOf(';') < 0 && line.indexOf('#') < 0) return Infinity;
  let start = Infinity;
  let pending = INLINE_COMMENT_PREFIXES.map((p) => [p, -1] as [string, number]);
  while (start === Infinity && pending.length > 0) {
    const next: Array<[string, number]> = [];
    for (const [prefix, from] of pending) {
      const index = line.indexOf(prefix, from + 1);
      if (index === -1) continue;
      next.push([prefix, index]);
      if (index === 0 || (index > 0 && pyIsSpace(line[index - 1]!))) start = Math.min(start, index);
    }
    pending = next;
  }
  const stripped = pyStrip(line);
  if (COMMENT_PREFIXES.some((p) => stripped.startsWith(p))) start = 0;
  return start;
}

/** The first '=' or ':', or -1. */
function delimiterAt(value: string): number {
  const eq = value.indexOf('=');
  const colon = value.indexOf(':');
  return eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon);
}

function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && pyIsSpace(line[i]!)) i++;
  return i;
}

// SECTCRE `\[(?P<header>.+)\]` with re.match: anchored at the start only and
// greedy, so `[a] junk` is section `a` and `[a]b]` is section `a]b`.
function sectionHeader(value: string): string | undefined {
  if (value[0] !== '[') return undefined;
  const close = value.lastIndexOf(']');
  return close >= 2 ? value.slice(1, close) : undefined;
}

/**
 * Reads one file's text into `doc` (RawConfigParser.read_file / read).
 * `text` must be decoded as Python would: UTF-8, with a BOM left in place
 * (Python keeps it, so the first header does not parse). On a ParsingError
 * `doc` holds what was read before it, as the Python parser does. `firstLine`:
 * the line number of text's first line, when it is a part of a file cut at a
 * section header (supervisorctl reads only the sections it uses: src/ctl/ini-skim.ts).
 */
export function readIni(text: string, file: string, doc: IniDocument = newIniDocument(), firstLine = 1): IniDocument {
  let cursect: Map<string, IniOption> | undefined;
  let optname: string | undefined;
  let current: { option: IniOption; parts: string[] } | undefined;
  let indentLevel = 0;
  const pending: Array<{ option: IniOption; parts: string[] }> = [];
  const errors: Array<{ line: number; text: string }> = [];

  // Python's file iteration in text mode: universal newlines, each line keeps its '\n'.
  // Walked in place rather than split into an array first: every supervisorctl command
  // reads the whole file, thousands of programs included.
  const t = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  let lineno = firstLine - 1;
  for (let at = 0; at < t.length; ) {
    const nl = t.indexOf('\n', at);
    const end = nl < 0 ? t.length : nl + 1;
    const line = t.slice(at, end);
    at = end;
    lineno++;
    const start = commentStart(line);
    const value = pyStrip(start === Infinity ? line : line.slice(0, start));
    if (!value) {
      // empty_lines_in_values: a blank line (not a comment line) joins the value.
      if (start === Infinity && cursect && optname && current) current.parts.push('');
      continue;
    }
    const curIndent = indentOf(line);
    if (cursect && optname && current && curIndent > indentLevel) {
      current.parts.push(value);
      continue;
    }
    indentLevel = curIndent;
    const header = sectionHeader(value);
    if (header !== undefined) {
      const existing = doc.sections.get(header);
      if (existing) cursect = existing.options;
      else if (header === DEFAULT_SECTION) cursect = doc.defaults;
      else {
        const section: IniSection = { name: header, file, line: lineno, options: new Map() };
        doc.sections.set(header, section);
        cursect = section.options;
      }
      optname = undefined;
      current = undefined;
      continue;
    }
    if (!cursect) throw new MissingSectionHeaderError(file, lineno, line);
    const delim = delimiterAt(value);
    if (delim < 0) {
      errors.push({ line: lineno, text: line });
      continue;
    }
    // OPTCRE `(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$`: the first
    // delimiter splits; an empty name is an error, yet Python still stores it.
    const rawName = pyRstrip(value.slice(0, delim));
    if (!rawName) errors.push({ line: lineno, text: line });
    optname = rawName.toLowerCase();
    const option: IniOption = { name: optname, value: '', file, line: lineno };
    current = { option, parts: [pyStrip(value.slice(delim + 1))] };
    pending.push(current);
    cursect.set(optname, option);
  }
  // _join_multiline_values
  for (const { option, parts } of pending) option.value = pyRstrip(parts.length === 1 ? parts[0]! : parts.join('\n'));
  if (errors.length > 0) throw new ParsingError(file, errors);
  return doc;
}

/** RawConfigParser.options(section): the section's names, then DEFAULT's that it lacks. */
export function options(doc: IniDocument, section: string): string[] {
  const own = doc.sections.get(section)?.options;
  if (!own) throw new ValueError(`No section: ${pyRepr(section)}`);
  return [...own.keys(), ...[...doc.defaults.keys()].filter((k) => !own.has(k))];
}

/** RawConfigParser.get(section, option): the section first, then DEFAULT; undefined when neither has it. */
export function get(doc: IniDocument, section: string, option: string): IniOption | undefined {
  const name = option.toLowerCase();
  if (section === DEFAULT_SECTION) return doc.defaults.get(name);
  const own = doc.sections.get(section)?.options;
  if (!own) throw new ValueError(`No section: ${pyRepr(section)}`);
  return own.get(name) ?? doc.defaults.get(name);
}
