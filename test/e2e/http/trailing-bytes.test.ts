// SPDX-License-Identifier: MIT
// Bytes after a complete request: a Content-Length shorter than the body, or junk after
// a keep-alive request. Node's parser reads them as the next request and fails on it
// while the first one's reply is still due; that reply must still go out whole (medusa
// answers it and reads on), then the junk may get a 400 and the connection close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseMethodResponse, type XmlRpcValue } from '../../../src/rpc/codec.js';
import { startDaemon, stopAllDaemons, type Daemon } from '../../helpers/daemon-harness.js';
import { freePort, parseResponse, rawRequest, type Addr } from '../../helpers/http-raw.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

let daemon: Daemon;
let port: number;

beforeAll(async () => {
  port = await freePort();
  daemon = await startDaemon(
    'fastvisor',
    `[inet_http_server]
port=127.0.0.1:${port}

[program:slow]
command=/bin/sleep 1000
autostart=false
startsecs=1
`,
  );
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

/** A methodCall padded with blanks (allowed after the root element) to exactly `size` bytes. */
function call(method: string, size?: number, param?: string): Buffer {
  const params = param === undefined ? '' : `<params><param><value><string>${param}</string></value></param></params>`;
  const doc = `<?xml version='1.0'?><methodCall><methodName>${method}</methodName>${params}</methodCall>`;
  return Buffer.from(size === undefined ? doc : doc.padEnd(size, ' '));
}

function post(body: Buffer, contentLength = body.length): Buffer {
  const head = `POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: ${contentLength}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** The replies in `raw`, each cut at its Content-Length; a trailing partial one is an error. */
function replies(raw: Buffer): { status: number; body: Buffer }[] {
  const out: { status: number; body: Buffer }[] = [];
  let rest = raw;
  while (rest.length) {
    const r = parseResponse(rest);
    const cl = Number(r.headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1]);
    expect(Number.isInteger(cl)).toBe(true);
    expect(r.body.length).toBeGreaterThanOrEqual(cl);
    out.push({ status: r.status, body: r.body.subarray(0, cl) });
    rest = r.body.subarray(cl);
  }
  return out;
}

function value(body: Buffer): XmlRpcValue {
  const r = parseMethodResponse(body);
  if (r.kind !== 'params') throw new Error(`fault ${r.faultCode}: ${r.faultString}`);
  return r.params[0]!;
}

const RUNNING = { statecode: 1, statename: 'RUNNING' };
// 50 bytes that are not the start of a request: the rest of a body the length left out.
const TAIL = Buffer.from('<!-- 50 bytes the Content-Length did not cover -->');

describe.each(transports)('bytes after a complete request, over %s', (_name, addr) => {
  it('a Content-Length of 100 on a 150-byte body: the call in the first 100 is answered whole', async () => {
    const body = Buffer.concat([call('supervisor.getState', 100), TAIL]);
    expect(body.length).toBe(150);
    const r = await rawRequest(addr(), post(body, 100), { waitClose: true, timeoutMs: 5000 });
    const got = replies(r.raw);
    expect(got[0]!.status).toBe(200);
    expect(value(got[0]!.body)).toEqual(RUNNING);
    // The 50 bytes are a malformed request of their own: a 400, then the connection closes.
    expect(got.slice(1).map((x) => x.status)).toEqual([400]);
    expect(r.closed).toBe(true);
  });

  it('junk after two pipelined keep-alive requests: both replies, in order, then 400 and close', async () => {
    const first = post(call('supervisor.getState'));
    const second = post(call('supervisor.getAPIVersion'));
    const r = await rawRequest(addr(), Buffer.concat([first, second, Buffer.from('\x00\x01 not HTTP\r\n\r\n', 'latin1')]), {
      waitClose: true,
      timeoutMs: 5000,
    });
    const got = replies(r.raw);
    expect(got.map((x) => x.status)).toEqual([200, 200, 400]);
    expect(value(got[0]!.body)).toEqual(RUNNING);
    expect(value(got[1]!.body)).toBe('3.0');
    expect(r.closed).toBe(true);
  });

  it('a reply that is due only later (startProcess waits startsecs) still arrives after the junk', async () => {
    const r = await rawRequest(addr(), Buffer.concat([post(call('supervisor.startProcess', undefined, 'slow')), TAIL]), {
      waitClose: true,
      timeoutMs: 8000,
    });
    const got = replies(r.raw);
    expect(got[0]!.status).toBe(200);
    expect(value(got[0]!.body)).toBe(true);
    expect(got.slice(1).map((x) => x.status)).toEqual([400]);
    expect(r.closed).toBe(true);
    expect(await daemon.rpc('supervisor.stopProcess', 'slow')).toBe(true);
  });

  it('serves the next client normally afterwards', async () => {
    expect(await daemon.rpc('supervisor.getState')).toEqual(RUNNING);
  });
});
