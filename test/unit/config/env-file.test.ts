// SPDX-License-Identifier: MIT
// environment_file=: the option's path list, the dotenv syntax line by line,
// and reading real files (missing, optional, unreadable, hostile).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  ENV_FILE_MAX_BYTES,
  EnvFileError,
  parseEnvFileList,
  parseEnvText,
  readEnvFiles,
} from '../../../src/config/env-file.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterAll(removeTmpDirs);

const dir = tmpDir('fv-env-file-');
let seq = 0;
function file(content: string | Buffer): string {
  const p = path.join(dir, `f${seq++}.env`);
  writeFileSync(p, content);
  return p;
}

const parse = (text: string) => ({ ...parseEnvText(text, '/x/app.env') });

function errorOf(fn: () => unknown): EnvFileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EnvFileError);
    return err as EnvFileError;
  }
  throw new Error('expected an EnvFileError');
}

const parseError = (text: string) => errorOf(() => parseEnvText(text, '/x/app.env')).message;

describe('parseEnvFileList', () => {
  it('splits on commas, trims, drops blank entries, marks - as optional', () => {
    expect(parseEnvFileList(' /etc/app.env , -/srv/local.env,, ,-  /a b.env ')).toEqual([
      { path: '/etc/app.env', optional: false },
      { path: '/srv/local.env', optional: true },
      { path: '/a b.env', optional: true },
    ]);
  });

  it('accepts a continuation-line list (newlines separate too)', () => {
    expect(parseEnvFileList('/a.env\n  -/b.env')).toEqual([
      { path: '/a.env', optional: false },
      { path: '/b.env', optional: true },
    ]);
  });

  it('is empty for an empty value', () => {
    expect(parseEnvFileList('')).toEqual([]);
    expect(parseEnvFileList(' , ')).toEqual([]);
  });

  it('refuses a relative path and a bare -', () => {
    expect(errorOf(() => parseEnvFileList('app.env')).message).toBe(
      'environment_file app.env: not an absolute path (use %(here)s for one next to the config file)',
    );
    expect(errorOf(() => parseEnvFileList('/a.env, -')).message).toBe("environment_file '-': no path after the leading -");
  });
});

describe('parseEnvText: syntax', () => {
  it('reads KEY=VALUE lines', () => {
    expect(parse('A=1\nB=two words\n')).toEqual({ A: '1', B: 'two words' });
  });

  it('skips blank lines and comment lines', () => {
    expect(parse('\n   \n\t\n# a comment\n   # indented comment\nA=1\n#B=2\n')).toEqual({ A: '1' });
  });

  it('is empty for an empty text', () => {
    expect(parse('')).toEqual({});
  });

  it('strips an export prefix', () => {
    expect(parse('export A=1\nexport\tB=2\nexport   C = 3')).toEqual({ A: '1', B: '2', C: '3' });
  });

  it('treats export as a name when no name follows it', () => {
    expect(parse('export=1')).toEqual({ export: '1' });
    expect(parse('export = 2')).toEqual({ export: '2' });
    expect(parse('exportA=3')).toEqual({ exportA: '3' });
  });

  it('trims blanks around the key and around an unquoted value', () => {
    expect(parse('  A  =  x y  \n\tB\t=\tz\t')).toEqual({ A: 'x y', B: 'z' });
  });

  it('takes the first = as the separator; later ones are data', () => {
    expect(parse('A=b=c==')).toEqual({ A: 'b=c==' });
  });

  it('accepts empty values', () => {
    expect(parse('A=\nB=  \nC=""\nD=\'\'')).toEqual({ A: '', B: '', C: '', D: '' });
  });

  it('accepts CRLF line ends and a leading BOM', () => {
    expect(parse('\uFEFFA=1\r\nB="x"\r\n')).toEqual({ A: '1', B: 'x' });
  });

  it('keeps an unquoted value literal: quotes inside, backslashes, $', () => {
    expect(parse(`A=it's\nB=a"b\nC=C:\\dir\\n\nD=$HOME`)).toEqual({ A: "it's", B: 'a"b', C: 'C:\\dir\\n', D: '$HOME' });
  });

  it('later lines win', () => {
    expect(parse('A=1\nB=x\nA=2\nexport A=3')).toEqual({ A: '3', B: 'x' });
  });

  it('is case-sensitive in names', () => {
    expect(parse('a=1\nA=2')).toEqual({ a: '1', A: '2' });
  });

  it('accepts names with _ . - and digits after the first character', () => {
    expect(parse('_A=1\na.b=2\nx-y=3\nK9=4\nserver.port_2-x=5')).toEqual({
      _A: '1',
      'a.b': '2',
      'x-y': '3',
      K9: '4',
      'server.port_2-x': '5',
    });
  });

  it('keeps __proto__ and constructor as ordinary names', () => {
    const env = parseEnvText('__proto__=p\nconstructor=c', '/x/app.env');
    expect(Object.keys(env)).toEqual(['__proto__', 'constructor']);
    expect(env['__proto__']).toBe('p');
    expect(env.constructor).toBe('c');
  });
});

