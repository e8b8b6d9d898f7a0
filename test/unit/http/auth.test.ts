// SPDX-License-Identifier: MIT
// Basic auth decisions, pinned against supervisord's own authorizer
// (supervisor.http.encrypted_dictionary_authorizer) for plain and {SHA} passwords.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { checkBasicAuth } from '../../../src/http/auth.js';
import { python } from '../../helpers/python.js';

const basic = (s: string): string => `Basic ${Buffer.from(s, 'utf8').toString('base64')}`;
const sha = (s: string): string => `{SHA}${createHash('sha1').update(s).digest('hex')}`;

describe('checkBasicAuth', () => {
  it('lets everything through on a server without a username', () => {
    expect(checkBasicAuth(undefined, null, null)).toEqual({ kind: 'ok', username: null });
    expect(checkBasicAuth('Basic garbage', null, null)).toEqual({ kind: 'ok', username: null });
  });

  it('agrees with encrypted_dictionary_authorizer on plain and {SHA} passwords', () => {
    const cases: [string, string, string, string][] = [
      ['user', 'pass', 'user', 'pass'],
      ['user', 'pass', 'user', 'wrong'],
      ['user', 'pass', 'other', 'pass'],
      ['user', sha('test'), 'user', 'test'],
      ['user', sha('test'), 'user', sha('test')],
      ['user', sha('t\u00e9st'), 'user', 't\u00e9st'],
      ['user', 'pa:ss', 'user', 'pa:ss'],
      ['user', '', 'user', ''],
      ['us\u00e9r', 'p', 'us\u00e9r', 'p'],
    ];
    const expected = python<boolean[]>(
      `import json,sys
from supervisor.http import encrypted_dictionary_authorizer
out = []
for user, stored, u, p in json.load(sys.stdin):
    out.append(bool(encrypted_dictionary_authorizer({user: stored}).authorize((u, p))))
print(json.dumps(out))`,
      cases,
    );
    const got = cases.map(([user, stored, u, p]) => checkBasicAuth(basic(`${u}:${p}`), user, stored).kind === 'ok');
    expect(got).toEqual(expected);
  });

  it('answers 401 for a missing header, another scheme, or no colon', () => {
    expect(checkBasicAuth(undefined, 'user', 'pass').kind).toBe('unauthorized');
    expect(checkBasicAuth('Digest username="user"', 'user', 'pass').kind).toBe('unauthorized');
    expect(checkBasicAuth('Basic', 'user', 'pass').kind).toBe('unauthorized');
    // supervisord: 500 (a failed tuple unpack); here it is what it is, wrong credentials.
    expect(checkBasicAuth(basic('userpass'), 'user', 'pass').kind).toBe('unauthorized');
  });

  it('reads the scheme case-insensitively, as medusa does', () => {
    expect(checkBasicAuth(basic('user:pass').replace('Basic', 'bAsIc'), 'user', 'pass').kind).toBe('ok');
  });

  it('answers 400 where base64.decodebytes raises or the bytes are not UTF-8 (medusa: malformed)', () => {
    expect(checkBasicAuth('Basic dXNlcjpwYXNzx', 'user', 'pass').kind).toBe('malformed');
    expect(checkBasicAuth('Basic dXNlcjpwYXN', 'user', 'pass').kind).toBe('malformed');
    expect(checkBasicAuth(`Basic ${Buffer.from([0x75, 0x3a, 0xff]).toString('base64')}`, 'user', 'pass').kind).toBe(
      'malformed',
    );
    // Characters outside the alphabet are skipped, as binascii does in non-strict mode.
    expect(checkBasicAuth('Basic dXNl!cjpw*YXNz', 'user', 'pass').kind).toBe('ok');
  });

  it('decodes base64 as Python does (skip junk, stop at padding, refuse dangling groups)', () => {
    const samples = ['dXNlcjpwYXNz', 'dXNl!cjpw*YXNz', 'dXNlcjpwYXNzx', 'dXNlcjpwYXN', 'dXNlcjpwYQ==', 'dXNlcjpwYQ=', 'dXNlcjpwYQ==junk'];
    const py = python<(string | null)[]>(
      `import json,sys,base64,binascii
out = []
for s in json.load(sys.stdin):
    try:
        out.append(base64.decodebytes(s.encode()).decode('latin-1'))
    except binascii.Error:
        out.append(None)
print(json.dumps(out))`,
      samples,
    );
    const ours = samples.map((s) => {
      const r = checkBasicAuth(`Basic ${s}`, 'x', 'y');
      return r.kind === 'malformed' ? null : 'decoded';
    });
    expect(ours).toEqual(py.map((v) => (v === null ? null : 'decoded')));
  });
});
