// SPDX-License-Identifier: MIT
// Faults and RPCError against supervisor.xmlrpc, which clients and supervisorctl decide by.
import { describe, expect, it } from 'vitest';

import { faultName, Faults, RPCError } from '../../../src/rpc/faults.js';
import { python } from '../../helpers/python.js';

const extras: Array<[number, string | null]> = [
  [Faults.BAD_NAME, 'nope'],
  [Faults.ALREADY_STARTED, 'grp:cat'],
  [Faults.BAD_ARGUMENTS, null],
  [Faults.INCORRECT_PARAMETERS, 'Recursive system.multicall forbidden'],
  [Faults.FAILED, ''],
  [Faults.STILL_RUNNING, 'grp'],
  [999, 'x'],
  [5, null],
];

const py = python<{ faults: Record<string, number>; texts: string[]; unknown: string }>(
  `import json, sys
from supervisor.xmlrpc import Faults, RPCError, getFaultDescription
d = json.load(sys.stdin)
print(json.dumps({
    "faults": {k: v for k, v in vars(Faults).items() if not k.startswith("_")},
    "texts": [RPCError(code, extra).text for code, extra in d],
    "unknown": getFaultDescription(12345),
}))`,
  extras,
);

describe('Faults', () => {
  it('has supervisord’s names and numbers, no more, no fewer', () => {
    expect(Faults).toEqual(py.faults);
    expect(Object.keys(Faults)).toHaveLength(18);
  });

  it('names every code as getFaultDescription does', () => {
    for (const [name, code] of Object.entries(Faults)) expect(faultName(code)).toBe(name);
    expect(faultName(12345)).toBe(py.unknown);
  });
});

describe('RPCError', () => {
  it.each(extras.map((e, i) => [e, py.texts[i]!] as const))('%j formats its text as supervisord does', ([code, extra], text) => {
    const err = new RPCError(code, extra ?? undefined);
    expect(err.text).toBe(text);
    expect(err.code).toBe(code);
    expect(err.toFault()).toEqual({ faultCode: code, faultString: text });
  });

  it('is an Error that says what went wrong', () => {
    const err = new RPCError(Faults.BAD_SIGNAL, 'FOO');
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('BAD_SIGNAL: FOO');
    expect(err.name).toBe('RPCError');
  });
});