describe('parseEnvText: inline comments', () => {
  it('a # after a blank ends an unquoted value', () => {
    expect(parse('A=b #c\nB=b\t# c\nC= #only a comment\nD=x # y # z')).toEqual({ A: 'b', B: 'b', C: '', D: 'x' });
  });

  it('a # not after a blank is data', () => {
    expect(parse('A=b#c\nB=#c\nC=a#b #c')).toEqual({ A: 'b#c', B: '#c', C: 'a#b' });
  });

  it('a # inside quotes is data; a comment may follow the closing quote', () => {
    expect(parse(`A="b #c"\nB='b #c'\nC="x" # y\nD='x'\t#y`)).toEqual({ A: 'b #c', B: 'b #c', C: 'x', D: 'x' });
  });
});

describe('parseEnvText: quoting', () => {
  it('single quotes are literal', () => {
    expect(parse(`A='  a b  '\nB='\\n\\t\\\\'\nC='say "hi"'\nD='$X #y'`)).toEqual({
      A: '  a b  ',
      B: '\\n\\t\\\\',
      C: 'say "hi"',
      D: '$X #y',
    });
  });

  it('double quotes keep blanks and know \\n \\t \\" \\\\', () => {
    expect(parse(`A="  a b  "\nB="x\\ny"\nC="x\\ty"\nD="say \\"hi\\""\nE="back\\\\slash"\nF="it's"`)).toEqual({
      A: '  a b  ',
      B: 'x\ny',
      C: 'x\ty',
      D: 'say "hi"',
      E: 'back\\slash',
      F: "it's",
    });
  });

  it('\\\\ before a quote does not escape the quote', () => {
    expect(parse(`A="x\\\\"`)).toEqual({ A: 'x\\' });
  });

  it('trims blanks outside the quotes', () => {
    expect(parse(`A =  "v"  \nB=\t'w'\t`)).toEqual({ A: 'v', B: 'w' });
  });

  it('refuses any other backslash escape in double quotes, without quoting the value', () => {
    for (const seq of ['\\$', '\\r', '\\a', '\\x41', "\\'", '\\ ']) {
      const msg = parseError(`OK=1\nSECRET="pa${seq}ss"`);
      expect(msg).toBe(
        'environment_file /x/app.env, line 2: unsupported backslash escape in double quotes (only \\n \\t \\" \\\\)',
      );
      expect(msg).not.toContain('pa');
    }
  });

  it('refuses an unterminated quote (a value is one line)', () => {
    expect(parseError(`A="abc\nB=1"`)).toBe('environment_file /x/app.env, line 1: unterminated double quote');
    expect(parseError(`A=1\nB='abc`)).toBe('environment_file /x/app.env, line 2: unterminated single quote');
    expect(parseError(`A="abc\\"`)).toBe('environment_file /x/app.env, line 1: unterminated double quote');
    expect(parseError(`A="abc\\`)).toBe('environment_file /x/app.env, line 1: unterminated double quote');
  });

  it('refuses text after the closing quote, unless it is a blank-led comment', () => {
    for (const v of [`"a"b`, `'a'b`, `"a" b`, `"a"#c`, `'a''b'`]) {
      expect(parseError(`A=${v}`)).toBe('environment_file /x/app.env, line 1: unexpected text after the closing quote');
    }
  });
});

describe('parseEnvText: errors name the file and the line', () => {
  it('a line without =', () => {
    expect(parseError('A=1\n# c\nsecretvalue\nB=2')).toBe('environment_file /x/app.env, line 3: expected KEY=VALUE');
  });

  it('export with no assignment', () => {
    expect(parseError('export A')).toBe('environment_file /x/app.env, line 1: expected KEY=VALUE');
  });

  it('counts blank lines, comment lines and CRLF lines', () => {
    expect(parseError('\r\n# x\r\n\r\nA=1\r\nbad\r\n')).toBe('environment_file /x/app.env, line 5: expected KEY=VALUE');
  });

  it('an invalid name, without echoing it', () => {
    for (const key of ['1A', 'A B', 'é', 'a/b', '-a', '.a', '', 'A$', 'abc+/def']) {
      const msg = parseError(`OK=1\n${key}=v`);
      expect(msg).toBe('environment_file /x/app.env, line 2: invalid variable name (allowed: [A-Za-z_][A-Za-z0-9_.-]*)');
    }
  });

  it('the error carries the file and the line', () => {
    const err = errorOf(() => parseEnvText('A=1\n\nB', '/y.env'));
    expect(err.file).toBe('/y.env');
    expect(err.line).toBe(3);
    expect(err.name).toBe('EnvFileError');
    expect(err).toBeInstanceOf(Error);
  });
});

