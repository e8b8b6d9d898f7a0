// SPDX-License-Identifier: MIT
// Everything on the HTTP servers that is not /RPC2 or a log tail: supervisord's web.py
// views (index.html with its ?action= query strings, tail.html, ok.html) and the static
// files of the live page, from a fixed list. Auth happened before this (routes.ts).
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

import { httpDate, sendError, type RequestContext } from '../http/index.js';
import type { XmlRpcStruct, XmlRpcValue } from '../rpc/codec.js';
import { createNamespaces } from '../rpc/dispatcher.js';
import { Faults, RPCError } from '../rpc/faults.js';
import type { SupervisorControl } from '../rpc/supervisor-ns.js';
import { runAction, UnknownAction } from './actions.js';
import { loadAssets, WEB_DIR, type Assets, type StaticFile } from './assets.js';
import { pathOf, pyQuote, queryOf, readForm } from './form.js';
import { caller, type Call, type WebBackend } from './rpc.js';
import { allStats, namespec, num, statusFeed } from './status-feed.js';
import { renderStatus, renderTail, type ProcInfo, type TailPage } from './views.js';

export type WebHandler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void>;

export interface WebHandlerOptions {
  /** where the page files are; default web/ in the package */
  dir?: string;
  /** what the footer says; default the package's version */
  version?: string;
}

/** Form bodies of POSTs to the views: supervisord's own page posts none, so this is plenty. */
export const MAX_FORM_BYTES = 64 * 1024;
/** tail.html?limit= reads at most this much (supervisord reads any size into memory). */
export const MAX_TAIL_BYTES = 4 * 1024 * 1024;
const DEFAULT_TAIL_BYTES = 1024;

/**
 * The pages load nothing from elsewhere and nothing inline: a name that slipped through
 * escaping still could not run. No framing (clickjacking a Stop button).
 */
const PAGE_SECURITY: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
};

// MeldView.__call__: every page is uncacheable.
const NO_CACHE: Record<string, string> = {
  Pragma: 'no-cache',
  'Cache-Control': 'no-cache',
  Expires: httpDate(0),
};

const VIEWS = new Set(['index.html', 'tail.html', 'ok.html']);
/** The live page's status poll (fastvisor's own; supervisord has no such URL). */
const STATUS_FEED = 'fastvisor/status.json';
/** What the live page polls every second: CPU seconds and memory, and status.json's ETag (status-feed.ts says why). */
const FIGURES_FEED = 'fastvisor/figures.json';

function packageVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(dir, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function isBackend(v: SupervisorControl | WebBackend): v is WebBackend {
  return 'namespaces' in v;
}

/**
 * The web UI for HttpHandlers.web. Give it the daemon (it builds the same XML-RPC
 * namespaces /RPC2 serves) or the namespaces and a state-change subscription directly.
 * Reads web/ now. A broken install (a file missing) must not stop the daemon from
 * supervising: then every page is a 500 whose reason goes to the main log (routes.ts
 * logs a handler's rejection), and ok.html still answers.
 */
export function createWebHandler(from: SupervisorControl | WebBackend, opts: WebHandlerOptions = {}): WebHandler {
  const backend: WebBackend = isBackend(from)
    ? from
    : { namespaces: createNamespaces(from), onStateChange: (cb) => from.supervisor.onStateChange(cb) };
  const dir = opts.dir ?? WEB_DIR;
  const version = opts.version ?? packageVersion(dir);
  const call = caller(backend);
  let assets: Assets;
  try {
    assets = loadAssets(dir);
  } catch (err) {
    const reason = `the web UI's files are broken: ${(err as Error).message}`;
    return async (req, res, ctx) => {
      req.resume();
      if (pathOf(ctx.uri) === 'ok.html') return sendPlain(res, 'OK');
      throw new Error(reason);
    };
  }
  return (req, res, ctx) => handle({ assets, call, version }, req, res, ctx);
}

interface Env {
  assets: Assets;
  call: Call;
  version: string;
}

async function handle(env: Env, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
  const method = req.method ?? 'GET';
  const name = pathOf(ctx.uri) || 'index.html';
  if (method !== 'POST') req.resume();

  if (VIEWS.has(name)) {
    // supervisor_ui_handler.match(): GET and POST; HEAD is answered as a GET without its body
    // and never runs an action. Anything else: medusa's default_handler says 400.
    if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') return sendError(res, 400);
    let body = '';
    if (method === 'POST') {
      const b = await readPostBody(req);
      if (b === null) return;
      if (b === 413) return sendError(res, 413, { Connection: 'close' });
      body = b;
    }
    const form = readForm(queryOf(ctx.uri), body);
    if (name === 'ok.html') return sendPlain(res, 'OK');
    if (name === 'tail.html') return tailView(env, res, form);
    return statusView(env, req, res, ctx, form, method === 'HEAD');
  }

  if (name === STATUS_FEED) {
    if (method !== 'GET' && method !== 'HEAD') return sendError(res, 400);
    const feed = await statusFeed(env.call);
    return sendCacheable(req, res, { body: Buffer.from(feed.body, 'utf8'), type: 'application/json; charset=utf-8', etag: feed.etag });
  }

  if (name === FIGURES_FEED) {
    if (method !== 'GET' && method !== 'HEAD') return sendError(res, 400);
    const feed = await statusFeed(env.call);
    return sendFresh(res, feed.figures, method === 'HEAD');
  }

  const file = env.assets.files.get(name);
  if (!file) return sendError(res, 404);
  if (method !== 'GET' && method !== 'HEAD') return sendError(res, 400);
  sendCacheable(req, res, file);
}

/** Revalidated on every use (an upgrade shows at once); an unchanged one costs a bodiless 304. */
function sendCacheable(req: IncomingMessage, res: ServerResponse, file: StaticFile): void {
  if (res.destroyed || res.writableEnded) return;
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', file.etag);
  // A static page (logs.html) gets the views' policy too.
  if (file.type.startsWith('text/html')) for (const [k, v] of Object.entries(PAGE_SECURITY)) res.setHeader(k, v);
  if (req.headers['if-none-match'] === file.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', file.type);
  res.setHeader('Content-Length', file.body.length);
  res.end(file.body);
}

/** JSON that is new on every request: no validator to revalidate against, never stored. */
function sendFresh(res: ServerResponse, json: string, head: boolean): void {
  if (res.destroyed || res.writableEnded) return;
  const body = Buffer.from(json, 'utf8');
  res.statusCode = 200;
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.end(head ? undefined : body);
}

/** A POST body of at most MAX_FORM_BYTES, as latin1 text (it is %-encoded); null if the client left. */
function readPostBody(req: IncomingMessage): Promise<string | null | 413> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_FORM_BYTES) {
    req.resume();
    return Promise.resolve(413);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      got += c.length;
      if (got > MAX_FORM_BYTES) over = true;
      else chunks.push(c);
    });
    req.once('end', () => resolve(over ? 413 : Buffer.concat(chunks).toString('latin1')));
    req.once('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}

function sendPlain(res: ServerResponse, text: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function sendPage(res: ServerResponse, status: number, page: string): void {
  if (res.destroyed || res.writableEnded) return;
  const body = Buffer.from(page, 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html;charset=utf-8');
  for (const [k, v] of Object.entries(NO_CACHE)) res.setHeader(k, v);
  for (const [k, v] of Object.entries(PAGE_SECURITY)) res.setHeader(k, v);
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

/**
 * Fetch Metadata: a browser says where a request comes from. An action that another site
 * triggered (a link, an <img>, a form) is refused; bookmarks (none), this page
 * (same-origin) and scripts (no header at all) go through, so nothing that worked breaks
 * but cross-site request forgery, which supervisord has no guard against.
 */
function crossSite(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

async function statusView(env: Env, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, form: Map<string, string>, head: boolean): Promise<void> {
  const action = form.get('action');
  if (action && !head) {
    if (action !== 'refresh' && crossSite(req)) return sendError(res, 403);
    let message: string;
    try {
      message = await runAction(env.call, action, form.get('processname'));
    } catch (err) {
      if (err instanceof UnknownAction) return sendError(res, 400);
      throw err;
    }
    // web.py render(): 301 to the server's root with the message; medusa's page as the body.
    const location = `${ctx.serverUrl}/?message=${pyQuote(message)}`;
    return sendError(res, 301, { Location: location, ...NO_CACHE });
  }
  const procs = await fetchProcs(env.call);
  const identification = await env.call('supervisor.getIdentification').then(
    (v) => String(v),
    () => 'supervisor',
  );
  sendPage(res, 200, renderStatus(env.assets, { message: form.get('message') ?? null, procs, identification, version: env.version }));
}

/** getAllProcessInfo with each process's CPU seconds and memory (getAllProcessStats, one call for all). */
async function fetchProcs(call: Call): Promise<ProcInfo[] | { fault: string }> {
  let v: XmlRpcValue;
  let stats: Awaited<ReturnType<typeof allStats>>;
  try {
    [v, stats] = await Promise.all([call('supervisor.getAllProcessInfo'), allStats(call)]);
  } catch (err) {
    if (err instanceof RPCError) return { fault: err.text };
    throw err;
  }
  if (!Array.isArray(v)) return [];
  return v.map((x) => {
    const s = stats.byName.get(namespec(x as XmlRpcStruct));
    return { ...(x as unknown as ProcInfo), cpu_seconds: num(s?.cpu_seconds), memory_bytes: num(s?.memory_bytes) };
  });
}

/**
 * FAILED says nothing a user can act on. The usual cause is a container's
 * stdout_logfile=/dev/stdout: the daemon's own stdout, which no daemon can read
 * back. Say so, and where the output is instead.
 */
async function whyUnreadable(env: Env, processname: string, channel: 'stdout' | 'stderr'): Promise<string> {
  let file: string;
  try {
    const info = (await env.call('supervisor.getProcessInfo', processname)) as XmlRpcStruct;
    file = String(info[`${channel}_logfile`] ?? '');
  } catch {
    return '';
  }
  let kind: string | null = null;
  try {
    const st = statSync(file);
    kind = st.isFIFO() ? 'a pipe' : st.isSocket() ? 'a socket' : st.isCharacterDevice() ? 'a device' : null;
  } catch {
    // gone meanwhile: no more to say
  }
  if (kind === null) return `\n\nThe ${channel} log ${file} could not be read.`;
  const own = /^\/dev\/(stdout|stderr)$/.exec(file)?.[1];
  const where = own
    ? `the daemon's own ${own} (docker logs, journalctl, the terminal it runs in)`
    : 'whatever reads from it';
  return `\n\nThe ${channel} log of ${processname} is ${file}, ${kind}, not a file: its output goes to ${where} and cannot be read back here.`;
}

async function tailView(env: Env, res: ServerResponse, form: Map<string, string>): Promise<void> {
  const processname = form.get('processname') ?? null;
  const channel = form.get('channel') === 'stderr' ? 'stderr' : 'stdout';
  // TailView.render(): limit=N reads max(1024, N) bytes; anything not all digits is 1024.
  const asked = form.get('limit') ?? '';
  const limit = /^[0-9]+$/.test(asked) ? Math.min(MAX_TAIL_BYTES, Math.max(DEFAULT_TAIL_BYTES, Number(asked))) : DEFAULT_TAIL_BYTES;
  const page: TailPage = { processname, channel, limit, version: env.version, live: false, snapshot: false, body: '' };
  if (processname === null) {
    return sendPage(res, 400, renderTail(env.assets, { ...page, body: 'No process name found' }));
  }
  const method = channel === 'stderr' ? 'supervisor.readProcessStderrLog' : 'supervisor.readProcessStdoutLog';
  try {
    const text = await env.call(method, processname, -limit, 0);
    return sendPage(res, 200, renderTail(env.assets, { ...page, live: true, snapshot: true, body: String(text) }));
  } catch (err) {
    if (!(err instanceof RPCError)) throw err;
    if (err.code === Faults.NO_FILE) {
      // Not written yet (or never: stderr of redirect_stderr): the page waits for it.
      return sendPage(res, 200, renderTail(env.assets, { ...page, live: true, body: `No file for ${processname}` }));
    }
    let body = `ERROR: unexpected rpc fault [${err.code}] ${err.text}`;
    if (err.code === Faults.FAILED) body += await whyUnreadable(env, processname, channel);
    return sendPage(res, err.code === Faults.BAD_NAME ? 404 : 200, renderTail(env.assets, { ...page, body }));
  }
}
