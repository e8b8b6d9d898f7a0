// SPDX-License-Identifier: MIT
// The daemon's HTTP servers (supervisord http.py make_http_servers): one listener per
// [unix_http_server] / [inet_http_server] section, all serving the same routes, with
// limits medusa never had (header size and time, body size) and a close() that ends
// streams, drops connections and removes the socket file.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import type { HttpServerConfig } from '../config/model.js';
import { BODY_BUDGET, BODY_STALL_MS, BodyBudget, DRAIN_CAP } from './body.js';
import { bindInet, bindUnix, HttpServerError, removeIfOurs, type UnixBinding } from './listen.js';
import { rawErrorResponse, sendError } from './reply.js';
import { handleRequest, type HttpHandlers, type HttpLog, type RouteEnv } from './routes.js';

export type HttpAddress = { kind: 'unix'; path: string } | { kind: 'inet'; host: string; port: number };

export interface HttpServers {
  /** where each server listens, in config order (an inet port 0 shows the port it got) */
  readonly addresses: HttpAddress[];
  /** request body bytes held right now by all connections (against bodyBudgetBytes) */
  readonly bodyBytesHeld: number;
  /** stop listening, end tails, drop connections, unlink the unix socket files */
  close(): Promise<void>;
}

export interface HttpServerOptions {
  /** "RPC interface 'x' initialized" is logged per server for each (supervisord: the factories) */
  rpcInterfaces?: string[];
  /** a partial request's headers must arrive within this (slowloris); default 30 s */
  headersTimeoutMs?: number;
  /** a whole request (headers and body) within this; default 120 s */
  requestTimeoutMs?: number;
  /** request header bytes; default 16 KiB (Node's), far above anything supervisorctl sends */
  maxHeaderSize?: number;
  /** /logtail and /mainlogtail look at the file this often; default 100 ms (supervisord) */
  tailPollMs?: number;
  /** close() lets in-flight requests finish for this long before cutting them; default 2 s */
  closeGraceMs?: number;
  /** supervisord writes "Unlinking stale socket" and auth complaints to stderr, not the log */
  stderr?: (line: string) => void;
  /** request body bytes all the servers' connections may hold at once; default BODY_BUDGET (16 MiB) */
  bodyBudgetBytes?: number;
  /** an incomplete body idle this long is cut when another needs its share; default 1 s */
  bodyStallMs?: number;
}

export { HttpServerError } from './listen.js';
export type { HttpHandlers, HttpLog, HttpLogLevel, RequestContext, RpcRequestContext } from './routes.js';

/** Per connection: replies still due, a request still being read, a parse error to answer. */
interface Conn {
  inFlight: number;
  reading: IncomingMessage | null;
  refused: number | null;
  /** socket.bytesRead when the parse error came */
  refusedAt: number;
}

interface Running {
  server: http.Server;
  unix: UnixBinding | null;
}

/** supervisord names the section in its CRIT line ([inet_http_server:two] included). */
function sectionName(cfg: HttpServerConfig): string {
  return cfg.section || (cfg.kind === 'unix' ? 'unix_http_server' : 'inet_http_server');
}

