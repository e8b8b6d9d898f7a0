// SPDX-License-Identifier: MIT
// The HTTP and TCP probes against real sockets on 127.0.0.1: status codes, a server that never
// answers, a closed port, a huge body; every server and socket closed afterwards.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { errorDetail, httpProbe, oneLine, tcpProbe, timeoutDetail, type ProbeResult } from '../../../src/process/health-probes.js';
import { pollUntil } from '../../helpers/poll.js';

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function listen<S extends net.Server>(server: S): Promise<number> {
  servers.push(server);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

/** An HTTP server answering every request with `handler`; resolves to its port. */
function httpServer(handler: http.RequestListener): Promise<number> {
  return listen(http.createServer(handler));
}

/** A port nobody listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Runs the probe, failing the test if it does not settle by the deadline; also measures it. */
async function settles(p: Promise<ProbeResult>, deadlineMs: number): Promise<{ r: ProbeResult; ms: number }> {
  const t0 = performance.now();
  let out: ProbeResult | undefined;
  void p.then((r) => (out = r));
  const r = await pollUntil(() => out, { timeout: deadlineMs, what: 'the probe to settle' });
  return { r, ms: performance.now() - t0 };
}

describe('httpProbe', () => {
  it('200 is healthy; the request says who it is and where it goes, with no keep-alive', async () => {
    let seen: http.IncomingHttpHeaders | undefined;
    let url: string | undefined;
    const port = await httpServer((req, res) => {
      seen = req.headers;
      url = req.url;
      res.end('ok');
    });
    const { r } = await settles(httpProbe(`http://127.0.0.1:${port}/healthz?full=1`)(2000), 5000);
    expect(r).toEqual({ ok: true, detail: 'HTTP 200' });
    expect(url).toBe('/healthz?full=1');
    expect(seen?.host).toBe(`127.0.0.1:${port}`);
    expect(seen?.['user-agent']).toBe('fastvisor-healthcheck');
    expect(seen?.connection).toBe('close');
    // The probe's socket goes away: nothing is left open on the server.
    await pollUntil(() => sockets.size === 0, { timeout: 5000, what: 'the probe socket to close' });
  });

  it('503 is unhealthy', async () => {
    const port = await httpServer((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    const { r } = await settles(httpProbe(`http://127.0.0.1:${port}/`)(2000), 5000);
    expect(r).toEqual({ ok: false, detail: 'HTTP 503' });
  });

  it('a 302 is healthy and is not followed', async () => {
    let hits = 0;
    const port = await httpServer((_req, res) => {
      hits++;
      res.writeHead(302, { Location: `/elsewhere` });
      res.end();
    });
    const { r } = await settles(httpProbe(`http://127.0.0.1:${port}/`)(2000), 5000);
    expect(r).toEqual({ ok: true, detail: 'HTTP 302' });
    expect(hits).toBe(1);
  });

  it('a server that accepts and never answers: timed out after 0.2 s, on time, socket closed', async () => {
    // Reads (and drops) the request, so it sees the probe hang up.
    const port = await listen(net.createServer((s) => s.resume()));
    const { r, ms } = await settles(httpProbe(`http://127.0.0.1:${port}/`)(200), 3000);
    expect(r).toEqual({ ok: false, detail: 'timed out after 0.2 s' });
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(2000);
    await pollUntil(() => sockets.size === 0, { timeout: 5000, what: 'the probe socket to close' });
  });

  it('headers sent, body never ending: the timeout covers the body too', async () => {
    const port = await httpServer((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const { r } = await settles(httpProbe(`http://127.0.0.1:${port}/`)(200), 3000);
    expect(r).toEqual({ ok: false, detail: 'timed out after 0.2 s' });
  });

  it('a closed port: connection refused, with the address', async () => {
    const port = await closedPort();
    const { r } = await settles(httpProbe(`http://127.0.0.1:${port}/`)(2000), 5000);
    expect(r).toEqual({ ok: false, detail: `connection refused (127.0.0.1:${port})` });
  });

  it('a server that closes without answering', async () => {
    const port = await listen(net.createServer((s) => s.destroy()));
    const { r } = await settles(httpProbe(`http://127.0.0.1:${port}/`)(2000), 5000);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(new RegExp(`^connection (closed without a response|reset) \\(127\\.0\\.0\\.1:${port}\\)$`));
  });

  it('a huge endless body is not read to the end: the probe settles on the status', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    const port = await httpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      // Writes for as long as the client reads: stops once the probe hangs up.
      const pump = (): void => {
        while (!res.destroyed && written < 1024 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    const { r } = await settles(httpProbe(`http://127.0.0.1:${port}/`)(5000), 5000);
    expect(r).toEqual({ ok: true, detail: 'HTTP 200' });
    await pollUntil(() => sockets.size === 0, { timeout: 5000, what: 'the probe socket to close' });
    // Far less than the gigabyte on offer (kernel buffers hold some megabytes at most).
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('basic auth from the URL', async () => {
    let auth: string | undefined;
    const port = await httpServer((req, res) => {
      auth = req.headers.authorization;
      res.end();
    });
    const { r } = await settles(httpProbe(`http://user:p%40ss@127.0.0.1:${port}/`)(2000), 5000);
    expect(r.ok).toBe(true);
    expect(auth).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('a URL that does not parse, or is not http:, always fails and never throws', async () => {
    expect(await httpProbe('not a url')(100)).toEqual({ ok: false, detail: 'invalid URL: not a url' });
    expect(await httpProbe('https://127.0.0.1/')(100)).toEqual({ ok: false, detail: 'unsupported URL scheme https: (https://127.0.0.1/)' });
  });
});

describe('tcpProbe', () => {
  it('a listening port is healthy and the connection is closed at once', async () => {
    const port = await listen(net.createServer((s) => s.resume()));
    const { r } = await settles(tcpProbe('127.0.0.1', port)(2000), 5000);
    expect(r).toEqual({ ok: true, detail: `connected to 127.0.0.1:${port}` });
    await pollUntil(() => sockets.size === 0, { timeout: 5000, what: 'the probe socket to close' });
  });

  it('a closed port: connection refused', async () => {
    const port = await closedPort();
    const { r } = await settles(tcpProbe('127.0.0.1', port)(2000), 5000);
    expect(r).toEqual({ ok: false, detail: `connection refused (127.0.0.1:${port})` });
  });

  it('a port out of range fails and never throws', async () => {
    const { r } = await settles(tcpProbe('127.0.0.1', 70_000)(200), 3000);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('(127.0.0.1:70000)');
  });
});

describe('details', () => {
  it('one line, at most 200 characters', () => {
    expect(oneLine('exit status 1:\n  oops\r\n')).toBe('exit status 1: oops');
    const long = oneLine('x'.repeat(500));
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
  });

  it('timeouts in seconds', () => {
    expect(timeoutDetail(5000)).toBe('timed out after 5 s');
    expect(timeoutDetail(200)).toBe('timed out after 0.2 s');
    expect(timeoutDetail(1500)).toBe('timed out after 1.5 s');
  });

  it('socket errors by name, IPv6 addresses in brackets', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED ::1:80'), { code: 'ECONNREFUSED' });
    expect(errorDetail(err, '[::1]:80')).toBe('connection refused ([::1]:80)');
    expect(errorDetail(Object.assign(new Error('x'), { code: 'EWHATEVER' }), 'h:1')).toBe('EWHATEVER (h:1)');
    expect(errorDetail(new Error('odd'), 'h:1')).toBe('odd (h:1)');
  });
});
