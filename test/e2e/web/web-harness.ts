// SPDX-License-Identifier: MIT
// What the web UI tests share: a daemon with an [inet_http_server] behind Basic auth and
// a few programs, HTTP requests with or without credentials, and headless Chromium
// (Debian's /usr/bin/chromium driven by playwright-core; .ci/run installs it).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { chromium, type Browser } from 'playwright-core';

import { REPO, startDaemon, type Daemon, type DaemonKind } from '../../helpers/daemon-harness.js';
import { freePort } from '../../helpers/http-raw.js';

export const USER = 'admin';
export const PASSWORD = 's3cret-pw';
export const CHROMIUM = process.env.FASTVISOR_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots land here; the directory ignores itself in git. */
export const RESULTS_DIR = path.join(REPO, 'test-results', 'web');

/**
 * sleeper: a plain long-running process to stop and start. ticker: a line of ~75 bytes every 100 ms
 * (the tail test watches the count grow). web: a group of three, for folding.
 * quick: exits at once, so it ends FATAL (a red row).
 */
/** ticker's lines are long enough (~75 bytes) for its log to pass a few KiB in seconds. */
export const TICK_PAD = 'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do';

export function webConfig(port: number, extra = ''): string {
  return `[inet_http_server]
port=127.0.0.1:${port}
username=${USER}
password=${PASSWORD}

[program:sleeper]
command=/bin/sleep 1000
startsecs=0
stopwaitsecs=5

[program:ticker]
command=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i ${TICK_PAD}"; sleep 0.1; done'
startsecs=0
stopasgroup=true
killasgroup=true

[program:web]
command=/bin/sleep 1000
process_name=%(program_name)s_%(process_num)d
numprocs=3
startsecs=0

[program:quick]
command=/bin/false
startsecs=1
startretries=0
${extra}`;
}

export interface WebDaemon {
  daemon: Daemon;
  port: number;
  base: string;
}

/** A daemon (fastvisor or the real supervisord) with the web config, all programs settled. */
export async function startWebDaemon(kind: DaemonKind = 'fastvisor', extra = ''): Promise<WebDaemon> {
  const port = await freePort();
  const daemon = await startDaemon(kind, webConfig(port, extra));
  return { daemon, port, base: `http://127.0.0.1:${port}` };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

/** One request; `auth: null` sends none. Never follows redirects. */
export function request(
  url: string,
  opts: { method?: string; auth?: string | null; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    const auth = opts.auth === undefined ? AUTH : opts.auth;
    if (auth) headers.Authorization = auth;
    if (opts.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    const req = http.request(url, { method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The message a web action redirects with (decoded), or throws with what came back. */
export function redirectMessage(r: Reply): string {
  const loc = r.headers.location;
  if (r.status !== 301 || !loc) throw new Error(`expected a 301 with a Location, got ${r.status}: ${r.body.slice(0, 200)}`);
  return new URL(loc).searchParams.get('message') ?? '';
}

/** time.ctime() text in a message, for comparing two runs. */
export function withoutTime(message: string): string {
  return message.replace(/ at [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/, ' at <ctime>');
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set FASTVISOR_CHROMIUM)`);
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** The screenshot directory, with a .gitignore of its own so no run dirties the tree. */
export function resultsDir(): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const ignore = path.join(REPO, 'test-results', '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '*\n');
  return RESULTS_DIR;
}
