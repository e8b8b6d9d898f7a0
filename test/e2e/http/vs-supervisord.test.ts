// SPDX-License-Identifier: MIT
// The same raw requests to the real supervisord 4.2.5 and to fastvisor's servers, the
// replies compared byte for byte after removing what legitimately differs (Date values,
// Node's Connection header, the HTTP version Node puts in every status line).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { basicAuth, closeFixtures, inetServer, startFixture, type Fixture } from '../../helpers/http-fixture.js';
import { freePort, parseResponse, rawRequest, startRealSupervisord, type Addr, type ParsedResponse, type RealSupervisord } from '../../helpers/http-raw.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

let real: RealSupervisord;
let realAddr: Addr;
let fx: Fixture;

beforeAll(async () => {
  const dir = tmpDir();
  const port = await freePort();
  real = await startRealSupervisord(
    dir,
    `[inet_http_server]
port=127.0.0.1:${port}
username=user
password=pass

[supervisord]
logfile=${dir}/supervisord.log
pidfile=${dir}/supervisord.pid
nodaemon=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
`,
    { host: '127.0.0.1', port },
  );
  realAddr = { host: '127.0.0.1', port };
  fx = await startFixture([inetServer({ username: 'user', password: 'pass' })], { tailPollMs: 20 });
  const main = path.join(dir, 'ours.log');
  writeFileSync(main, 'a line\n');
  fx.files.set('main', main);
});

afterAll(async () => {
  await real?.stop();
  killTracked();
  await closeFixtures();
  removeTmpDirs();
});

const AUTH = `Authorization: ${basicAuth('user', 'pass')}\r\n`;

/** Everything that should match: status, header names in order with their values, body. */
function normalize(r: ParsedResponse, http10: boolean): { status: string; headers: string[]; body: string } {
  return {
    // Node answers "HTTP/1.1" whatever the request said; medusa echoes the request's version.
    status: r.statusLine.replace(/^HTTP\/1\.[01] /, ''),
    headers: r.headers
      // Connection values are case-insensitive (medusa: Keep-Alive, Node: keep-alive).
      .map(([k, v]): [string, string] => [k, k === 'Connection' ? v.toLowerCase() : v])
      // Node says keep-alive on every kept HTTP/1.1 reply and close on every HTTP/1.0 one it
      // closes; medusa leaves both implicit (same meaning). The rest must match.
      .filter(([k, v]) => !(k === 'Connection' && (http10 ? v === 'close' : v === 'keep-alive')))
      .map(([k, v]) => (k === 'Date' || k === 'Last-Modified' ? `${k}: <date>` : `${k}: ${v}`)),
    body: r.body.toString('latin1'),
  };
}

async function both(request: string, timeoutMs = 1500): Promise<[ReturnType<typeof normalize>, ReturnType<typeof normalize>]> {
  const http10 = / HTTP\/1\.0\r\n/.test(request);
  const [a, b] = await Promise.all([rawRequest(realAddr, request, { timeoutMs }), rawRequest(fx.addr(), request, { timeoutMs })]);
  return [normalize(parseResponse(a.raw), http10), normalize(parseResponse(b.raw), http10)];
}

describe('fastvisor answers as supervisord does', () => {
  const cases: [string, string][] = [
    ['401 without credentials', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['401 on /RPC2 without credentials', 'POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'],
    ['401 for a wrong password', `GET /logtail/x HTTP/1.1\r\nAuthorization: ${basicAuth('user', 'nope')}\r\n\r\n`],
    ['401 for an unknown user', `GET / HTTP/1.1\r\nAuthorization: ${basicAuth('root', 'pass')}\r\n\r\n`],
    ['401 for Digest auth', 'GET / HTTP/1.1\r\nAuthorization: Digest username="user"\r\n\r\n'],
    ['401 on HTTP/1.0', 'GET / HTTP/1.0\r\n\r\n'],
    ['400 for GET /RPC2', `GET /RPC2 HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`],
    ['411 for POST /RPC2 without Content-Length', `POST /RPC2 HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`],
    ['404 for an unknown process', `GET /logtail/nope HTTP/1.1\r\n${AUTH}\r\n`],
    ['404 for an unknown channel', `GET /logtail/nope/bogus HTTP/1.1\r\n${AUTH}\r\n`],
    ['404 for a traversal attempt', `GET /logtail/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\n${AUTH}\r\n`],
    ['400 for POST /logtail', `POST /logtail/nope HTTP/1.1\r\nContent-Length: 0\r\n${AUTH}\r\n`],
    ['400 for POST /mainlogtail', `POST /mainlogtail HTTP/1.1\r\nContent-Length: 0\r\n${AUTH}\r\n`],
    ['404 on HTTP/1.0', `GET /logtail/nope HTTP/1.0\r\n${AUTH}\r\n`],
    ['404 on HTTP/1.0 with keep-alive', `GET /logtail/nope HTTP/1.0\r\nConnection: keep-alive\r\n${AUTH}\r\n`],
  ];
  for (const [title, request] of cases) {
    it(title, async () => {
      const [theirs, ours] = await both(request);
      expect(ours).toEqual(theirs);
    });
  }

  it('the 401 is exactly medusa\'s: Connection: close, WWW-Authenticate, the HTML page', async () => {
    const [theirs] = await both('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(theirs.headers).toEqual([
      'Server: Medusa/1.12',
      'Date: <date>',
      'Connection: close',
      'WWW-Authenticate: Basic realm="default"',
      'Content-Length: 137',
      'Content-Type: text/html',
    ]);
  });

  it('/mainlogtail starts its stream with the same headers', async () => {
    const request = `GET /mainlogtail HTTP/1.1\r\n${AUTH}\r\n`;
    const [a, b] = await Promise.all([
      rawRequest(realAddr, request, { timeoutMs: 400 }),
      rawRequest(fx.addr(), request, { timeoutMs: 400 }),
    ]);
    expect(normalize(parseResponse(b.raw), false).headers).toEqual(normalize(parseResponse(a.raw), false).headers);
  });
});
