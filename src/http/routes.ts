// SPDX-License-Identifier: MIT
// One request, as supervisord's handler chain treats it: Basic auth in front of every
// handler, then the first match by URI prefix: /RPC2 (XML-RPC), /logtail, /mainlogtail,
// fastvisor's /healthz, /readyz and /metrics, and everything else to the web UI (or a
// 404 page when there is none).
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { HttpServerConfig } from '../config/model.js';
import { MAX_BODY_BYTES } from '../rpc/codec.js';
import { checkBasicAuth } from './auth.js';
import { discardBody, readBody, type BodyBudget } from './body.js';
import { openTail, streamTail } from './logtail.js';
import { serveMultiTail, type ResolveSources } from './multitail.js';
import { sendError, startReply, utf8Pieces } from './reply.js';
import { medusaUri, parseLogtailPath, type LogChannel } from './uri.js';

export type HttpLogLevel = 'critical' | 'error' | 'warn' | 'info' | 'trace';
export type HttpLog = (level: HttpLogLevel, msg: string) => void;

export interface RequestContext {
  /** the [unix_http_server] / [inet_http_server] the request came in on */
  server: HttpServerConfig;
  /** the user who authenticated, null on a server without a username */
  username: string | null;
  /** the request target after medusa's unquoting: what the routes matched */
  uri: string;
  /** http_request.get_server_url(): where the web UI redirects to */
  serverUrl: string;
}

export interface RpcRequestContext extends RequestContext {
  /** aborted when the client goes away before the answer (a deferred call can stop waiting) */
  signal: AbortSignal;
  /** supervisord logs bad XML-RPC bodies to the main log at error level */
  log: { error(msg: string): void; trace(msg: string): void };
}

export interface HttpHandlers {
  /**
   * POST /RPC2: the request body in (the pieces it arrived in), the response body out
   * (text/xml; a string is sent as UTF-8). To refuse at the
   * HTTP level (400 for a body that is not XML-RPC) throw an Error with a numeric
   * `status` or `httpStatus`; any other throw is a 500.
   */
  rpc(body: readonly Buffer[], ctx: RpcRequestContext): Promise<Buffer | string>;
  /** /logtail/NAME[/CHANNEL]: the path of that process's log, or null (404) */
  logFile(name: string, channel: LogChannel): string | null;
  /** /mainlogtail: the daemon's log file, or null (404) */
  mainLogFile(): string | null;
  /** fastvisor: GET /fastvisor/tail (the merged tail): the log files `a`, `group:*` or `all` name. Absent: 404. */
  logSources?: ResolveSources;
  /** whether the merged tail may open one more log file now (descriptors kept for spawns); absent: yes */
  spareDescriptor?: () => boolean;
  /**
   * fastvisor: GET /healthz (the daemon answers) and /readyz (every autostart
   * program RUNNING and healthy): the status and a plain-text body. Absent: 404.
   */
  probe?(which: 'healthz' | 'readyz'): { status: number; body: string };
  /** fastvisor: GET /metrics, Prometheus' text format (content type and body). Absent (`metrics = false`): 404. */
  metrics?(): { contentType: string; body: string };
  /** everything else, behind the same auth; absent: 404. `sendError` gives medusa's pages. */
  web?(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void | Promise<void>;
}

export interface RouteEnv {
  cfg: HttpServerConfig;
  handlers: HttpHandlers;
  log: HttpLog;
  /** end functions of the open /logtail and /mainlogtail streams, called by close() */
  streams: Set<() => void>;
  tailPollMs?: number;
  /** request body bytes all connections together may hold */
  bodies: BodyBudget;
  /** where medusa writes its own complaints (malformed authorization info) */
  stderr: (line: string) => void;
}

const UNAUTHORIZED_HEADERS = { Connection: 'close', 'WWW-Authenticate': 'Basic realm="default"' };

function errorStatus(err: unknown): number | null {
  const e = err as { status?: unknown; httpStatus?: unknown } | null;
  for (const v of [e?.status, e?.httpStatus]) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 400 && v <= 599) return v;
  }
  return null;
}

