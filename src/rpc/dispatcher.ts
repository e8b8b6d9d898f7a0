// SPDX-License-Identifier: MIT
// XML-RPC request → method → response, as supervisord's xmlrpc.py does it:
// namespace.method traversal (exactly two parts, no leading underscore),
// wrong arity → INCORRECT_PARAMETERS, RPCError → a fault, deferred methods
// polled until done; and system.* (listMethods, methodHelp, methodSignature,
// multicall).
import { XmlRpcDouble, type MethodCall, type XmlRpcBody, type XmlRpcValue } from './codec.js';
import { parseMethodCall, serializeFaultText, serializeResponseText, XmlRpcParseError } from './codec.js';
import { Faults, RPCError } from './faults.js';
import { checkArity, NOT_DONE_YET, str, type Deferred, type MethodResult, type Namespace } from './methods.js';
import { createFastvisorNamespace } from './fastvisor-ns.js';
import type { RpcMetrics } from './metrics.js';
import { MAIN_RPCINTERFACE } from '../config/sections/rpcinterface.js';
import { createSupervisorNamespace, type SupervisorControl } from './supervisor-ns.js';

/** How often a deferred answer is looked at again, besides every state change (supervisord: 0.05 s). */
const POLL_MS = 50;

export interface RpcContext {
  /** for the log lines supervisord writes about bad requests */
  log?: { error(msg: string): void; trace?(msg: string): void };
}

/** The reply's XML as text (the HTTP layer writes it out in pieces), or as bytes. */
export type RpcHandler = (body: XmlRpcBody, ctx?: RpcContext) => Promise<string | Buffer>;

export class HttpStatusError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * supervisord serves a namespace per [rpcinterface:NAME] section (the only
 * factory there is here being the standard one); without the section there
 * is no supervisor.* and supervisorctl says so. system.* is always there.
 */
export function createNamespaces(ctl: SupervisorControl): Map<string, Namespace> {
  const namespaces = new Map<string, Namespace>();
  const main = ctl.model.rpcinterfaces.filter((r) => r.factory === MAIN_RPCINTERFACE);
  if (main.length) {
    const ns = createSupervisorNamespace(ctl);
    for (const r of main) namespaces.set(r.name, ns);
  }
  namespaces.set('fastvisor', createFastvisorNamespace(ctl));
  namespaces.set('system', createSystemNamespace(namespaces));
  return namespaces;
}

// xmlrpc.py traverse().
function lookup(namespaces: Map<string, Namespace>, method: string): Namespace[string] {
  const parts = method.split('.');
  if (parts.length !== 2) throw new RPCError(Faults.UNKNOWN_METHOD);
  const [ns, name] = parts as [string, string];
  if (name.startsWith('_')) throw new RPCError(Faults.UNKNOWN_METHOD);
  const m = namespaces.get(ns)?.[name];
  if (!m || !Object.hasOwn(namespaces.get(ns)!, name)) throw new RPCError(Faults.UNKNOWN_METHOD);
  return m;
}

export function callMethod(namespaces: Map<string, Namespace>, method: string, params: XmlRpcValue[]): MethodResult {
  const m = lookup(namespaces, method);
  checkArity(m, params);
  return m.call(params);
}

/** Polls a deferred until it answers, on every state change and every POLL_MS. */
export function settle(d: Deferred, onChange: (cb: () => void) => () => void): Promise<XmlRpcValue> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setInterval> | null = null;
    let off: (() => void) | null = null;
    let scheduled = false;
    const finish = (): void => {
      if (timer) clearInterval(timer);
      off?.();
      timer = null;
      off = null;
    };
    const poll = (): void => {
      scheduled = false;
      if (!timer) return;
      try {
        const v = d();
        if (v === NOT_DONE_YET) return;
        finish();
        resolve(v);
      } catch (err) {
        finish();
        reject(err);
      }
    };
    timer = setInterval(poll, POLL_MS);
    // A state change may come in a burst (a whole group stopping): look once after it.
    off = onChange(() => {
      if (!scheduled) {
        scheduled = true;
        setImmediate(poll);
      }
    });
    poll();
  });
}

/** metrics: where each answered call is counted and timed (/metrics) */
export function createRpcHandler(ctl: SupervisorControl, metrics?: RpcMetrics): RpcHandler {
  const namespaces = createNamespaces(ctl);
  const onChange = (cb: () => void): (() => void) => ctl.supervisor.onStateChange(cb);
  const parse = (body: XmlRpcBody, ctx: RpcContext | undefined): MethodCall | RPCError => {
    let call: MethodCall;
    try {
      call = parseMethodCall(body);
    } catch (err) {
      if (err instanceof XmlRpcParseError) {
        ctx?.log?.error(`XML-RPC request data is invalid: ${err.message}`);
        // A well-formed call past our nesting or value limits: supervisord would have read it
        // and called the method, so the answer is a fault (xmlrpc.client shows its text),
        // not the 400 of a body that is not XML-RPC at all.
        if (err.reason === 'too_deep' || err.reason === 'too_many_values') {
          return new RPCError(Faults.INCORRECT_PARAMETERS, err.message);
        }
        throw new HttpStatusError(err.httpStatus, err.message);
      }
      throw err;
    }
    if (!call.methodName) {
      ctx?.log?.error('XML-RPC request data is invalid: no method name');
      throw new HttpStatusError(400, 'no method name');
    }
    return call;
  };
  const answer = async (call: MethodCall | RPCError): Promise<string> => {
    if (call instanceof RPCError) return serializeFaultText(call.code, call.text);
    let value: XmlRpcValue;
    try {
      const r = callMethod(namespaces, call.methodName, call.params);
      value = typeof r === 'function' ? await settle(r, onChange) : r;
    } catch (err) {
      if (err instanceof RPCError) return serializeFaultText(err.code, err.text);
      // supervisord answers 500 after an unexpected exception; a fault keeps
      // the client's connection and says what happened.
      return serializeFaultText(Faults.FAILED, `FAILED: ${(err as Error).message}`);
    }
    // Offsets past 2 GiB and pids are the only wide numbers; Python's reader takes any size.
    return serializeResponseText(value, { wideInts: 'int' });
  };
  // The body is parsed before anything waits: a deferred call does not keep it.
  if (!metrics) return async (body, ctx) => answer(parse(body, ctx));
  return async (body, ctx) => {
    const t0 = performance.now();
    const call = parse(body, ctx);
    const text = await answer(call);
    // Only wire names that exist become labels: a client picks the name.
    const method = call instanceof RPCError || !knownMethod(namespaces, call.methodName) ? 'unknown' : call.methodName;
    metrics.record(method, (performance.now() - t0) / 1000, text.startsWith(FAULT_START));
    return text;
  };
}

