// SPDX-License-Identifier: MIT
// readIni against supervisord's own UnhosedConfigParser: the same files read by
// both, sections, options, values, section_to_file and error messages compared.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  get,
  MissingSectionHeaderError,
  newIniDocument,
  options,
  ParsingError,
  readIni,
  type IniDocument,
} from '../../../src/config/ini-reader.js';
import { python } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';
import { rng } from '../../helpers/rng.js';

afterAll(removeTmpDirs);

// Each case is one parser fed the main file, then the others as [include]d files.
const fixed: Record<string, string[]> = {
  'the sample.conf shape': [
    '[unix_http_server]\nfile=/tmp/supervisor.sock   ; the path to the socket file\n;chmod=0700\n\n' +
      '[supervisord]\nlogfile=/tmp/supervisord.log ; main log file\n\n' +
      '[rpcinterface:supervisor]\n' +
      'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n' +
      '[program:cat]\ncommand=/bin/cat\n\n[include]\nfiles = relative/directory/*.ini\n',
  ],
  'both delimiters, the first one splits': ['[s]\na = 1\nb: 2\nc:d=e\nf=g:h\ni :j\n'],
  'option names lower-cased, section names kept': ['[Program:X]\nCommand=/bin/cat\nAUTOSTART = True\n'],
  'inline comments need whitespace before them': [
    '[s]\na=b ;c\nd=e;f\nurl=http://h/#frag\nenv=A="x;y"\ncmd=bash -c \'foo ; bar\'\nt=x\t#tab comment\n',
  ],
  "the search quirk: ';' found first wins over an earlier '#'": ['[s]\na=x#y #z ;w\nb=p;q ;r #s\nc=1 #2 ;3\n'],
  'full-line comments, indented too': ['# top\n; top\n[s]\n  # indented\na=1\n    ; indented\nb=2\n'],
  'continuation lines': ['[include]\nfiles = a.conf\n   b.conf\n\tc.conf ; comment\n  d.conf\n'],
  'blank lines inside a value are kept, trailing ones dropped': ['[s]\na = 1\n\n  2\n\n\n  3\n\n\nb = 4\n\n'],
  'comment lines inside a value are skipped': ['[s]\na = 1\n# c\n  2\n  ; c\n  3\n'],
  'whitespace-only lines inside a value': ['[s]\na = 1\n   \n  2\n'],
  'an indented header or option continues the value': ['[s]\na = 1\n  [t]\n  b = 2\nc = 3\n'],
  'an indented first option sets the indent': ['[s]\n   a = 1\n b = 2\n  c = 3\n'],
  'a section header with junk after it': ['[s] junk\na=1\n[t];x\nb=2\n[a]b]\nc=3\n[ sp ]\nd=4\n'],
  'duplicate sections merge, duplicate options replace in place': ['[s]\na=1\nb=2\n[t]\nx=1\n[s]\nc=3\na=4\n'],
  'DEFAULT is not a section and shows through': [
    '[DEFAULT]\nautostart=false\n[program:x]\ncommand=c\n[DEFAULT]\nd=1\n',
  ],
  'empty values': ['[s]\na=\nb =   \nc:\n'],
  'values keep %': ['[s]\na=100%%\nb=%(here)s/x\nc=%\n'],
  'CRLF and CR line endings': ['[s]\r\na = 1\r\n  2\r\nb = 3\rc = 4\r  5\r'],
  'Unicode whitespace strips as Python strips': [
    '[s]\nk\u00a0=\u00a0v\u00a0\n\u3000m = n\u3000\nx=\u0085y\u0085\nz=\u001c1\u001c\nw=\ufeffq\ufeff\n',
  ],
  'non-ASCII names and values': ['[prögram:ünï]\nCÖMMAND = /bin/ëcho ✓ ; ✓\n'],
  'no section header': ['a = 1\n[s]\n'],
  'no section header after comments and blank lines': ['; c\n\n# c\n  x\n'],
  'a BOM is kept, so the first header fails': ['\ufeff[supervisord]\n'],
  'bad lines are collected': ['[s]\nbogus line without equals\na=1\n=x\n  cont\n:y\nok=1\n[]\n'],
  'a continuation after a bad line joins the previous option': ['[s]\na = 1\nbogus\n  more\n'],
  'an empty file': [''],
  'only comments': ['; nothing\n'],
  'no trailing newline': ['[s]\na = 1\n  2'],
  'included files merge, sections remember their first file': [
    '[supervisord]\n[program:a]\ncommand=a\n[include]\nfiles=x\n',
    '[program:a]\ncommand=a2\nautostart=false\n[program:b]\ncommand=b\n',
    '[program:b]\ncommand=b3\n[group:g]\nprograms=a,b\n',
  ],
  'an included file starts without a current section': ['[s]\na=1\n', '  b=2\n'],
  'an included file with bad lines': ['[s]\na=1\n', '[t]\nbad\n'],
  'a value cannot continue into the next file': ['[s]\na=1\n', '[s]\n  b=2\nc=3\n'],
};