describe('readEnvFiles: real files', () => {
  it('reads one file', () => {
    const a = file('export A=1\nB="two\\nlines" # note\n');
    expect({ ...readEnvFiles([{ path: a, optional: false }]) }).toEqual({ A: '1', B: 'two\nlines' });
  });

  it('merges several files in order: later files win', () => {
    const a = file('A=from-a\nB=from-a\n');
    const b = file('B=from-b\nC=from-b\n');
    const c = file('C=from-c\n');
    expect({ ...readEnvFiles(parseEnvFileList(`${a}, ${b},${c}`)) }).toEqual({ A: 'from-a', B: 'from-b', C: 'from-c' });
    expect({ ...readEnvFiles(parseEnvFileList(`${c}, ${b},${a}`)) }).toEqual({ A: 'from-a', B: 'from-a', C: 'from-b' });
  });

  it('is empty for no files and for an empty file', () => {
    expect({ ...readEnvFiles([]) }).toEqual({});
    expect({ ...readEnvFiles([{ path: file(''), optional: false }]) }).toEqual({});
  });

  it('reads the file again on each call (an edit applies at the next spawn)', () => {
    const a = file('A=1\n');
    const refs = [{ path: a, optional: false }];
    expect(readEnvFiles(refs).A).toBe('1');
    writeFileSync(a, 'A=2\n');
    expect(readEnvFiles(refs).A).toBe('2');
  });

  it('skips a missing optional file silently', () => {
    const a = file('A=1\n');
    const missing = path.join(dir, 'missing.env');
    expect({ ...readEnvFiles(parseEnvFileList(`-${missing}, ${a}, -${path.join(dir, 'nodir', 'x.env')}`)) }).toEqual({
      A: '1',
    });
  });

  it('skips an optional path whose directory part is a file (ENOTDIR)', () => {
    const a = file('A=1\n');
    expect({ ...readEnvFiles([{ path: path.join(a, 'x.env'), optional: true }]) }).toEqual({});
  });

  it('skips an optional dangling symlink (the file is missing)', () => {
    const link = path.join(dir, 'dangling-optional.env');
    symlinkSync(path.join(dir, 'nowhere.env'), link);
    expect({ ...readEnvFiles([{ path: link, optional: true }]) }).toEqual({});
  });

  it('refuses a missing file that is not optional', () => {
    const missing = path.join(dir, 'missing.env');
    expect(errorOf(() => readEnvFiles(parseEnvFileList(missing))).message).toBe(
      `environment_file ${missing}: No such file or directory`,
    );
    const notDir = path.join(file('A=1'), 'x.env');
    expect(errorOf(() => readEnvFiles([{ path: notDir, optional: false }])).message).toBe(
      `environment_file ${notDir}: Not a directory`,
    );
  });

  it('refuses a dangling symlink that is not optional', () => {
    const link = path.join(dir, 'dangling.env');
    symlinkSync(path.join(dir, 'nowhere.env'), link);
    expect(errorOf(() => readEnvFiles([{ path: link, optional: false }])).message).toBe(
      `environment_file ${link}: No such file or directory`,
    );
  });

  it('refuses a directory, optional or not', () => {
    const d = path.join(dir, 'a-directory');
    mkdirSync(d);
    for (const optional of [false, true]) {
      expect(errorOf(() => readEnvFiles([{ path: d, optional }])).message).toBe(`environment_file ${d}: Is a directory`);
    }
  });

  it('refuses a FIFO without blocking on it', () => {
    const fifo = path.join(dir, 'fifo.env');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here: nothing to test
    }
    expect(errorOf(() => readEnvFiles([{ path: fifo, optional: false }])).message).toBe(
      `environment_file ${fifo}: not a regular file`,
    );
  });

  it('refuses a character device (/dev/zero would never end)', () => {
    expect(errorOf(() => readEnvFiles([{ path: '/dev/zero', optional: false }])).message).toBe(
      'environment_file /dev/zero: not a regular file',
    );
  });

  it.skipIf(process.getuid?.() === 0)('refuses an unreadable file, optional or not', () => {
    const a = file('A=1\n');
    chmodSync(a, 0o000);
    for (const optional of [false, true]) {
      expect(errorOf(() => readEnvFiles([{ path: a, optional }])).message).toBe(`environment_file ${a}: Permission denied`);
    }
  });

  it('a syntax error names the file and the line', () => {
    const good = file('A=1\n');
    const bad = file('# header\nA=1\n\nexport B=2\nnot an assignment\n');
    expect(errorOf(() => readEnvFiles(parseEnvFileList(`${good}, -${bad}`))).message).toBe(
      `environment_file ${bad}, line 5: expected KEY=VALUE`,
    );
  });

  it('refuses a file over the size limit, and reads one at the limit', () => {
    const line = 'A=' + 'x'.repeat(1021) + '\n'; // 1024 bytes
    const atLimit = file(line.repeat(ENV_FILE_MAX_BYTES / 1024));
    expect(readEnvFiles([{ path: atLimit, optional: false }]).A).toHaveLength(1021);
    const over = file(line.repeat(ENV_FILE_MAX_BYTES / 1024) + 'B=1\n');
    expect(errorOf(() => readEnvFiles([{ path: over, optional: false }])).message).toBe(
      `environment_file ${over}: file is larger than 1 MiB`,
    );
  });

  it('refuses a NUL byte, naming its line', () => {
    const a = file(Buffer.from('A=1\nB=x\0y\n'));
    expect(errorOf(() => readEnvFiles([{ path: a, optional: false }])).message).toBe(
      `environment_file ${a}, line 2: NUL byte`,
    );
  });

  it('refuses invalid UTF-8, naming its line; valid UTF-8 passes', () => {
    const good = file('A=héllo €\n');
    expect(readEnvFiles([{ path: good, optional: false }]).A).toBe('héllo €');
    for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      const bad = file(Buffer.concat([Buffer.from('A=1\n\nB=x'), Buffer.from(bytes), Buffer.from('\nC=3\n')]));
      expect(errorOf(() => readEnvFiles([{ path: bad, optional: false }])).message).toBe(
        `environment_file ${bad}, line 3: invalid UTF-8`,
      );
    }
  });

  it('stops at the first failing file', () => {
    const missing = path.join(dir, 'missing-first.env');
    const bad = file('bad\n');
    expect(errorOf(() => readEnvFiles(parseEnvFileList(`${missing}, ${bad}`))).message).toBe(
      `environment_file ${missing}: No such file or directory`,
    );
  });
});

