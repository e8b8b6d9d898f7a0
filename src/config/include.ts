// SPDX-License-Identifier: MIT
// The first half of options.py ServerOptions.read_config(): read the main
// file, then the files its [include] section names, into one parser, with
// supervisord's infos, warnings and errors.
import { existsSync, readFileSync } from 'node:fs';

import { pyIsSpace, ValueError } from './datatypes.js';
import { expand } from './expand.js';
import { glob } from './glob.js';
import { MissingSectionHeaderError, newIniDocument, readIni, type IniDocument } from './ini-reader.js';
import { ConfigParser, type Names } from './parser.js';
import { pyCompare } from './py-compare.js';
import { abspath, dirname, join } from './pypath.js';
import { decodeConfigText } from './read-text.js';

export interface ReadFiles {
  parser: ConfigParser;
  /** the main file's text, for [supervisorctl] (supervisorctl reads that file alone) */
  mainText: string;
  warnings: string[];
  infos: string[];
}

/**
 * Reads one file into `doc`. A bad byte fails the read, unless a section
 * header was missing in the lines ConfigParser had already taken from the
 * chunks before it (that error comes first in Python).
 */
function readInto(doc: IniDocument, bytes: Uint8Array, file: string): string {
  const decoded = decodeConfigText(bytes);
  if ('error' in decoded) {
    const lastEol = decoded.before.search(/[\n\r][^\n\r]*$/);
    if (lastEol >= 0) {
      try {
        readIni(decoded.before.slice(0, lastEol + 1), file, newIniDocument());
      } catch (e) {
        if (e instanceof MissingSectionHeaderError) throw e;
      }
    }
    throw decoded.error;
  }
  readIni(decoded.text, file, doc);
  return decoded.text;
}

// os.path.exists: follows symlinks; any error (a NUL, EACCES on a parent) is "no".
function exists(p: string): boolean {
  try {
    return existsSync(p);
  } catch {
    return false;
  }
}

/** str.split() with no argument: runs of (Unicode) whitespace. */
function pySplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const ch of s) {
    if (pyIsSpace(ch)) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

export interface ReadOptions {
  /** as given on the command line: errors and section_to_file name it so */
  configfile: string;
  /** the ENV_* names (parser.expansions), extended later in place */
  environ: Names;
  /** platform.node() */
  hostNodeName: string;
  cwd: string;
}

export function readConfigFiles(o: ReadOptions): ReadFiles {
  const { configfile } = o;
  const here = abspath(dirname(configfile), o.cwd);
  if (!exists(configfile)) throw new ValueError(`could not find config file ${configfile}`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(configfile);
  } catch {
    throw new ValueError(`could not read config file ${configfile}`);
  }
  const doc = newIniDocument();
  const mainText = readInto(doc, bytes, configfile);
  const parser = new ConfigParser(doc, o.environ, configfile);
  const warnings: string[] = [];
  const infos: string[] = [];

  if (parser.has_section('include')) {
    parser.expand_here(here);
    const raw = parser.raw('include', 'files');
    if (raw === undefined) throw new ValueError('.ini file has [include] section, but no files setting');
    const names: Names = { here, host_node_name: o.hostNodeName, ...o.environ };
    const base = dirname(abspath(configfile, o.cwd));
    // Patterns are relative to the main file; files they bring in are not
    // searched for [include] again (read_config looks at the main file's only).
    for (const p of pySplit(expand(raw, names, 'include.files'))) {
      const pattern = join(base, p);
      const filenames = glob(pattern);
      if (filenames.length === 0) {
        warnings.push(`No file matches via include "${pattern}"`);
        continue;
      }
      for (const filename of filenames.sort(pyCompare)) {
        infos.push(`Included extra file "${filename}" during parsing`);
        // RawConfigParser.read skips a file it cannot open (a directory, no permission).
        let inc: Buffer;
        try {
          inc = readFileSync(filename);
        } catch {
          continue;
        }
        readInto(doc, inc, filename);
        parser.expand_here(abspath(dirname(filename), o.cwd));
      }
    }
  }
  return { parser, mainText, warnings, infos };
}
