// SPDX-License-Identifier: MIT
// Basic auth compares in constant time: the user name and the password (plain or {SHA})
// each go through crypto.timingSafeEqual, both every time, so how long a 401 takes says
// nothing about which part was wrong or how much of it was right. Timing itself is not
// measured here (no timing assertions in tests): the comparisons are counted.
import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

/** Every timingSafeEqual call's arguments, in order. */
const calls: Buffer[][] = [];

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  const timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean => {
    calls.push([Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)]);
    return real.timingSafeEqual(a, b);
  };
  return { ...real, timingSafeEqual };
});

const { checkBasicAuth } = await import('../../../src/http/auth.js');

const basic = (s: string): string => `Basic ${Buffer.from(s, 'utf8').toString('base64')}`;
const sha = (s: string): string => `{SHA}${crypto.createHash('sha1').update(s).digest('hex')}`;
beforeEach(() => {
  calls.length = 0;
});

describe('Basic auth in constant time', () => {
  it.each([
    ['right user, right password', 'user:pass', 'pass', 'ok'],
    ['right user, wrong password', 'user:pasx', 'pass', 'unauthorized'],
    ['wrong user: the password is still compared', 'usex:pass', 'pass', 'unauthorized'],
    ['a user name that is a prefix of the right one', 'use:pass', 'pass', 'unauthorized'],
    ['{SHA} password, wrong', 'user:nope', sha('pass'), 'unauthorized'],
    ['{SHA} password, right', 'user:pass', sha('pass'), 'ok'],
  ])('%s: two timingSafeEqual comparisons', (_what, creds, stored, kind) => {
    expect(checkBasicAuth(basic(creds), 'user', stored).kind).toBe(kind);
    // Fixed-length digests: the length of a guess does not show either.
    expect(calls.map(([a, b]) => [a!.length, b!.length])).toEqual([
      [32, 32],
      [32, 32],
    ]);
  });
});