const LINES = ['[s]', '[S]', '[program:x]', '[DEFAULT]', '  [s]', '[]', '[a]b]', '[t] ;c', 'a=1', 'A = 2', 'b: 3',
  'c =', '=x', ':y', 'bogus', '  cont', '\tcont2', '    deep = er', '', '   ', '; comment', '# comment',
  '  ; indented', 'x=1 ;c', 'x=1;c', 'u=http://h/#f', 'q="a;b" #c', 'k = v # c ; d', 'a=x#y #z ;w', 'é=ü',
  'K\u00a0=\u00a0v', 'v=\u0085x\u0085', ' key with space = v ', 'a:b=c', '[ sp ]', '\u3000i=1', '%(here)s=%%'];
const ENDINGS = ['\n', '\n', '\n', '\r\n', '\r'];

function generated(count: number, seed: number): string[] {
  const r = rng(seed);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let text = r() < 0.8 ? '[s]\n' : '';
    const n = 1 + Math.floor(r() * 12);
    for (let j = 0; j < n; j++) {
      text += LINES[Math.floor(r() * LINES.length)]!;
      if (j < n - 1 || r() < 0.8) text += ENDINGS[Math.floor(r() * ENDINGS.length)]!;
    }
    out.push(text);
  }
  return out;
}

const GENERATED = generated(600, 42);
const dir = tmpDir('fv-ini-');
const cases: Array<{ name: string; files: string[] }> = [
  ...Object.entries(fixed).map(([name, texts]) => ({ name, texts })),
  ...GENERATED.map((text, i) => ({ name: `generated #${i}`, texts: [text] })),
].map(({ name, texts }, c) => ({
  name,
  files: texts.map((text, f) => {
    const file = path.join(dir, `case${c}-${f}.conf`);
    writeFileSync(file, text);
    return file;
  }),
}));

interface Read {
  sections?: Array<[string, Array<[string, string]>]>;
  defaults?: Array<[string, string]>;
  section_to_file?: Record<string, string>;
  error?: [string, string];
}

// supervisord opens the main file itself and hands it to read_file(); [include]d
// files go through its read() override, which fills section_to_file.
const expected = python<Read[]>(
  `import json, sys, configparser
from supervisor.options import UnhosedConfigParser
out = []
for files in json.load(sys.stdin):
    p = UnhosedConfigParser()
    try:
        with open(files[0], 'r', encoding='utf-8') as fp:
            p.read_file(fp)
        for f in files[1:]:
            p.read(f, encoding='utf-8')
        out.append({"sections": [[s, list(o.items())] for s, o in p._sections.items()],
                    "defaults": list(p._defaults.items()), "section_to_file": p.section_to_file})
    except configparser.Error as e:
        out.append({"error": [type(e).__name__, str(e)]})
print(json.dumps(out))`,
  cases.map((c) => c.files),
);