/** What serializeFaultText's answers begin with (and no other answer does). */
const FAULT_START = "<?xml version='1.0'?>\n<methodResponse>\n<fault>";

function knownMethod(namespaces: Map<string, Namespace>, method: string): boolean {
  try {
    lookup(namespaces, method);
    return true;
  } catch {
    return false;
  }
}

function createSystemNamespace(namespaces: Map<string, Namespace>): Namespace {
  const all = (): Map<string, Namespace[string]> => {
    const out = new Map<string, Namespace[string]>();
    for (const [ns, methods] of namespaces) for (const [name, m] of Object.entries(methods)) out.set(`${ns}.${name}`, m);
    return out;
  };
  return {
    listMethods: {
      signature: ['array'],
      params: [],
      help: 'Return an array listing the available method names',
      call: () => [...all().keys()].sort(),
    },
    methodHelp: {
      signature: ['string', 'string'],
      params: ['name'],
      help: "Return a string showing the method's documentation",
      call: ([n]) => {
        const m = all().get(str(n, 'name'));
        if (!m) throw new RPCError(Faults.SIGNATURE_UNSUPPORTED);
        const [ret, ...types] = m.signature;
        const lines = [` ${m.help}`, ''];
        m.params.forEach((p, i) => lines.push(`        @param ${types[i]} ${p}`));
        lines.push(`        @return ${ret} result`, '        ');
        return lines.join('\n');
      },
    },
    methodSignature: {
      signature: ['array', 'string'],
      params: ['name'],
      help: "Return an array describing the method signature in the form [rtype, ptype, ptype...] where rtype is the return data type of the method, and ptypes are the parameter data types that the method accepts in method argument order.",
      call: ([n]) => {
        const m = all().get(str(n, 'name'));
        if (!m) throw new RPCError(Faults.SIGNATURE_UNSUPPORTED);
        return m.signature;
      },
    },
    multicall: {
      signature: ['array', 'array'],
      params: ['calls'],
      help: 'Process an array of calls, and return an array of results.',
      call: ([calls]) => multicall(namespaces, calls),
    },
  };
}

// xmlrpc.py multicall(): in order; a deferred call holds the ones after it.
function multicall(namespaces: Map<string, Namespace>, calls: XmlRpcValue | undefined): MethodResult {
  if (!Array.isArray(calls)) throw new RPCError(Faults.INCORRECT_PARAMETERS);
  const remaining = [...calls];
  const results: XmlRpcValue[] = [];
  let pending: Deferred | null = null;
  const fault = (err: unknown): XmlRpcValue => {
    if (err instanceof RPCError) return err.toFault();
    return { faultCode: Faults.FAILED, faultString: `FAILED: ${(err as Error).message}` };
  };
  const multi: Deferred = () => {
    if (pending) {
      let v: XmlRpcValue | typeof NOT_DONE_YET;
      try {
        v = pending();
      } catch (err) {
        v = fault(err);
      }
      if (v !== NOT_DONE_YET) {
        pending = null;
        results.push(v);
      }
    }
    while (!pending && remaining.length) {
      const call = remaining.shift();
      let value: MethodResult;
      try {
        if (!call || typeof call !== 'object' || Array.isArray(call) || Buffer.isBuffer(call) || call instanceof Date || call instanceof XmlRpcDouble) {
          throw new RPCError(Faults.INCORRECT_PARAMETERS, 'No methodName');
        }
        const name = call.methodName;
        const params = call.params ?? [];
        if (name === undefined || name === null) throw new RPCError(Faults.INCORRECT_PARAMETERS, 'No methodName');
        if (name === 'system.multicall') throw new RPCError(Faults.INCORRECT_PARAMETERS, 'Recursive system.multicall forbidden');
        if (typeof name !== 'string' || !Array.isArray(params)) throw new RPCError(Faults.INCORRECT_PARAMETERS);
        value = callMethod(namespaces, name, params);
      } catch (err) {
        value = fault(err);
      }
      if (typeof value === 'function') pending = value;
      else results.push(value);
    }
    return pending || remaining.length ? NOT_DONE_YET : results;
  };
  const v = multi();
  return v === NOT_DONE_YET ? multi : v;
}