/** http_request.get_server_url(): the Host header, else this server's own name. */
function serverUrl(req: IncomingMessage, cfg: HttpServerConfig): string {
  const host = (req.headers.host ?? '').trim();
  if (host) {
    const m = /^(.*):([0-9]*)$/.exec(host);
    if (m && (m[2] === '' || m[2] === '80')) return `http://${m[1]}`;
    return `http://${host}`;
  }
  if (cfg.kind === 'inet') {
    const name = cfg.host || 'localhost';
    // The port the socket really has (the config may say 0 in tests).
    const port = req.socket.localPort ?? cfg.port;
    return port === 80 ? `http://${name}` : `http://${name}:${port}`;
  }
  return 'http://localhost';
}

function serverError(env: RouteEnv, res: ServerResponse, err: unknown): void {
  const e = err as Error;
  env.log('error', `Server Error: ${e?.name ?? 'Error'}, ${e?.message ?? String(err)}`);
  if (res.headersSent) res.destroy();
  else sendError(res, 500);
}

export function handleRequest(env: RouteEnv, req: IncomingMessage, res: ServerResponse): void {
  startReply(res);
  const uri = medusaUri(req.url ?? '/');
  const auth = checkBasicAuth(req.headers.authorization, env.cfg.username, env.cfg.password);
  if (auth.kind === 'malformed') {
    env.stderr(`malformed authorization info <${req.headers.authorization?.slice(6) ?? ''}>\n`);
    discardBody(req, () => sendError(res, 400, { Connection: 'close' }));
    return;
  }
  if (auth.kind === 'unauthorized') {
    discardBody(req, () => sendError(res, 401, UNAUTHORIZED_HEADERS));
    return;
  }
  const ctx: RequestContext = { server: env.cfg, username: auth.username, uri, serverUrl: serverUrl(req, env.cfg) };
  try {
    if (uri.startsWith('/RPC2')) return void rpcRoute(env, req, res, ctx).catch((err) => serverError(env, res, err));
    if (uri.startsWith('/logtail')) return logtailRoute(env, req, res, uri);
    if (uri.startsWith('/mainlogtail')) return mainlogtailRoute(env, req, res);
    const merged = /^\/fastvisor\/tail(?:\?(.*))?$/s.exec(uri);
    if (merged && env.handlers.logSources) return multitailRoute(env, req, res, merged[1] ?? '');
    const probe = /^\/(healthz|readyz)(?:\?.*)?$/.exec(uri);
    if (probe && env.handlers.probe) return probeRoute(env, req, res, probe[1] as 'healthz' | 'readyz');
    if (/^\/metrics(?:\?.*)?$/.test(uri)) return metricsRoute(env, req, res);
    if (env.handlers.web) {
      const p = env.handlers.web(req, res, ctx);
      if (p) p.catch((err) => serverError(env, res, err));
      return;
    }
    sendError(res, 404);
  } catch (err) {
    serverError(env, res, err);
  }
}

/**
 * A page on another site can make a browser POST a form whose text/plain body
 * is an XML-RPC call, and the browser adds the Basic credentials it has
 * cached (supervisord has no defence). Browsers say where a request comes
 * from (Sec-Fetch-Site) and send Origin with every POST; a form cannot send
 * text/xml. XML-RPC clients send neither header, so they are unaffected.
 */
function crossSiteBrowserRequest(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  return req.headers.origin !== undefined && !type.startsWith('text/xml');
}