function ours(files: string[]): Read {
  const doc = newIniDocument();
  try {
    for (const f of files) readIni(readFileSync(f, 'utf8'), f, doc);
  } catch (e) {
    if (e instanceof ParsingError) return { error: [e.name, e.message] };
    throw e;
  }
  const section_to_file: Record<string, string> = {};
  for (const s of doc.sections.values()) if (s.file !== files[0]) section_to_file[s.name] = s.file;
  return {
    sections: [...doc.sections.values()].map((s) => [s.name, [...s.options.values()].map((o) => [o.name, o.value])]),
    defaults: [...doc.defaults.values()].map((o) => [o.name, o.value]),
    section_to_file,
  };
}

describe('readIni', () => {
  const named = cases.map((c, i) => [c.name, c.files, expected[i]!] as const);

  it.each(named.slice(0, Object.keys(fixed).length))('%s: as UnhosedConfigParser reads it', (_name, files, want) => {
    expect(ours(files)).toEqual(want);
  });

  it(`agrees with UnhosedConfigParser on ${GENERATED.length} generated files`, () => {
    const mismatches = named
      .slice(Object.keys(fixed).length)
      .map(([name, files, want]) => ({ name, text: readFileSync(files[0]!, 'utf8'), want, got: ours(files) }))
      .filter((m) => JSON.stringify(m.got) !== JSON.stringify(m.want));
    expect(mismatches.slice(0, 3)).toEqual([]);
    // The generator must keep producing readable files, some with multi-line values.
    const readable = expected.slice(Object.keys(fixed).length).filter((r) => r.sections);
    expect(readable.length).toBeGreaterThan(150);
    const multiLine = readable.filter((r) => r.sections!.some(([, o]) => o.some(([, v]) => v.includes('\n'))));
    expect(multiLine.length).toBeGreaterThan(20);
  });

  it("words a parsing error as Python does, which supervisord prints after 'Error: '", () => {
    expect(() => readIni('[s]\nbogus line without equals\n', '/etc/bad.conf')).toThrow(
      "Source contains parsing errors: '/etc/bad.conf'\n\t[line  2]: 'bogus line without equals\\n'",
    );
    expect(() => readIni('a=1\n', 'x.conf')).toThrow(MissingSectionHeaderError);
    expect(() => readIni('a=1\n', 'x.conf')).toThrow(
      "File contains no section headers.\nfile: 'x.conf', line: 1\n'a=1\\n'",
    );
  });

  it('records the file and line of each option and section', () => {
    const doc = readIni('[s]\n\na = 1\n  2\n[t]\nb=1\n', 'main.conf');
    readIni('[s]\na = 3\n', 'inc.conf', doc);
    expect(doc.sections.get('s')).toMatchObject({ file: 'main.conf', line: 1 });
    expect(doc.sections.get('s')!.options.get('a')).toEqual({ name: 'a', value: '3', file: 'inc.conf', line: 2 });
    expect(doc.sections.get('t')!.options.get('b')).toMatchObject({ file: 'main.conf', line: 6 });
  });
});

describe('options and get', () => {
  const doc: IniDocument = readIni('[DEFAULT]\nautostart=false\nb=0\n[program:x]\ncommand=c\nB=1\n', 'f');

  it('options(): the section first, then DEFAULT', () => {
    expect(options(doc, 'program:x')).toEqual(['command', 'b', 'autostart']);
    expect(() => options(doc, 'nope')).toThrow("No section: 'nope'");
  });

  it('get(): the section wins over DEFAULT, names are case-insensitive', () => {
    expect(get(doc, 'program:x', 'AUTOSTART')?.value).toBe('false');
    expect(get(doc, 'program:x', 'b')?.value).toBe('1');
    expect(get(doc, 'program:x', 'nope')).toBeUndefined();
    expect(get(doc, 'DEFAULT', 'b')?.value).toBe('0');
    expect(() => get(doc, 'nope', 'b')).toThrow("No section: 'nope'");
  });
});