describe('readEnvFiles: injected reader', () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: boom`), { code });

  it('reads through the given function, in order', () => {
    const files: Record<string, string> = { '/a.env': 'A=1\nB=1', '/b.env': 'B=2' };
    const seen: string[] = [];
    const read = (p: string) => {
      seen.push(p);
      return Buffer.from(files[p]!);
    };
    expect({ ...readEnvFiles(parseEnvFileList('/a.env,/b.env'), read) }).toEqual({ A: '1', B: '2' });
    expect(seen).toEqual(['/a.env', '/b.env']);
  });

  it('turns errno errors into strerror text; optional skips only a missing file', () => {
    expect({ ...readEnvFiles([{ path: '/o.env', optional: true }], () => { throw errno('ENOENT'); }) }).toEqual({});
    expect(errorOf(() => readEnvFiles([{ path: '/o.env', optional: true }], () => { throw errno('EIO'); })).message).toBe(
      'environment_file /o.env: Input/output error',
    );
    expect(errorOf(() => readEnvFiles([{ path: '/o.env', optional: false }], () => { throw errno('EWEIRD'); })).message).toBe(
      'environment_file /o.env: EWEIRD',
    );
    expect(errorOf(() => readEnvFiles([{ path: '/o.env', optional: false }], () => { throw new Error('x'); })).message).toBe(
      'environment_file /o.env: cannot be read',
    );
  });

  it('applies the size, NUL and UTF-8 checks to what it returns', () => {
    const ref = [{ path: '/i.env', optional: false }];
    expect(errorOf(() => readEnvFiles(ref, () => Buffer.alloc(ENV_FILE_MAX_BYTES + 1, 0x0a))).message).toBe(
      'environment_file /i.env: file is larger than 1 MiB',
    );
    expect(errorOf(() => readEnvFiles(ref, () => Buffer.from('\0'))).message).toBe('environment_file /i.env, line 1: NUL byte');
    expect(errorOf(() => readEnvFiles(ref, () => Buffer.from([0x41, 0x3d, 0xfe]))).message).toBe(
      'environment_file /i.env, line 1: invalid UTF-8',
    );
  });

  it('messages are one line', () => {
    const ref = [{ path: '/i.env', optional: false }];
    const msg = errorOf(() => readEnvFiles(ref, () => Buffer.from('A="x\\q"\n'))).message;
    expect(msg).not.toContain('\n');
  });
});
