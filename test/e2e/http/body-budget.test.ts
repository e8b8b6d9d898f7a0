// SPDX-License-Identifier: MIT
// The bytes of request bodies all connections may hold at once (BODY_BUDGET, small here):
// past it a body is refused with a 503 page and its connection closed; small bodies (every
// supervisorctl call) keep a reserve; a body that has stalled makes way for one that is
// arriving; what a request held is given back once its reply is out.
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { closeFixtures, startFixture, unixServer, type Fixture } from '../../helpers/http-fixture.js';
import { header, parseResponse, rawRequest, type Addr } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  killTracked();
  await closeFixtures();
  removeTmpDirs();
});

const BUDGET = 64 * 1024;

/** test.echo with a string param padded so the whole body is `size` bytes. */
function echoBody(size: number): Buffer {
  const head = "<?xml version='1.0'?><methodCall><methodName>test.echo</methodName><params><param><value><string>";
  const tail = '</string></value></param></params></methodCall>';
  return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail);
}

function post(body: Buffer, contentLength = body.length): Buffer {
  return Buffer.concat([Buffer.from(`POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: ${contentLength}\r\n\r\n`), body]);
}

/** A connection that sends the first `sent` bytes of a body and then waits. */
async function holder(addr: Addr, body: Buffer, sent: number): Promise<{ sock: net.Socket; raw: () => Buffer; closed: () => boolean }> {
  const sock = 'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
  let raw = Buffer.alloc(0);
  let closed = false;
  sock.on('data', (d: Buffer) => (raw = Buffer.concat([raw, d])));
  sock.on('error', () => {});
  sock.on('close', () => (closed = true));
  await new Promise<void>((resolve) => sock.once('connect', resolve));
  await new Promise<void>((resolve) => sock.write(post(body.subarray(0, sent), body.length), () => resolve()));
  return { sock, raw: () => raw, closed: () => closed };
}

async function start(stallMs: number): Promise<{ fx: Fixture; addr: Addr }> {
  const sock = path.join(tmpDir(), 's.sock');
  const fx = await startFixture([unixServer(sock)], { bodyBudgetBytes: BUDGET, bodyStallMs: stallMs });
  return { fx, addr: { path: sock } };
}

describe('what all request bodies together may hold', () => {
  it('refuses a body past the budget with a 503 page and closes; small calls still pass; the holder finishes', async () => {
    const { fx, addr } = await start(60_000);
    const big = echoBody(40_000);
    const h = await holder(addr, big, 30_000);
    await pollUntil(() => fx.servers.bodyBytesHeld === 30_000, { what: 'the server holding 30 000 bytes' });
    // They leave no room for another 30 000 (large bodies may fill 7/8 of the budget).
    const refused = await rawRequest(addr, post(echoBody(30_000)), { waitClose: true, timeoutMs: 5000 });
    const res = parseResponse(refused.raw);
    expect(res.statusLine).toBe('HTTP/1.1 503 Service Unavailable');
    expect(header(res, 'Connection')).toBe('close');
    expect(res.body.length).toBe(Number(header(res, 'Content-Length')));
    expect(refused.closed).toBe(true);
    // A call of a few hundred bytes has its reserve.
    const small = await rawRequest(addr, post(Buffer.from("<?xml version='1.0'?><methodCall><methodName>supervisor.getVersion</methodName></methodCall>")));
    expect(parseResponse(small.raw).status).toBe(200);
    // The holder sends the rest and gets its answer; then its bytes are free again.
    h.sock.write(big.subarray(30_000));
    await pollUntil(() => h.raw().includes('</methodResponse>'), { what: 'the held call answered' });
    expect(parseResponse(h.raw()).status).toBe(200);
    h.sock.destroy();
    const again = await rawRequest(addr, post(echoBody(30_000)));
    expect(parseResponse(again.raw).status).toBe(200);
    expect(fx.rpcCalls.map((c) => c.method)).toEqual(['supervisor.getVersion', 'test.echo', 'test.echo']);
  });

  it('cuts a body that has stalled to make way for one that is arriving', async () => {
    const { fx, addr } = await start(200);
    const stalled = await holder(addr, echoBody(40_000), 30_000);
    await pollUntil(() => fx.servers.bodyBytesHeld === 30_000, { what: 'the server holding 30 000 bytes' });
    // Stalled: nothing more for longer than bodyStallMs.
    await new Promise((r) => setTimeout(r, 600));
    const r = await rawRequest(addr, post(echoBody(30_000)));
    expect(parseResponse(r.raw).status).toBe(200);
    await pollUntil(() => stalled.closed(), { what: 'the stalled request cut' });
    expect(stalled.raw().length).toBe(0);
    expect(fx.rpcCalls.map((c) => c.method)).toEqual(['test.echo']);
  });

  it('gives the bytes back when a client leaves mid-body, or after a refusal', async () => {
    const { fx, addr } = await start(60_000);
    for (let i = 0; i < 5; i++) {
      const h = await holder(addr, echoBody(40_000), 30_000);
      await pollUntil(() => fx.servers.bodyBytesHeld === 30_000, { what: 'the server holding 30 000 bytes' });
      expect(parseResponse((await rawRequest(addr, post(echoBody(30_000)), { waitClose: true })).raw).status).toBe(503);
      h.sock.destroy();
      await pollUntil(() => fx.servers.bodyBytesHeld === 0, { what: 'the budget free again' });
      expect(parseResponse((await rawRequest(addr, post(echoBody(30_000)))).raw).status).toBe(200);
      await pollUntil(() => fx.servers.bodyBytesHeld === 0, { what: 'the budget free after the reply' });
    }
  });
});
