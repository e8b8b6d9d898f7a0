// SPDX-License-Identifier: MIT
// A small FastCGI client (the web server's side of the protocol) for the
// fcgi-program tests: one FCGI_RESPONDER request per connection, over a unix
// socket or TCP, with SCRIPT_NAME and a few CGI params; answers the
// application's stdout stream and its protocol status.
import net from 'node:net';

import type { Addr } from './http-raw.js';

const VERSION = 1;
const BEGIN_REQUEST = 1;
const END_REQUEST = 3;
const PARAMS = 4;
const STDIN = 5;
const STDOUT = 6;
const STDERR = 7;
const RESPONDER = 1;

function record(type: number, requestId: number, content: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt8(VERSION, 0);
  head.writeUInt8(type, 1);
  head.writeUInt16BE(requestId, 2);
  head.writeUInt16BE(content.length, 4);
  return Buffer.concat([head, content]);
}

function length(n: number): Buffer {
  if (n < 128) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0);
  return b;
}

function params(pairs: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(pairs)) {
    const kb = Buffer.from(k, 'latin1');
    const vb = Buffer.from(v, 'latin1');
    parts.push(length(kb.length), length(vb.length), kb, vb);
  }
  return Buffer.concat(parts);
}

export interface FcgiResponse {
  /** the application's stdout: CGI headers, a blank line, the body */
  stdout: string;
  stderr: string;
  appStatus: number;
  protocolStatus: number;
}

/** One request; rejects on a refused or broken connection, or after timeoutMs. */
export function fcgiRequest(addr: Addr, scriptName: string, timeoutMs = 5000): Promise<FcgiResponse> {
  return new Promise((resolve, reject) => {
    const sock = 'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
    let buf = Buffer.alloc(0);
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (err: Error | null, r?: FcgiResponse): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(r!);
    };
    const timer = setTimeout(() => finish(new Error(`no FastCGI answer within ${timeoutMs} ms`)), timeoutMs);
    sock.once('connect', () => {
      const begin = Buffer.alloc(8);
      begin.writeUInt16BE(RESPONDER, 0);
      const p = params({ SCRIPT_NAME: scriptName, REQUEST_METHOD: 'GET', QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.1' });
      sock.write(
        Buffer.concat([
          record(BEGIN_REQUEST, 1, begin),
          record(PARAMS, 1, p),
          record(PARAMS, 1, Buffer.alloc(0)),
          record(STDIN, 1, Buffer.alloc(0)),
        ]),
      );
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const type = buf.readUInt8(1);
        const clen = buf.readUInt16BE(4);
        const plen = buf.readUInt8(6);
        if (buf.length < 8 + clen + plen) break;
        const content = buf.subarray(8, 8 + clen);
        buf = buf.subarray(8 + clen + plen);
        if (type === STDOUT) stdout += content.toString('latin1');
        else if (type === STDERR) stderr += content.toString('latin1');
        else if (type === END_REQUEST) {
          finish(null, { stdout, stderr, appStatus: content.readUInt32BE(0), protocolStatus: content.readUInt8(4) });
          return;
        }
      }
    });
    sock.once('error', (err) => finish(err));
    sock.once('close', () => finish(new Error('connection closed before FCGI_END_REQUEST')));
  });
}

/** The responder fixture's answer: its pid. */
export function answeredBy(r: FcgiResponse): number {
  const m = /pid=(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`not a responder answer: ${JSON.stringify(r.stdout)}`);
  return Number(m[1]);
}
