// SPDX-License-Identifier: MIT
// The web UI's only way to act: the XML-RPC methods themselves, called in-process
// through the dispatcher (callMethod + settle), as web.py calls rpcinterface. So a
// button does exactly what supervisorctl does, faults included.
import type { XmlRpcValue } from '../rpc/codec.js';
import { callMethod, settle } from '../rpc/dispatcher.js';
import type { Namespace } from '../rpc/methods.js';

/** What the web handler needs from the daemon. */
export interface WebBackend {
  /** the namespaces /RPC2 serves (createNamespaces) */
  namespaces: Map<string, Namespace>;
  /** every process state change (Supervisor.onStateChange): deferred answers are looked at again then */
  onStateChange(cb: () => void): () => void;
}

export type Call = (method: string, ...params: XmlRpcValue[]) => Promise<XmlRpcValue>;

/** An RPCError comes out as it is (code, text); anything else is a bug and rejects too. */
export function caller(backend: WebBackend): Call {
  return async (method, ...params) => {
    const r = callMethod(backend.namespaces, method, params);
    return typeof r === 'function' ? settle(r, (cb) => backend.onStateChange(cb)) : r;
  };
}
