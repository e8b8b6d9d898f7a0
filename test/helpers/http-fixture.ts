// SPDX-License-Identifier: MIT
// fastvisor's HTTP servers with stub handlers for tests: an XML-RPC stub that echoes
// (and can fail or hang on request), log files from a map, and a record of what the
// handlers and the log saw. Python clients to talk XML-RPC to it.
import http from 'node:http';

import type { HttpServerConfig } from '../../src/config/model.js';
import {
  startHttpServers,
  type HttpHandlers,
  type HttpLogLevel,
  type HttpServerOptions,
  type HttpServers,
  type RpcRequestContext,
} from '../../src/http/index.js';
import { parseMethodCall, serializeFault, serializeResponse, type XmlRpcValue } from '../../src/rpc/codec.js';
import type { Addr } from './http-raw.js';
import { runPython } from './http-raw.js';

export interface Fixture {
  servers: HttpServers;
  logs: [HttpLogLevel, string][];
  stderr: string[];
  /** every logFile() lookup, to show what a URL turned into */
  lookups: [string, string][];
  rpcCalls: { method: string; ctx: RpcRequestContext }[];
  aborted: string[];
  /** name or 'stdout'/'stderr' -> path; 'main' for /mainlogtail */
  files: Map<string, string>;
  addr(i?: number): Addr;
}

const open: HttpServers[] = [];

/** Closes every fixture a test left open (afterEach). */
export async function closeFixtures(): Promise<void> {
  while (open.length) await open.pop()!.close();
}

export async function startFixture(
  configs: HttpServerConfig[],
  opts: HttpServerOptions & Partial<HttpHandlers> = {},
): Promise<Fixture> {
  const logs: [HttpLogLevel, string][] = [];
  const stderr: string[] = [];
  const lookups: [string, string][] = [];
  const rpcCalls: Fixture['rpcCalls'] = [];
  const aborted: string[] = [];
  const files = new Map<string, string>();

  const stubRpc: HttpHandlers['rpc'] = async (body, ctx) => {
    const call = parseMethodCall(body);
    rpcCalls.push({ method: call.methodName, ctx });
    switch (call.methodName) {
      case 'supervisor.getVersion':
      case 'supervisor.getAPIVersion':
        return serializeResponse('3.0');
      case 'test.fault':
        return serializeFault(10, 'BAD_NAME: nope');
      case 'test.httpStatus':
        throw Object.assign(new Error('not XML-RPC'), { status: 400 });
      case 'test.crash':
        throw new Error('boom');
      case 'test.hang':
        // A deferred call that never completes: only the client leaving ends it.
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        aborted.push(call.methodName);
        return serializeResponse('too late');
      default:
        return serializeResponse([call.methodName, ...call.params] as XmlRpcValue);
    }
  };

  const servers = await startHttpServers(
    configs,
    {
      rpc: opts.rpc ?? stubRpc,
      logFile:
        opts.logFile ??
        ((name, channel) => {
          lookups.push([name, channel]);
          return files.get(`${name}/${channel}`) ?? null;
        }),
      mainLogFile: opts.mainLogFile ?? (() => files.get('main') ?? null),
      web: opts.web,
    },
    (level, msg) => logs.push([level, msg]),
    { stderr: (l) => stderr.push(l), ...opts },
  );
  open.push(servers);
  return {
    servers,
    logs,
    stderr,
    lookups,
    rpcCalls,
    aborted,
    files,
    addr(i = 0) {
      const a = servers.addresses[i]!;
      return a.kind === 'unix' ? { path: a.path } : { host: a.host, port: a.port };
    },
  };
}

export const unixServer = (file: string, extra: Partial<HttpServerConfig> = {}): HttpServerConfig => ({
  kind: 'unix',
  file,
  username: null,
  password: null,
  ...extra,
});

export const inetServer = (extra: Partial<HttpServerConfig> = {}): HttpServerConfig => ({
  kind: 'inet',
  host: '127.0.0.1',
  port: 0,
  username: null,
  password: null,
  ...extra,
});

export type PyResult =
  | { ok: unknown }
  | { protocol: number }
  | { fault: number; text: string }
  | { error: string };

/**
 * Calls through Python: supervisor.xmlrpc.SupervisorTransport (what supervisorctl uses,
 * one kept-alive connection, unix:// or http://) or plain xmlrpc.client with the
 * credentials in the URL (`plain: true`).
 */
export function pyCalls(
  url: string,
  calls: [string, ...unknown[]][],
  auth: { username?: string; password?: string; plain?: boolean } = {},
): Promise<PyResult[]> {
  return runPython<PyResult[]>(
    `import json, sys, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
a = json.load(sys.stdin)
if a['plain']:
    p = xmlrpc.client.ServerProxy(a['url'])
else:
    t = SupervisorTransport(a['username'], a['password'], a['url'])
    p = xmlrpc.client.ServerProxy('http://127.0.0.1', t)
out = []
for call in a['calls']:
    try:
        out.append({'ok': getattr(p, call[0])(*call[1:])})
    except xmlrpc.client.ProtocolError as e:
        out.append({'protocol': e.errcode})
    except xmlrpc.client.Fault as e:
        out.append({'fault': e.faultCode, 'text': e.faultString})
    except Exception as e:
        out.append({'error': type(e).__name__ + ': ' + str(e)})
print(json.dumps(out))`,
    { url, calls, username: auth.username ?? null, password: auth.password ?? null, plain: auth.plain ?? false },
  );
}

export interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  text(): string;
  ended(): boolean;
  destroy(): void;
}

/** A GET whose body keeps coming (/logtail): the reply so far, as it grows. */
export function openStream(addr: Addr, urlPath: string, authorization?: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...('path' in addr ? { socketPath: addr.path } : { host: addr.host, port: addr.port }),
        path: urlPath,
        method: 'GET',
        agent: false,
        headers: authorization ? { authorization } : {},
      },
      (res) => {
        let buf = Buffer.alloc(0);
        let ended = false;
        res.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
        res.on('end', () => (ended = true));
        res.on('error', () => (ended = true));
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: () => buf.toString('latin1'),
          ended: () => ended,
          destroy: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export const basicAuth = (user: string, pass: string): string =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
