// SPDX-License-Identifier: MIT
// XML-RPC to a supervisord over HTTP on a unix socket or TCP, as supervisor's
// SupervisorTransport does it: POST /RPC2, Basic auth when a username and a
// password are set, one kept-alive connection, and the same exceptions.
import http from 'node:http';

import { parseMethodResponseText, serializeMethodCall, XmlRpcParseError, XmlRpcSerializeError } from '../rpc/codec.js';
import type { XmlRpcValue } from '../rpc/codec.js';
import { Fault, fromNodeError, NotSupervisorError, ProtocolError, PyException } from './errors.js';

export interface Credentials {
  serverurl: string;
  username: string | null;
  password: string | null;
}

/** Where a serverurl points: a socket path, or a host and port. */
export type Endpoint = { unix: string } | { host: string; port: number };

/**
 * SupervisorTransport.__init__: only http:// and unix:// (case-sensitive, unlike -s's
 * URL check), else ValueError. The unix path is everything after the scheme.
 */
export function endpointOf(serverurl: string): Endpoint {
  if (serverurl.startsWith('unix://')) return { unix: serverurl.slice(7) };
  if (serverurl.startsWith('http://')) {
    // urlparse(...).hostname / .port: netloc up to / ? #, userinfo dropped, host lower-cased.
    const rest = serverurl.slice(7);
    const end = rest.search(/[/?#]/);
    const netloc = end < 0 ? rest : rest.slice(0, end);
    const hostport = netloc.slice(netloc.lastIndexOf('@') + 1);
    let host: string;
    let portText: string | undefined;
    if (hostport.startsWith('[')) {
      const close = hostport.indexOf(']');
      host = hostport.slice(1, close < 0 ? undefined : close);
      const after = close < 0 ? '' : hostport.slice(close + 1);
      portText = after.startsWith(':') ? after.slice(1) : undefined;
    } else {
      const colon = hostport.indexOf(':');
      host = colon < 0 ? hostport : hostport.slice(0, colon);
      portText = colon < 0 ? undefined : hostport.slice(colon + 1);
    }
    let port = 80;
    if (portText) {
      if (!/^\d+$/.test(portText)) {
        throw new PyException(
          'ValueError',
          `Port could not be cast to integer value as '${portText}'`,
          'unknownProtocol',
        );
      }
      port = Number(portText);
      if (port > 65535) throw new PyException('ValueError', 'Port out of range 0-65535', 'unknownProtocol');
    }
    return { host: host.toLowerCase(), port };
  }
  throw new PyException('ValueError', `Unknown protocol for serverurl ${serverurl}`, 'unknownProtocol');
}

/** Statuses a real supervisord can answer /RPC2 with; anything else means it is something else. */
const SUPERVISORD_STATUSES = new Set([200, 401, 500]);

/** One server: `call('supervisor.getVersion')`. Close it to let the process exit. */
export class RpcClient {
  private readonly endpoint: Endpoint;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly headers: Record<string, string>;

  constructor(readonly creds: Credentials) {
    this.endpoint = endpointOf(creds.serverurl);
    this.headers = { 'User-Agent': 'fastvisorctl', 'Content-Type': 'text/xml', Accept: 'text/xml' };
    // SupervisorTransport: "if self.username is not None and self.password is not None".
    if (creds.username !== null && creds.password !== null) {
      const token = Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64');
      this.headers['Authorization'] = `Basic ${token}`;
    }
  }

  async call(method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue> {
    let body: Buffer;
    try {
      body = serializeMethodCall(method, params);
    } catch (e) {
      if (e instanceof XmlRpcSerializeError) throw new PyException('OverflowError', e.message, 'intOverflow');
      throw e;
    }
    let res;
    try {
      res = await this.post(body);
    } catch (e) {
      // A kept-alive connection the server has since closed: try once more on a fresh one.
      if (!(e instanceof StaleConnection)) throw e;
      res = await this.post(body);
    }
    const { status, reason, data } = res;
    if (status !== 200) {
      if (!SUPERVISORD_STATUSES.has(status)) {
        throw new NotSupervisorError(this.creds.serverurl, `HTTP ${status} ${reason} for POST /RPC2`);
      }
      throw new ProtocolError('127.0.0.1/RPC2', status, reason);
    }
    let reply;
    try {
      // Invalid UTF-8 becomes U+FFFD instead of failing the call: supervisord 4.2.5
      // answers 500 there anyway, and a daemon that sends it should not cost us the reply.
      reply = parseMethodResponseText(data.toString('utf8'));
    } catch (e) {
      if (e instanceof XmlRpcParseError) {
        throw new NotSupervisorError(this.creds.serverurl, `its reply to POST /RPC2 is not XML-RPC: ${e.message}`);
      }
      throw e;
    }
    if (reply.kind === 'fault') throw new Fault(reply.faultCode, reply.faultString);
    // ServerProxy.__request: a single value is returned as is, several as a tuple.
    return reply.params.length === 1 ? reply.params[0]! : reply.params;
  }

  close(): void {
    this.agent.destroy();
  }

  private post(body: Buffer): Promise<{ status: number; reason: string; data: Buffer }> {
    const unix = 'unix' in this.endpoint;
    const where = 'unix' in this.endpoint ? { socketPath: this.endpoint.unix } : this.endpoint;
    return new Promise((resolve, reject) => {
      let responded = false;
      // servername: never TLS. Without it the agent works out a TLS server name from the
      // host, compiling net.isIP's large IPv6 expression: ms a one-shot command pays.
      const options: http.RequestOptions & { servername: string } = {
        ...where,
        servername: '',
        method: 'POST',
        path: '/RPC2',
        agent: this.agent,
        headers: { ...this.headers, 'Content-Length': String(body.length) },
      };
      const req = http.request(
        options,
        (res) => {
          responded = true;
          const status = res.statusCode ?? 0;
          const reason = res.statusMessage ?? '';
          if (status !== 200) {
            // Python closes the connection without reading the body.
            res.resume();
            res.on('end', () => resolve({ status, reason, data: Buffer.alloc(0) }));
            res.on('error', () => resolve({ status, reason, data: Buffer.alloc(0) }));
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status, reason, data: Buffer.concat(chunks) }));
          res.on('error', (e) => reject(fromNodeError(e, 'read', unix)));
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (responded) return;
        reject(req.reusedSocket && e.code === 'ECONNRESET' ? new StaleConnection() : this.requestError(e, unix));
      });
      req.end(body);
    });
  }

  private requestError(e: NodeJS.ErrnoException, unix: boolean): Error {
    // llhttp could not read a status line: whatever listens there is not an HTTP server.
    if (typeof e.code === 'string' && e.code.startsWith('HPE_')) {
      return new NotSupervisorError(this.creds.serverurl, 'its reply is not HTTP');
    }
    // "socket hang up": connected, sent, and the peer closed without a word (http.client's RemoteDisconnected).
    if (e.code === 'ECONNRESET' && e.message === 'socket hang up') {
      return new PyException(
        'http.client.RemoteDisconnected',
        'Remote end closed connection without response',
        'remoteDisconnected',
      );
    }
    const phase = e.syscall === 'read' || e.syscall === 'write' ? 'read' : 'connect';
    return fromNodeError(e, phase, unix);
  }
}

class StaleConnection extends Error {}
