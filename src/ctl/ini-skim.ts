// SPDX-License-Identifier: MIT
// supervisorctl reads the whole config file with ConfigParser (options.py
// ClientOptions.read_config), so a syntax error in any section stops it, yet it
// uses only [supervisorctl], [ctlplugin:x] and [DEFAULT]. Building the options of
// thousands of [program:x] sections was most of a one-shot command's own time.
// Here the sections it does not use are only checked, by one regular expression
// run over all of them at once, to hold nothing but lines ConfigParser reads
// without error; the sections it uses are read by readIni as always. A section
// too unusual for that check (an indented first option, a line that starts with
// something other than [A-Za-z0-9_], a blank, a tab or a comment character, a
// header with ';' or '#' in it) sends the whole file through readIni: the same
// result, at the old cost.
import { DEFAULT_SECTION, newIniDocument, readIni, type IniDocument } from '../config/ini-reader.js';

/** The sections read_config looks at; DEFAULT's options show through in them. */
export function usedByCtl(section: string): boolean {
  return section === 'supervisorctl' || section.startsWith('ctlplugin:') || section === DEFAULT_SECTION;
}

// A header line ConfigParser surely takes as one: at column 0 (so never a value's
// continuation), no comment character (so nothing is cut off), only blanks and
// tabs after the last ']' (so the name runs from the first '[' to the last ']',
// as SECTCRE's greedy match has it). Any other header stays inside the section
// before it, which then is either used (readIni sees the header) or not plain.
const HEADER_LINE = String.raw`\[([^\n;#]+)\][ \t]*\n`;
/** The next such header after a newline. */
const NEXT_HEADER = new RegExp(`\\n(?=${HEADER_LINE})`, 'g');
const HEADER_HERE = new RegExp(HEADER_LINE, 'y');

// A section's lines that ConfigParser reads without error, whatever their values:
// blank or comment lines; then options at column 0 whose name starts with
// [A-Za-z0-9_] and holds no '=', ':', ';' or '#' (so the first delimiter comes
// before any comment and the name is not empty), each followed by lines that are
// empty, comments, or indented (continuations of its value: deeper than column 0).
const PLAIN_BODY = String.raw`(?:[ \t]*(?:[#;][^\n]*)?\n)*(?:[A-Za-z0-9_][^=:;#\n]*[=:][^\n]*\n(?:(?:[ \t#;][^\n]*)?\n)*)*`;
/** A run of plain sections that usedByCtl does not take (the lookahead says which it does). */
const PLAIN_UNUSED = new RegExp(
  String.raw`(?:\[(?!(?:supervisorctl|DEFAULT)\][ \t]*\n|ctlplugin:)[^\n;#]+\][ \t]*\n${PLAIN_BODY})*`,
  'y',
);

/** A run of whole lines that readIni must read: [start, end) of the text, `line` its first line's number. */
export interface UsedPart {
  start: number;
  end: number;
  line: number;
}

/**
 * The parts of `text` (which ends with '\n' and holds no '\r') that readIni must read: what
 * comes before the first header, and each section usedByCtl takes. Undefined when a section
 * it does not take is not plain enough to be sure ConfigParser reads it without error.
 */
export function usedParts(text: string): UsedPart[] | undefined {
  const parts: UsedPart[] = [];
  let line = 1;
  let counted = 0;
  const lineAt = (pos: number): number => {
    for (let nl = text.indexOf('\n', counted); nl >= 0 && nl < pos; nl = text.indexOf('\n', nl + 1)) line++;
    counted = pos;
    return line;
  };
  let pos = 0;
  for (;;) {
    PLAIN_UNUSED.lastIndex = pos;
    PLAIN_UNUSED.exec(text);
    const stop = PLAIN_UNUSED.lastIndex;
    if (stop === text.length) return parts;
    HEADER_HERE.lastIndex = stop;
    const header = HEADER_HERE.exec(text);
    // Not at a header: the lines before the first one, or a section that is not plain.
    if (!header && stop > 0) return undefined;
    // The run skipped every unused section it could; one it stopped at is not plain.
    if (header && !usedByCtl(header[1]!)) return undefined;
    NEXT_HEADER.lastIndex = stop;
    const end = NEXT_HEADER.exec(text) ? NEXT_HEADER.lastIndex : text.length;
    parts.push({ start: stop, end, line: lineAt(stop) });
    pos = end;
  }
}

/**
 * readIni(text, file) with only the sections usedByCtl takes, line numbers and all, and
 * the errors readIni gives for the whole file.
 */
export function readCtlSections(text: string, file: string): IniDocument {
  const t = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  // A last line without '\n' reads the same; only an error would quote it, and errors
  // come from the whole file below.
  const whole = t === '' || t.endsWith('\n') ? t : t + '\n';
  const parts = usedParts(whole);
  if (parts) {
    const doc = newIniDocument();
    try {
      for (const p of parts) readIni(whole.slice(p.start, p.end), file, doc, p.line);
      return doc;
    } catch {
      // The error, with every bad line of the file in it, as the whole file gives it.
    }
  }
  return readIni(text, file);
}
