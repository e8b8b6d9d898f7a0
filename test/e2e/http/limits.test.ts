// SPDX-License-Identifier: MIT
// What one request may make the daemon hold, against a real daemon over its unix socket
// and its inet port: a body past MAX_BODY_BYTES gets medusa's 413 page and the connection
// closes (however much more the client still has to send); nesting past MAX_DEPTH and
// more than MAX_VALUES values get a fault; and the daemon answers normally afterwards.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_BODY_BYTES, MAX_DEPTH, MAX_VALUES, parseMethodResponse } from '../../../src/rpc/codec.js';
import { startDaemon, stopAllDaemons, type Daemon } from '../../helpers/daemon-harness.js';
import { freePort, header, parseResponse, rawRequest, type Addr } from '../../helpers/http-raw.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

let daemon: Daemon;
let port: number;

beforeAll(async () => {
  port = await freePort();
  daemon = await startDaemon('fastvisor', `[inet_http_server]\nport=127.0.0.1:${port}\n`);
});

afterAll(async () => {
  await stopAllDaemons();
  killTracked();
  removeTmpDirs();
});

const transports: [string, () => Addr][] = [
  ['the unix socket', () => ({ path: daemon.sock })],
  ['the inet port', () => ({ host: '127.0.0.1', port })],
];

const HEAD = "<?xml version='1.0'?><methodCall><methodName>supervisor.getProcessInfo</methodName><params><param>";
const TAIL = '</param></params></methodCall>';

function post(body: string | Buffer, contentLength = Buffer.byteLength(body)): Buffer {
  return Buffer.concat([
    Buffer.from(`POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: ${contentLength}\r\n\r\n`),
    Buffer.from(body),
  ]);
}

/**
 * Declares `declared` bytes and keeps writing them (1 MiB at a time) until the server
 * closes or `declared` is sent; what came back, whether it closed, and how much was sent.
 */
function streamBody(addr: Addr, declared: number): Promise<{ raw: Buffer; closed: boolean; sent: number }> {
  return new Promise((resolve) => {
    const sock = 'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
    const chunk = Buffer.alloc(1024 * 1024, 'A');
    let raw = Buffer.alloc(0);
    let sent = 0;
    let closed = false;
    const timer = setTimeout(() => finish(), 10_000);
    const finish = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ raw, closed, sent });
    };
    sock.on('data', (d: Buffer) => (raw = Buffer.concat([raw, d])));
    // The server may reset a connection it stopped reading: what arrived before still counts.
    sock.on('error', () => {});
    sock.on('close', () => {
      closed = true;
      finish();
    });
    const pump = (): void => {
      while (!closed && sent < declared) {
        const n = Math.min(chunk.length, declared - sent);
        sent += n;
        if (!sock.write(chunk.subarray(0, n))) return void sock.once('drain', pump);
      }
    };
    sock.on('connect', () => {
      const start = HEAD + '<value><string>';
      sock.write(post(start, declared));
      sent = start.length;
      pump();
    });
  });
}

function fault(raw: Buffer): { faultCode: number; faultString: string } {
  const r = parseResponse(raw);
  expect(r.status).toBe(200);
  const m = parseMethodResponse(r.body);
  if (m.kind !== 'fault') throw new Error(`expected a fault, got ${JSON.stringify(m.params)}`);
  return { faultCode: m.faultCode, faultString: m.faultString };
}

describe.each(transports)('request limits over %s', (_name, addr) => {
  it('a 100 MB body: the connection closes long before 100 MB are sent, after a complete 413 page if any', async () => {
    const r = await streamBody(addr(), 100 * 1024 * 1024);
    expect(r.closed).toBe(true);
    expect(r.sent).toBeLessThan(50 * 1024 * 1024);
    // Past DRAIN_CAP the server does not read on: a client still writing may see its write
    // fail (EPIPE, a reset) before it reads the reply. What did arrive is the whole page.
    if (r.raw.length) {
      const res = parseResponse(r.raw);
      expect(res.statusLine).toBe('HTTP/1.1 413 Request Entity Too Large');
      expect(header(res, 'Connection')).toBe('close');
      expect(res.body.length).toBe(Number(header(res, 'Content-Length')));
    }
  });

  it('bodies over MAX_BODY_BYTES a client sends whole: a complete 413 page, Connection: close, closed', async () => {
    for (const size of [MAX_BODY_BYTES + 1, 3 * 1024 * 1024, 10 * 1024 * 1024]) {
      const r = await streamBody(addr(), size);
      const res = parseResponse(r.raw);
      expect(res.statusLine).toBe('HTTP/1.1 413 Request Entity Too Large');
      expect(header(res, 'Connection')).toBe('close');
      expect(res.body.length).toBe(Number(header(res, 'Content-Length')));
      expect(res.body.toString()).toContain('<p>Error code 413.');
      expect(r.closed).toBe(true);
    }
  });

  it('a body one byte over MAX_BODY_BYTES, sent whole: 413 and closed', async () => {
    const filler = 'x'.repeat(MAX_BODY_BYTES + 1 - HEAD.length - TAIL.length - '<value><string></string></value>'.length);
    const body = `${HEAD}<value><string>${filler}</string></value>${TAIL}`;
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES + 1);
    const r = await rawRequest(addr(), post(body), { waitClose: true, timeoutMs: 10_000 });
    expect(parseResponse(r.raw).status).toBe(413);
    expect(r.closed).toBe(true);
  });

  it(`nesting past MAX_DEPTH (${MAX_DEPTH}) is a fault, however deep, arrays or structs`, async () => {
    const arrays = (n: number): string => `${'<value><array><data>'.repeat(n)}<value><int>1</int></value>${'</data></array></value>'.repeat(n)}`;
    const structs = (n: number): string =>
      `${'<value><struct><member><name>k</name>'.repeat(n)}<value><int>1</int></value>${'</member></struct></value>'.repeat(n)}`;
    for (const param of [arrays(MAX_DEPTH + 1), arrays(40_000), structs(20_000)]) {
      const r = await rawRequest(addr(), post(HEAD + param + TAIL), { timeoutMs: 10_000 });
      expect(fault(r.raw)).toEqual({ faultCode: 2, faultString: `INCORRECT_PARAMETERS: arrays and structs nested deeper than ${MAX_DEPTH}` });
    }
    // Nesting that never closes is refused at the same depth, not after reading it all.
    const open = HEAD + '<value><array><data>'.repeat(80_000);
    expect(fault((await rawRequest(addr(), post(open), { timeoutMs: 10_000 })).raw).faultCode).toBe(2);
  });

  it(`more than MAX_VALUES (${MAX_VALUES}) values is a fault`, async () => {
    const wide = `<value><array><data>${'<value/>'.repeat(MAX_VALUES + 1)}</data></array></value>`;
    const r = await rawRequest(addr(), post(HEAD + wide + TAIL), { timeoutMs: 10_000 });
    expect(fault(r.raw)).toEqual({ faultCode: 2, faultString: `INCORRECT_PARAMETERS: more than ${MAX_VALUES} values` });
  });

  it('still answers a normal call, and a call just under the limit, afterwards', async () => {
    expect(await daemon.rpc('supervisor.getState')).toEqual({ statecode: 1, statename: 'RUNNING' });
    const name = 'n'.repeat(MAX_BODY_BYTES - 4096);
    const r = await rawRequest(addr(), post(`${HEAD}<value><string>${name}</string></value>${TAIL}`), { timeoutMs: 10_000 });
    expect(fault(r.raw)).toEqual({ faultCode: 10, faultString: `BAD_NAME: ${name}` });
  });
});
