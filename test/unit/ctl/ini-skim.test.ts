// SPDX-License-Identifier: MIT
// The ctl's config read (readCtlSections), which checks the sections it does not use
// without building them, against readIni of the whole file (itself compared with
// Python's UnhosedConfigParser in test/unit/config/ini-reader.test.ts): the sections
// the ctl uses, their options, values and line numbers, and every error, the same.
import { describe, expect, it } from 'vitest';

import { readIni, type IniDocument } from '../../../src/config/ini-reader.js';
import { readCtlSections, usedByCtl, usedParts } from '../../../src/ctl/ini-skim.js';
import { rng } from '../../helpers/rng.js';

type Read = { sections: unknown; defaults: unknown } | { error: [string, string] };

function view(doc: IniDocument): Read {
  const opts = (m: IniDocument['defaults']) => [...m.values()].map((o) => [o.name, o.value, o.file, o.line]);
  return {
    sections: [...doc.sections.values()].filter((s) => usedByCtl(s.name)).map((s) => [s.name, s.file, s.line, opts(s.options)]),
    defaults: opts(doc.defaults),
  };
}

function read(how: (text: string, file: string) => IniDocument, text: string): Read {
  try {
    return view(how(text, '/etc/x.conf'));
  } catch (e) {
    return { error: [(e as Error).name, (e as Error).message] };
  }
}

/** Takes the cheap path: no fallback to reading every section. */
const skims = (text: string): boolean => usedParts(text.endsWith('\n') ? text : text + '\n') !== undefined;

function programs(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    s +=
      `[program:w${i}]\ncommand=/bin/sleep 600 ; a comment\nautostart=true\nstartsecs=1\n` +
      `environment=A="x;y",B=2\nstdout_logfile=/tmp/w${i}.log\n\n`;
  }
  return s;
}

describe('readCtlSections', () => {
  it('reads a config of thousands of programs without building them, with the right line numbers', () => {
    const text =
      '; sample\n[unix_http_server]\nfile=/tmp/s.sock\n\n[supervisord]\nlogfile=/tmp/d.log\n\n' +
      programs(2000) +
      '[supervisorctl]\nserverurl = unix:///tmp/s.sock\nprompt = mine\n  continued\n\n[ctlplugin:x]\nsupervisor.ctl_factory = x:y\n' +
      programs(3) +
      '[DEFAULT]\nusername=u\n';
    expect(skims(text)).toBe(true);
    const doc = readCtlSections(text, '/etc/x.conf');
    expect([...doc.sections.keys()]).toEqual(['supervisorctl', 'ctlplugin:x']);
    expect(read(readCtlSections, text)).toEqual(read(readIni, text));
    expect(doc.sections.get('supervisorctl')!.options.get('prompt')).toMatchObject({ value: 'mine\ncontinued', line: 14010 });
  });

  it('an error in a section the ctl does not use is still the whole file\'s error', () => {
    const text = '[supervisorctl]\nserverurl=unix:///x\n' + programs(3) + '[program:bad]\ncommand=x\nno delimiter here\n=empty name\n';
    expect(skims(text)).toBe(false);
    const r = read(readCtlSections, text);
    expect(r).toEqual(read(readIni, text));
    expect(r).toMatchObject({ error: ['ParsingError', expect.stringContaining("[line 26]: 'no delimiter here\\n'\n\t[line 27]: '=empty name\\n'")] });
  });

  it('an error in the section it uses lists the other sections\' errors too', () => {
    const text = '[supervisorctl]\nbad\n[program:a]\n  indented first\n[program:b]\nalso bad\n';
    expect(read(readCtlSections, text)).toEqual(read(readIni, text));
  });

  // Sections of every kind the ctl uses or not, with headers and lines of every shape,
  // including the ones that must send it through the whole-file read.
  const NAMES = ['supervisorctl', 'DEFAULT', 'ctlplugin:x', 'ctlplugin:', 'program:a', 'program:b', 'supervisord',
    'supervisorctl] x', 'Supervisorctl', ' supervisorctl', 'ctlplugin', 'group:g'];
  const HEADERS = (n: string): string[] => [`[${n}]`, `[${n}]`, `[${n}]`, `[${n}]  `, `[${n}]\t`, `[${n}] ;c`, `  [${n}]`,
    `[${n}] junk`, `[${n}]\u000b`, `\ufeff[${n}]`];
  const LINES = ['a=1', 'A = 2', 'b: 3', 'c =', '=x', ':y', 'bogus', '  cont', '\tcont2', '    deep = er', '', '   ', '; comment',
    '# comment', '  ; indented', 'x=1 ;c', 'x=1;c', 'u=http://h/#f', 'q="a;b" #c', 'a=x#y #z ;w', 'é=ü', 'serverurl=unix:///s',
    'prompt = p', 'username=%(ENV_X)s', 'k ;c= v', 'k #= v', '_k=v', '9=v', 'supervisor.ctl_factory = m:f', '[x', '[]', ']',
    'K\u00a0=\u00a0v', '\u3000i=1', 'v=\u0085x\u0085', '  [supervisorctl]', 'x\u2028y=1', 'z=1\u2029[supervisorctl]'];
  const ENDINGS = ['\n', '\n', '\n', '\n', '\r\n', '\r'];

  function generated(count: number, seed: number): string[] {
    const r = rng(seed);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    const out: string[] = [];
    for (let k = 0; k < count; k++) {
      const lines: string[] = [];
      if (r() < 0.2) lines.push(pick(LINES));
      const sections = 1 + Math.floor(r() * 6);
      for (let s = 0; s < sections; s++) {
        lines.push(r() < 0.8 ? `[${pick(NAMES)}]` : pick(HEADERS(pick(NAMES))));
        const n = Math.floor(r() * 6);
        // Mostly plain options, so that most files take the cheap path.
        for (let j = 0; j < n; j++) lines.push(r() < 0.6 ? `k${j} = v${j}` : pick(LINES));
      }
      const ending = r() < 0.9 ? '\n' : pick(ENDINGS);
      let text = lines.map((l) => l + (r() < 0.95 ? ending : pick(ENDINGS))).join('');
      if (r() < 0.1) text = text.replace(/[\r\n]+$/, '');
      out.push(text);
    }
    return out;
  }

  const GENERATED = generated(3000, 7);

  it('both paths are taken by the generated files', () => {
    const cheap = GENERATED.filter(skims).length;
    expect(cheap).toBeGreaterThan(GENERATED.length * 0.2);
    expect(cheap).toBeLessThan(GENERATED.length * 0.9);
  });

  it('gives what readIni of the whole file gives, for 3000 generated files', () => {
    const differ = GENERATED.filter((text) => JSON.stringify(read(readCtlSections, text)) !== JSON.stringify(read(readIni, text)));
    expect(differ.map((t) => [t, read(readCtlSections, t), read(readIni, t)])).toEqual([]);
  });
});
