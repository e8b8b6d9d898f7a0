// SPDX-License-Identifier: MIT
// supervisord's XML-RPC fault codes and RPCError (supervisor/xmlrpc.py), numbers
// pinned by test/unit/rpc/faults.test.ts. A leaf: it imports nothing.

export const Faults = {
  UNKNOWN_METHOD: 1,
  INCORRECT_PARAMETERS: 2,
  BAD_ARGUMENTS: 3,
  SIGNATURE_UNSUPPORTED: 4,
  SHUTDOWN_STATE: 6,
  BAD_NAME: 10,
  BAD_SIGNAL: 11,
  NO_FILE: 20,
  NOT_EXECUTABLE: 21,
  FAILED: 30,
  ABNORMAL_TERMINATION: 40,
  SPAWN_ERROR: 50,
  ALREADY_STARTED: 60,
  NOT_RUNNING: 70,
  SUCCESS: 80,
  ALREADY_ADDED: 90,
  STILL_RUNNING: 91,
  CANT_REREAD: 92,
} as const;
export type FaultName = keyof typeof Faults;
export type FaultCode = (typeof Faults)[FaultName];

const names = new Map<number, FaultName>(
  Object.entries(Faults).map(([name, code]) => [code, name as FaultName]),
);

/** xmlrpc.py getFaultDescription(): the name of a code, 'UNKNOWN' for any other number. */
export function faultName(code: number): FaultName | 'UNKNOWN' {
  return names.get(code) ?? 'UNKNOWN';
}

/**
 * xmlrpc.py RPCError: `text` is `NAME`, or `NAME: extra` when extra is given.
 * supervisord formats extra with `%s`; callers pass it already as Python would print it
 * (e.g. a namespec as given, `grp:cat`), since JS String() differs for floats and booleans.
 */
export class RPCError extends Error {
  readonly code: number;
  readonly text: string;

  constructor(code: number, extra?: string) {
    const text = extra === undefined ? faultName(code) : `${faultName(code)}: ${extra}`;
    super(text);
    this.name = 'RPCError';
    this.code = code;
    this.text = text;
  }

  /** The struct system.multicall puts in place of a failed call's result. */
  toFault(): { faultCode: number; faultString: string } {
    return { faultCode: this.code, faultString: this.text };
  }
}
