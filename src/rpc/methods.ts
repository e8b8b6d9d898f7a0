// SPDX-License-Identifier: MIT
// The shape every XML-RPC method has here: params in, a value or a deferred
// out. A deferred is supervisord's NOT_DONE_YET callback: the dispatcher calls
// it again (on every state change and every 50 ms) until it returns a value
// or throws an RPCError.
import type { XmlRpcValue } from './codec.js';
import { Faults, RPCError } from './faults.js';

export const NOT_DONE_YET: unique symbol = Symbol('NOT_DONE_YET');
export type Deferred = () => XmlRpcValue | typeof NOT_DONE_YET;
export type MethodResult = XmlRpcValue | Deferred;

export interface RpcMethod {
  /** [return type, param types...] as system.methodSignature answers */
  signature: string[];
  /** the parameter names, for methodHelp */
  params: string[];
  /** one line for methodHelp */
  help: string;
  /** how many trailing params may be left out (wait=True defaults) */
  optional?: number;
  call(params: XmlRpcValue[]): MethodResult;
}

export type Namespace = Record<string, RpcMethod>;

export function isDeferred(v: MethodResult): v is Deferred {
  return typeof v === 'function';
}

/** Python's TypeError on a wrong number of arguments → INCORRECT_PARAMETERS. */
export function checkArity(m: RpcMethod, params: XmlRpcValue[]): void {
  const max = m.params.length;
  const min = max - (m.optional ?? 0);
  if (params.length < min || params.length > max) throw new RPCError(Faults.INCORRECT_PARAMETERS);
}

// supervisord does not check types: a number where a name belongs ends in an
// AttributeError and HTTP 500. A fault says what is wrong instead.
export function str(v: XmlRpcValue | undefined, what: string): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  throw new RPCError(Faults.INCORRECT_PARAMETERS, `${what} must be a string`);
}

/** Python's int(x) for the offset/length parameters: ints, numeric strings, bools. */
export function int(v: XmlRpcValue | undefined, what: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
  throw new RPCError(Faults.INCORRECT_PARAMETERS, `${what} must be an integer`);
}

/** Python truthiness for wait= */
export function truthy(v: XmlRpcValue | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === null) return false;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  return true;
}
