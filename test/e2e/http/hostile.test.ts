// SPDX-License-Identifier: MIT
// Input meant to hurt: malformed requests, huge headers, slowloris, traversal in
// /logtail names, clients vanishing mid-request, failing handlers. Never a crash, and
// other clients keep being served meanwhile.
import net from 'node:net';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

import { sendError } from '../../../src/http/index.js';
import { basicAuth, closeFixtures, inetServer, openStream, startFixture, unixServer } from '../../helpers/http-fixture.js';
import { parseResponse, rawRequest, type Addr } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  killTracked();
  await closeFixtures();
  removeTmpDirs();
});

async function status(addr: Addr, request: string): Promise<number> {
  return parseResponse((await rawRequest(addr, request)).raw).status;
}

const OK_REQUEST = 'GET /logtail/none HTTP/1.1\r\nHost: x\r\n\r\n';

describe('malformed requests', () => {
  it('answers garbage with a 400 page and closes, then serves the next client', async () => {
    const fx = await startFixture([inetServer()]);
    for (const junk of ['BLAH\r\n\r\n', 'GET\r\n\r\n', '\x00\x01\x02\xff\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET / HTTP/1.1\r\nbad header\r\n\r\n']) {
      const r = await rawRequest(fx.addr(), Buffer.from(junk, 'latin1'), { waitClose: true, timeoutMs: 2000 });
      expect(r.closed).toBe(true);
      expect(r.raw.toString('latin1').split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    }
    expect(await status(fx.addr(), OK_REQUEST)).toBe(404);
  });

  it('answers a header block over the limit with 431 and stays up', async () => {
    const fx = await startFixture([inetServer()]);
    const huge = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
    const r = await rawRequest(fx.addr(), huge, { waitClose: true });
    expect(r.raw.toString('latin1').split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(r.closed).toBe(true);
    expect(await status(fx.addr(), OK_REQUEST)).toBe(404);
  });

  it('treats an absolute-form or odd target as an unknown path, not a crash', async () => {
    const fx = await startFixture([inetServer()]);
    expect(await status(fx.addr(), 'GET http://evil/RPC2 HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(404);
    expect(await status(fx.addr(), 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(404);
    expect(await status(fx.addr(), 'GET /%zz%ff%00 HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(404);
    expect(await status(fx.addr(), 'GET /logtail/%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(404);
  });

  it('answers pipelined requests in order', async () => {
    const fx = await startFixture([inetServer()]);
    const r = await rawRequest(
      fx.addr(),
      'GET /RPC2 HTTP/1.1\r\nHost: x\r\n\r\nGET /logtail/none HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      { waitClose: true },
    );
    const codes = [...r.raw.toString('latin1').matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => m[1]);
    expect(codes).toEqual(['400', '404', '404']);
  });
});

describe('slow and vanishing clients', () => {
  it('drops a slowloris (headers that never finish) with 408, serving others meanwhile', async () => {
    const fx = await startFixture([inetServer()], { headersTimeoutMs: 300 });
    const a = fx.addr() as { host: string; port: number };
    const slow = net.connect(a.port, a.host);
    let got = '';
    let closed = false;
    slow.on('data', (d: Buffer) => (got += d.toString('latin1')));
    slow.on('close', () => (closed = true));
    slow.on('error', () => {});
    slow.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const drip = setInterval(() => slow.writable && slow.write('a'), 50);
    try {
      // The server is not blocked by it.
      expect(await status(fx.addr(), OK_REQUEST)).toBe(404);
      await pollUntil(() => closed, { timeout: 5000, what: 'slowloris dropped' });
      expect(got.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Time-out');
    } finally {
      clearInterval(drip);
      slow.destroy();
    }
  });

  it('drops a connection that never sends a request', async () => {
    const fx = await startFixture([inetServer()], { headersTimeoutMs: 200 });
    const r = await rawRequest(fx.addr(), '', { waitClose: true, timeoutMs: 3000 });
    expect(r.closed).toBe(true);
  });

  it('keeps an idle keep-alive connection open after a complete request (medusa has no idle limit)', async () => {
    const fx = await startFixture([inetServer()], { headersTimeoutMs: 200 });
    const r = await rawRequest(fx.addr(), OK_REQUEST, { waitClose: true, timeoutMs: 800 });
    expect(r.closed).toBe(false);
  });

  it('survives a client that leaves in the middle of a request body', async () => {
    const fx = await startFixture([inetServer()]);
    const a = fx.addr() as { host: string; port: number };
    const s = net.connect(a.port, a.host);
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write('POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<?xml');
    s.destroy();
    expect(await status(fx.addr(), OK_REQUEST)).toBe(404);
    expect(fx.rpcCalls).toHaveLength(0);
  });

  it('survives a request timeout on a body that trickles in', async () => {
    const fx = await startFixture([inetServer()], { headersTimeoutMs: 100, requestTimeoutMs: 300 });
    const r = await rawRequest(fx.addr(), 'POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<?xml', {
      waitClose: true,
      timeoutMs: 5000,
    });
    expect(r.closed).toBe(true);
    expect(await status(fx.addr(), OK_REQUEST)).toBe(404);
  });

  it('a stream outlives the request timeouts (they only bound the request, not the reply)', async () => {
    const log = path.join(tmpDir(), 'long.log');
    writeFileSync(log, 'start\n');
    const fx = await startFixture([inetServer()], { headersTimeoutMs: 100, requestTimeoutMs: 200, tailPollMs: 20 });
    fx.files.set('long/stdout', log);
    const s = await openStream(fx.addr(), '/logtail/long');
    await new Promise((r) => setTimeout(r, 800));
    expect(s.ended()).toBe(false);
    s.destroy();
  });
});

describe('/logtail names are lookups, never paths', () => {
  it('hands traversal attempts to the resolver as names, or refuses them', async () => {
    const fx = await startFixture([inetServer()]);
    for (const target of [
      '/logtail/..%2F..%2Fetc%2Fpasswd',
      '/logtail/../../etc/passwd',
      '/logtail/%2e%2e/%2e%2e',
      '/logtail/..',
      '/logtail/%2Fetc%2Fpasswd',
      '/logtail/cat%00/stdout',
    ]) {
      expect(await status(fx.addr(), `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`)).toBe(404);
    }
    // No lookup ever carried a '/': the name is one path segment.
    expect(fx.lookups.length).toBeGreaterThan(0);
    expect(fx.lookups.every(([name]) => !name.includes('/'))).toBe(true);
  });
});

describe('handlers that fail', () => {
  it('turns a web handler that throws (sync or async) into a 500 page and a log line', async () => {
    const fx = await startFixture([inetServer()], {
      web: (req) => {
        if (req.url === '/sync') throw new Error('sync boom');
        return Promise.reject(new Error('async boom'));
      },
    });
    expect(await status(fx.addr(), 'GET /sync HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(500);
    expect(await status(fx.addr(), 'GET /async HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(500);
    expect(fx.logs.filter(([l]) => l === 'error').map(([, m]) => m)).toEqual([
      'Server Error: Error, sync boom',
      'Server Error: Error, async boom',
    ]);
  });

  it('a resolver that throws is a 500, the server stays up', async () => {
    const sock = path.join(tmpDir(), 's.sock');
    const fail = (): never => {
      throw new Error('resolver failed');
    };
    await startFixture([unixServer(sock)], { logFile: fail, mainLogFile: fail });
    expect(await status({ path: sock }, 'GET /logtail/x HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(500);
    expect(await status({ path: sock }, 'GET /mainlogtail HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(500);
    expect(await status({ path: sock }, 'GET /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(400);
  });
});

describe('the web handler', () => {
  it('gets everything that is not RPC or a tail, behind auth, with the user and the server URL', async () => {
    const seen: { url: string; user: string | null; serverUrl: string }[] = [];
    const fx = await startFixture([inetServer({ username: 'user', password: 'pass' })], {
      web: (req, res, ctx) => {
        seen.push({ url: ctx.uri, user: ctx.username, serverUrl: ctx.serverUrl });
        if (req.url === '/missing') return sendError(res, 404);
        res.setHeader('Content-Type', 'text/plain');
        res.end('OK');
      },
    });
    const auth = `Authorization: ${basicAuth('user', 'pass')}\r\n`;
    expect(await status(fx.addr(), 'GET /ok.html HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(401);
    const ok = parseResponse((await rawRequest(fx.addr(), `GET /ok.html HTTP/1.1\r\nHost: example:9001\r\n${auth}\r\n`)).raw);
    expect(ok.body.toString()).toBe('OK');
    expect(ok.headers.slice(0, 2).map(([k]) => k)).toEqual(['Server', 'Date']);
    expect(await status(fx.addr(), `GET /missing HTTP/1.1\r\nHost: example:80\r\n${auth}\r\n`)).toBe(404);
    expect(await status(fx.addr(), `GET /st%61tus HTTP/1.1\r\n${auth}\r\n`)).toBe(200);
    expect(seen).toEqual([
      { url: '/ok.html', user: 'user', serverUrl: 'http://example:9001' },
      { url: '/missing', user: 'user', serverUrl: 'http://example' },
      { url: '/status', user: 'user', serverUrl: `http://127.0.0.1:${(fx.servers.addresses[0] as { port: number }).port}` },
    ]);
  });

  it('without a web handler, every other path is a medusa 404 page', async () => {
    const fx = await startFixture([inetServer()]);
    const r = parseResponse((await rawRequest(fx.addr(), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).raw);
    expect(r.status).toBe(404);
    expect(r.body.toString()).toContain('<p>Error code 404.\r\n<p>Message: Not Found.');
  });
});

describe('many clients', () => {
  it('serves 100 concurrent connections', async () => {
    const fx = await startFixture([inetServer()]);
    const codes = await Promise.all(Array.from({ length: 100 }, () => status(fx.addr(), OK_REQUEST)));
    expect(new Set(codes)).toEqual(new Set([404]));
  });
});
