// SPDX-License-Identifier: MIT
// The pure pieces of fastvisor's supervisorctl against the Python they copy, run
// on the same inputs: cmd.Cmd's parseline and columnize, str.split, normpath,
// namespecs, and the Controller's tab completion (which the terminal tests can
// only check loosely, since readline redraws differ).
import { afterAll, describe, expect, it } from 'vitest';

import { complete, currentWord } from '../../../src/ctl/completion.js';
import { normalizePath } from '../../../src/ctl/config.js';
import { normpath } from '../../../src/config/pypath.js';
import { Controller, parseline } from '../../../src/ctl/controller.js';
import { columnize, makeNamespec, pySplit, splitNamespec } from '../../../src/ctl/py.js';
import { python } from '../../helpers/python.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

afterAll(() => removeTmpDirs());

const LINES = [
  '',
  '   ',
  'status',
  '  status  web  ',
  '?',
  '?status',
  '? status',
  '!ls -l',
  'status-x',
  'STATUS',
  'tail\t-f\x0bweb',
  'help\u00a0status',
  'start\u2003web\u3000b',
  '_x y',
  'é status',
  '9lives',
  'a:b c',
  'status\x1cweb\x1fx\x85y',
];

describe('parity with the Python supervisorctl is built from', () => {
  it('cmd.Cmd.parseline', () => {
    const py = python<Array<[string | null, string | null, string]>>(
      'import cmd,json,sys\nc=cmd.Cmd()\nprint(json.dumps([list(c.parseline(l)) for l in json.load(sys.stdin)]))',
      LINES,
    );
    expect(LINES.map((l) => {
      const [cmd, arg, line] = parseline(l);
      // Python returns (None, None, line) where we return undefined and ''.
      return cmd === undefined ? [null, null, line] : [cmd, arg, line];
    })).toEqual(py);
  });

  it('str.split()', () => {
    const py = python<string[][]>('import json,sys\nprint(json.dumps([l.split() for l in json.load(sys.stdin)]))', LINES);
    expect(LINES.map(pySplit)).toEqual(py);
  });

  it('cmd.Cmd.columnize', () => {
    const words = 'add avail clear exit fg maintail open pid quit reload remove reread restart shutdown signal start status stop tail update version a-much-longer-command-name x y ünïcode'.split(' ');
    const lists: Array<[string[], number]> = [];
    for (let n = 0; n <= words.length; n += 3) for (const w of [20, 40, 79, 120]) lists.push([words.slice(0, n), w]);
    lists.push([['only'], 79], [['averyveryverylongwordthatdoesnotfit', 'x'], 10]);
    const py = python<string[][]>(
      'import cmd,io,json,sys\nout=[]\nfor words,w in json.load(sys.stdin):\n' +
        '  c=cmd.Cmd(stdout=io.StringIO()); c.columnize(words,w); out.append(c.stdout.getvalue().split("\\n")[:-1])\n' +
        'print(json.dumps(out))',
      lists,
    );
    expect(lists.map(([l, w]) => columnize(l, w))).toEqual(py);
  });

  it('options.py split_namespec and make_namespec', () => {
    const specs = ['web', 'grp:a', 'grp:*', 'grp:', ':x', 'a:b:c', ':', ''];
    const py = python<Array<[string, string | null, string]>>(
      'import json,sys\nfrom supervisor.options import split_namespec, make_namespec\n' +
        'print(json.dumps([[*split_namespec(s), make_namespec(*split_namespec(s))] for s in json.load(sys.stdin)]))',
      specs,
    );
    expect(specs.map((s) => {
      const [g, p] = splitNamespec(s);
      return [g, p ?? null, makeNamespec(g, p ?? 'None')];
    })).toEqual(py);
  });

  it('os.path.normpath and options.py normalize_path', () => {
    const paths = ['', '.', '/', '//', '///', '//a//b', 'a/../..', '../x', '/a/./b/../c/', 'rel/./x/../s.sock', '~/x', '~root/y', 'a//b/'];
    const py = python<Array<[string, string]>>(
      'import json,os,sys\nos.chdir("/tmp")\nfrom supervisor.options import normalize_path\n' +
        'print(json.dumps([[os.path.normpath(p) if p else ".", normalize_path(p)] for p in json.load(sys.stdin)]))',
      paths,
    );
    expect(paths.map((p) => [normpath(p), normalizePath(p, '/tmp')])).toEqual(py);
  });

  it('Controller.complete', async () => {
    const infos = [
      { name: 'web', group: 'web' },
      { name: 'a', group: 'grp' },
      { name: 'b', group: 'grp' },
      { name: 'np_0', group: 'np' },
      { name: 'np_1', group: 'np' },
      { name: 'x-y', group: 'x-y' },
    ];
    const lines = ['', 'st', 'sta', 'status', 'status ', 'status w', 'status grp', 'status grp:', 'status grp:a',
      'start np:', 'stop x-', 'tail -f ', 'add ', 'add g', 'remove n', 'update ', 'help ', 'help st', 'he ',
      'h ', 'p ', 'lp ', 'pid ', 'foo ', 'status web w', 'fg ', 'signal ', 'clear g', 'restart ', 'e', 'q'];
    const py = python<string[][]>(
      'import json,os,sys,tempfile\nfrom supervisor.options import ClientOptions\nfrom supervisor.supervisorctl import Controller\n' +
        'data=json.load(sys.stdin)\n' +
        'f=tempfile.NamedTemporaryFile("w",suffix=".conf",delete=False); f.write("[supervisorctl]\\n"); f.close()\n' +
        'o=ClientOptions(); o.realize(["-c",f.name,"help"]); os.unlink(f.name)\n' +
        'c=Controller(o); out=[]\n' +
        'for line,text in data["cases"]:\n' +
        '  c._complete_info=data["infos"]; got=[]\n' +
        '  while (m := c.complete(text,len(got),line=line)) is not None: got.append(m)\n' +
        '  out.append(got)\n' +
        'print(json.dumps(out))',
      { infos, cases: lines.map((l) => [l, currentWord(l)]) },
    );
    const ctl = new Controller(
      { configfile: null, interactive: true, serverurl: 'http://127.0.0.1:1', username: null, password: null, prompt: 'supervisor', historyFile: null, args: [] },
      { stdout: { write: () => true }, stderr: { write: () => true }, stdin: process.stdin, env: {}, cwd: '/', progname: 'x' },
    );
    const ours: string[][] = [];
    for (const line of lines) {
      ctl.completeInfo = infos;
      ours.push(await complete(ctl, line, currentWord(line)));
    }
    expect(ours).toEqual(py);
  });
});