// medusa xmlrpc_handler + collector: POST only (400), a Content-Length (411), the body,
// then the dispatcher. The 413 and 503 are ours: supervisord reads any size into memory,
// any number of times at once.
async function rpcRoute(env: RouteEnv, req: IncomingMessage, res: ServerResponse, base: RequestContext): Promise<void> {
  if (req.method !== 'POST') return sendError(res, 400);
  if (crossSiteBrowserRequest(req)) {
    env.log('warn', `refused a cross-site browser request to /RPC2 (Origin: ${req.headers.origin ?? '-'})`);
    discardBody(req, () => sendError(res, 403, { Connection: 'close' }));
    return;
  }
  const cl = req.headers['content-length'];
  if (cl === undefined) return sendError(res, 411);
  const length = Number(cl);
  if (length > MAX_BODY_BYTES) {
    discardBody(req, () => sendError(res, 413, { Connection: 'close' }));
    return;
  }
  // The bytes count against what all requests may hold until the reply is out (or lost).
  const lease = env.bodies.lease(req, length);
  res.once('close', () => lease.release());
  let body = await readBody(req, length, lease);
  if (body === null) return;
  if (body === 'over_budget') {
    env.log('trace', `refused a request body: ${env.bodies.bytesHeld} bytes of bodies already held`);
    // Not drained (that is the point): the connection closes once the page is out.
    return sendError(res, 503, { Connection: 'close' });
  }
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  const ctx: RpcRequestContext = {
    ...base,
    signal: ac.signal,
    log: { error: (m) => env.log('error', m), trace: (m) => env.log('trace', m) },
  };
  let out: Buffer | string;
  try {
    const pending = env.handlers.rpc(body, ctx);
    // Not kept while a deferred call waits: the handler has read it.
    body = null;
    out = await pending;
  } catch (err) {
    const status = errorStatus(err);
    if (status === null) return serverError(env, res, err);
    return sendError(res, status);
  }
  if (res.destroyed || res.writableEnded) return;
  const pieces = typeof out === 'string' ? utf8Pieces(out) : [out];
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/xml');
  res.setHeader('Content-Length', pieces.reduce((n, p) => n + p.length, 0));
  // Written in one go: Node corks the socket for the tick and sends them with one writev.
  for (let i = 0; i < pieces.length - 1; i++) res.write(pieces[i]);
  res.end(pieces.at(-1));
}

function startStream(env: RouteEnv, res: ServerResponse, file: string | null, accelBufferingOff: boolean): void {
  // "no logfile is a temporary condition": 404, as for a file not on disk (yet).
  if (file === null) return sendError(res, 404);
  const follower = openTail(file);
  if (typeof follower === 'number') return sendError(res, follower);
  if (res.destroyed) return follower.close();
  streamTail(res, follower, { accelBufferingOff, streams: env.streams, pollMs: env.tailPollMs });
}

// http.py logtail_handler: GET /logtail/NAME[/stdout|stderr].
function logtailRoute(env: RouteEnv, req: IncomingMessage, res: ServerResponse, uri: string): void {
  if (req.method !== 'GET') return sendError(res, 400);
  const target = parseLogtailPath(uri);
  if (!target) return sendError(res, 404);
  startStream(env, res, env.handlers.logFile(target.name, target.channel), true);
}

// http.py mainlogtail_handler: GET /mainlogtail.
function mainlogtailRoute(env: RouteEnv, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET') return sendError(res, 400);
  startStream(env, res, env.handlers.mainLogFile(), false);
}

// fastvisor: GET /fastvisor/tail?name=...: many logs in one stream, cut into lines (multitail.ts).
function multitailRoute(env: RouteEnv, req: IncomingMessage, res: ServerResponse, query: string): void {
  if (req.method !== 'GET') return sendError(res, 400);
  serveMultiTail(res, query, {
    resolve: env.handlers.logSources!,
    spare: env.handlers.spareDescriptor,
    streams: env.streams,
    pollMs: env.tailPollMs,
  });
}

// fastvisor: GET/HEAD /healthz and /readyz for orchestrators (Kubernetes, compose,
// load balancers): plain text, never cached.
function probeRoute(env: RouteEnv, req: IncomingMessage, res: ServerResponse, which: 'healthz' | 'readyz'): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 400);
  const { status, body } = env.handlers.probe!(which);
  const bytes = Buffer.from(body, 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', bytes.length);
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

// fastvisor: GET/HEAD /metrics for Prometheus. Never handed to the web UI: with
// `metrics = false` it is a 404 whatever else is served.
function metricsRoute(env: RouteEnv, req: IncomingMessage, res: ServerResponse): void {
  if (!env.handlers.metrics) return sendError(res, 404);
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 400);
  const { contentType, body } = env.handlers.metrics();
  const bytes = Buffer.from(body, 'utf8');
  res.statusCode = 200;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', bytes.length);
  res.end(req.method === 'HEAD' ? undefined : bytes);
}
