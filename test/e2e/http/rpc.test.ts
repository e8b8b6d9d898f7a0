// SPDX-License-Identifier: MIT
// POST /RPC2 through real clients: supervisor.xmlrpc.SupervisorTransport (what
// supervisorctl uses) over the unix socket and TCP, plain xmlrpc.client, with and without
// Basic auth (plain and {SHA} passwords), and the HTTP-level refusals around it.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { MAX_BODY_BYTES } from '../../../src/rpc/codec.js';
import { basicAuth, closeFixtures, inetServer, pyCalls, startFixture, unixServer } from '../../helpers/http-fixture.js';
import { header, parseResponse, rawRequest } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  killTracked();
  await closeFixtures();
  removeTmpDirs();
});

const SHA_TEST = `{SHA}${createHash('sha1').update('test').digest('hex')}`;

describe('XML-RPC over the unix socket and TCP', () => {
  it('answers SupervisorTransport on both servers at once, without auth', async () => {
    const sock = path.join(tmpDir(), 'supervisor.sock');
    const fx = await startFixture([unixServer(sock), inetServer()]);
    const tcp = fx.servers.addresses[1] as { port: number };
    for (const url of [`unix://${sock}`, `http://127.0.0.1:${tcp.port}`]) {
      const r = await pyCalls(url, [['supervisor.getVersion'], ['test.echo', 'h\u00e9llo', 42, [1, 2], { a: true }], ['test.fault']]);
      expect(r).toEqual([
        { ok: '3.0' },
        { ok: ['test.echo', 'h\u00e9llo', 42, [1, 2], { a: true }] },
        { fault: 10, text: 'BAD_NAME: nope' },
      ]);
    }
    // supervisord logs one CRIT per open server.
    expect(fx.logs.filter(([l]) => l === 'critical').map(([, m]) => m)).toEqual([
      "Server 'unix_http_server' running without any HTTP authentication checking",
      "Server 'inet_http_server' running without any HTTP authentication checking",
    ]);
  });

  it("names the server's own section in the no-auth CRIT line ([inet_http_server:two])", async () => {
    const fx = await startFixture([inetServer({ section: 'inet_http_server:two', name: 'two' })]);
    expect(fx.logs.filter(([l]) => l === 'critical').map(([, m]) => m)).toEqual([
      "Server 'inet_http_server:two' running without any HTTP authentication checking",
    ]);
    expect(fx.logs.filter(([l]) => l === 'info').map(([, m]) => m)).toEqual(["RPC interface 'supervisor' initialized"]);
  });

  it('checks a plain password and a {SHA} one; wrong or missing credentials are a 401 ProtocolError', async () => {
    const sock = path.join(tmpDir(), 's.sock');
    const fx = await startFixture([
      unixServer(sock, { username: 'user', password: SHA_TEST }),
      inetServer({ username: 'user', password: 'pass' }),
    ]);
    const port = (fx.servers.addresses[1] as { port: number }).port;
    expect(await pyCalls(`unix://${sock}`, [['supervisor.getVersion']], { username: 'user', password: 'test' })).toEqual([{ ok: '3.0' }]);
    expect(await pyCalls(`unix://${sock}`, [['supervisor.getVersion']], { username: 'user', password: 'nope' })).toEqual([{ protocol: 401 }]);
    // The {SHA} value itself is not the password.
    expect(await pyCalls(`unix://${sock}`, [['supervisor.getVersion']], { username: 'user', password: SHA_TEST })).toEqual([{ protocol: 401 }]);
    expect(await pyCalls(`unix://${sock}`, [['supervisor.getVersion']])).toEqual([{ protocol: 401 }]);

    expect(await pyCalls(`http://127.0.0.1:${port}`, [['supervisor.getVersion']], { username: 'user', password: 'pass' })).toEqual([{ ok: '3.0' }]);
    expect(await pyCalls(`http://user:pass@127.0.0.1:${port}/RPC2`, [['supervisor.getVersion']], { plain: true })).toEqual([{ ok: '3.0' }]);
    expect(await pyCalls(`http://user:bad@127.0.0.1:${port}/RPC2`, [['supervisor.getVersion']], { plain: true })).toEqual([{ protocol: 401 }]);
    expect(await pyCalls(`http://Usr:pass@127.0.0.1:${port}/RPC2`, [['supervisor.getVersion']], { plain: true })).toEqual([{ protocol: 401 }]);
    expect(fx.logs.some(([l]) => l === 'critical')).toBe(false);
    // The handler learns who called.
    expect(fx.rpcCalls.every((c) => c.ctx.username === 'user')).toBe(true);
  });

  it('refuses with 401 before reading a large body, yet the client still reads the 401 (no reset)', async () => {
    const fx = await startFixture([inetServer({ username: 'user', password: 'pass' })]);
    const port = (fx.servers.addresses[0] as { port: number }).port;
    const big = 'x'.repeat(MAX_BODY_BYTES - 4096);
    const r = await pyCalls(`http://127.0.0.1:${port}`, [['test.echo', big], ['supervisor.getVersion']], { username: 'user', password: 'bad' });
    expect(r).toEqual([{ protocol: 401 }, { protocol: 401 }]);
    expect(fx.rpcCalls).toHaveLength(0);
  });

  it('keeps one connection alive across calls (SupervisorTransport reuses it)', async () => {
    const fx = await startFixture([inetServer()]);
    const port = (fx.servers.addresses[0] as { port: number }).port;
    await pyCalls(`http://127.0.0.1:${port}`, [['a.b'], ['c.d'], ['e.f']]);
    const peers = fx.logs
      .filter(([l, m]) => l === 'trace' && m.includes('"POST /RPC2 HTTP/1.1" 200'))
      .map(([, m]) => m.split(' ')[0]);
    expect(peers).toHaveLength(3);
    expect(new Set(peers).size).toBe(1);
  });

  it('answers 413 to a body over MAX_BODY_BYTES, readable by xmlrpc.client, and serves the next call', async () => {
    const sock = path.join(tmpDir(), 's.sock');
    const fx = await startFixture([unixServer(sock)]);
    const r = await pyCalls(`unix://${sock}`, [['test.echo', 'y'.repeat(MAX_BODY_BYTES + 1)], ['supervisor.getVersion']]);
    expect(r).toEqual([{ protocol: 413 }, { ok: '3.0' }]);
    expect(fx.rpcCalls.map((c) => c.method)).toEqual(['supervisor.getVersion']);
  });

  it('GET /RPC2 is 400, POST without Content-Length is 411, as medusa answers', async () => {
    const fx = await startFixture([inetServer()]);
    const get = parseResponse((await rawRequest(fx.addr(), 'GET /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n')).raw);
    expect(get.statusLine).toBe('HTTP/1.1 400 Bad Request');
    const noLength = parseResponse((await rawRequest(fx.addr(), 'POST /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n')).raw);
    expect(noLength.statusLine).toBe('HTTP/1.1 411 Length Required');
    // Any URI starting with /RPC2 is the RPC handler's, as in medusa.
    const prefixed = parseResponse((await rawRequest(fx.addr(), 'GET /RPC2/anything HTTP/1.1\r\nHost: x\r\n\r\n')).raw);
    expect(prefixed.status).toBe(400);
  });

  it('replies text/xml with a Content-Length, keeping the HTTP/1.1 connection open', async () => {
    const fx = await startFixture([inetServer()]);
    const body = "<?xml version='1.0'?><methodCall><methodName>supervisor.getVersion</methodName></methodCall>";
    const req = `POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const res = await rawRequest(fx.addr(), req + req, { timeoutMs: 500, waitClose: true });
    expect(res.closed).toBe(false);
    const text = res.raw.toString();
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    const first = parseResponse(res.raw);
    expect(first.headers.map(([k]) => k)).toEqual(['Server', 'Date', 'Content-Type', 'Content-Length', 'Connection']);
    expect(header(first, 'Content-Type')).toBe('text/xml');
  });

  it('maps a handler error with a status to that status, anything else to 500 with a log line', async () => {
    const fx = await startFixture([inetServer()]);
    const port = (fx.servers.addresses[0] as { port: number }).port;
    const r = await pyCalls(`http://127.0.0.1:${port}`, [['test.httpStatus'], ['test.crash'], ['supervisor.getVersion']]);
    expect(r).toEqual([{ protocol: 400 }, { protocol: 500 }, { ok: '3.0' }]);
    expect(fx.logs.some(([l, m]) => l === 'error' && m === 'Server Error: Error, boom')).toBe(true);
  });

  it('tells a pending call that its client went away (the abort signal)', async () => {
    const fx = await startFixture([inetServer()]);
    const body = "<?xml version='1.0'?><methodCall><methodName>test.hang</methodName></methodCall>";
    const pending = rawRequest(fx.addr(), `POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`, {
      timeoutMs: 200,
    });
    expect((await pending).raw.length).toBe(0);
    await pollUntil(() => fx.aborted.length === 1, { what: 'abort of test.hang' });
    // The server is fine afterwards.
    const port = (fx.servers.addresses[0] as { port: number }).port;
    expect(await pyCalls(`http://127.0.0.1:${port}`, [['supervisor.getVersion']])).toEqual([{ ok: '3.0' }]);
  });

  it('answers a request sent with Expect: 100-continue (curl does that for big bodies)', async () => {
    const fx = await startFixture([inetServer({ username: 'user', password: 'pass' })]);
    const body = "<?xml version='1.0'?><methodCall><methodName>supervisor.getVersion</methodName></methodCall>";
    const res = await rawRequest(
      fx.addr(),
      `POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth('user', 'pass')}\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(res.raw.toString()).toContain('HTTP/1.1 200 OK');
    expect(res.raw.toString()).toContain('<string>3.0</string>');
  });
});