/** medusa's access line: "127.0.0.1:45136 - - [29/Nov/2026:17:10:24 +0000] "GET / HTTP/1.1" 401 330". */
function accessLine(req: IncomingMessage, who: string, code: number, bytes: number): string {
  const d = new Date();
  const mon = d.toUTCString().slice(8, 11);
  const p = (n: number): string => String(n).padStart(2, '0');
  const when = `${p(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
  return `${who} - - [${when}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${code} ${bytes}`;
}

function makeServer(env: RouteEnv, opts: HttpServerOptions, isClosing: () => boolean): http.Server {
  const headersTimeout = opts.headersTimeoutMs ?? 30_000;
  const server = http.createServer({
    // supervisorctl's tail -f client sends an empty Host: on unix sockets, and medusa never asked.
    requireHostHeader: false,
    headersTimeout,
    requestTimeout: Math.max(opts.requestTimeoutMs ?? 120_000, headersTimeout),
    // How often those two are checked: Node's 30 s default would let a slow request live 30 s longer.
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
    maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024,
    // TCP keepalive finds dead tail -f clients on a quiet log; a no-op on unix sockets.
    keepAlive: true,
    keepAliveInitialDelay: 60_000,
  });
  // No idle timeout between requests: medusa has none in practice (its 30-minute cull runs
  // only on every 500th connection), and superlance's memmon/httpok keep one ServerProxy
  // for hours without retrying a connection the server closed.
  server.keepAliveTimeout = 0;

  const conns = new WeakMap<Socket, Conn>();
  const conn = (sock: Socket): Conn => {
    let c = conns.get(sock);
    if (!c) conns.set(sock, (c = { inFlight: 0, reading: null, refused: null, refusedAt: 0 }));
    return c;
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const sock = req.socket;
    const c = conn(sock);
    c.inFlight++;
    c.reading = req.complete ? null : req;
    const startBytes = sock.bytesWritten;
    // Read now: a closed socket no longer knows its peer. Unix sockets have none: medusa says localhost:0.
    const who = sock.remoteAddress ? `${sock.remoteAddress}:${sock.remotePort ?? 0}` : 'localhost:0';
    let logged = false;
    const done = (): void => {
      if (logged) return;
      logged = true;
      c.inFlight = Math.max(0, c.inFlight - 1);
      if (c.reading === req) c.reading = null;
      env.log('trace', accessLine(req, who, res.statusCode, sock.bytesWritten - startBytes));
      if (c.inFlight === 0 && c.refused !== null) refuse(sock, c.refused);
    };
    res.once('finish', done);
    res.once('close', done);
    if (isClosing()) res.setHeader('Connection', 'close');
    try {
      handleRequest(env, req, res);
    } catch (err) {
      // handleRequest catches its handlers' errors; this is for its own bugs: never crash the daemon.
      env.log('error', `Server Error: ${(err as Error)?.message ?? String(err)}`);
      if (res.headersSent) res.destroy();
      else sendError(res, 500);
    }
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const c = conns.get(socket);
    // Node's parser, once failed, fails again on every later chunk: the first error decides,
    // and a client that keeps sending junk while its reply is due is read for a while only.
    if (c?.refused != null) {
      if (socket.bytesRead - c.refusedAt > DRAIN_CAP) socket.destroy();
      return;
    }
    // A request whose body is still arriving is the malformed one (a bad chunk): no reply is due.
    if (err.code === 'ECONNRESET' || !socket.writable || (c?.reading && !c.reading.complete)) {
      socket.destroy();
      return;
    }
    const code =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    env.log('trace', `Bad HTTP request: ${err.code ?? err.message}`);
    // Bytes after a complete request (a Content-Length shorter than the body, junk after a
    // keep-alive request) fail as the next request while the first one's reply is still
    // due. Destroying the socket here lost that reply: let every reply due go out first,
    // then refuse the junk (medusa answers the first request and reads on).
    if (c && c.inFlight > 0) {
      c.refused = code;
      c.refusedAt = socket.bytesRead;
      return;
    }
    refuse(socket, code);
  });
  return server;
}

/** The error page for what Node's parser refused, then the end of the connection. */
function refuse(socket: Socket, code: number): void {
  if (!socket.writable) {
    // Already ending (a Connection: close reply): Node destroys it once that is flushed.
    if (!socket.writableEnded) socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(code));
  // end() leaves the socket open until the peer closes; do not wait for a hostile one.
  socket.once('finish', () => socket.destroy());
}

/**
 * Opens every configured server, or none: on the first failure the ones already open are
 * closed and an HttpServerError with supervisord's message is thrown.
 */
export async function startHttpServers(
  configs: readonly HttpServerConfig[],
  handlers: HttpHandlers,
  log: HttpLog,
  options: HttpServerOptions = {},
): Promise<HttpServers> {
  const stderr = options.stderr ?? ((line: string) => void process.stderr.write(line));
  const streams = new Set<() => void>();
  const bodies = new BodyBudget(options.bodyBudgetBytes ?? BODY_BUDGET, options.bodyStallMs ?? BODY_STALL_MS);
  const running: Running[] = [];
  const addresses: HttpAddress[] = [];
  let closing = false;

  const closeAll = async (): Promise<void> => {
    closing = true;
    const graceMs = options.closeGraceMs ?? 2000;
    const closed = running.map(
      (r) =>
        new Promise<void>((resolve) => {
          if (!r.server.listening) return resolve();
          r.server.close(() => resolve());
        }),
    );
    // A tail never ends by itself: end each (the chunked terminator tells the client).
    for (const end of [...streams]) end();
    for (const r of running) r.server.closeIdleConnections();
    const cut = setTimeout(() => {
      for (const r of running) r.server.closeAllConnections();
    }, graceMs);
    await Promise.all(closed);
    clearTimeout(cut);
    for (const r of running) if (r.unix) removeIfOurs(r.unix);
  };

  try {
    for (const cfg of configs) {
      const env: RouteEnv = { cfg, handlers, log, streams, bodies, tailPollMs: options.tailPollMs, stderr };
      const server = makeServer(env, options, () => closing);
      const r: Running = { server, unix: null };
      if (cfg.kind === 'unix') {
        if (!cfg.file) throw new HttpServerError('Cannot open an HTTP server: no file for [unix_http_server]');
        r.unix = await bindUnix(server, { file: cfg.file, chmod: cfg.chmod, chown: cfg.chown }, stderr);
        addresses.push({ kind: 'unix', path: cfg.file });
      } else {
        const a = await bindInet(server, cfg);
        addresses.push({ kind: 'inet', host: a.host, port: a.port });
      }
      running.push(r);
      // After listen: an accept() failure (EMFILE...) must be logged, not thrown at the daemon.
      server.on('error', (err) => log('error', `HTTP server error: ${err.message}`));
      const a = addresses.at(-1)!;
      log('trace', `HTTP server listening on ${a.kind === 'unix' ? a.path : `${a.host}:${a.port}`}`);
      for (const name of options.rpcInterfaces ?? ['supervisor']) log('info', `RPC interface '${name}' initialized`);
      if (!cfg.username) log('critical', `Server '${sectionName(cfg)}' running without any HTTP authentication checking`);
    }
  } catch (err) {
    await closeAll();
    throw err instanceof HttpServerError ? err : new HttpServerError((err as Error).message);
  }

  let closePromise: Promise<void> | null = null;
  return {
    addresses,
    get bodyBytesHeld() {
      return bodies.bytesHeld;
    },
    close: () => (closePromise ??= closeAll()),
  };
}
