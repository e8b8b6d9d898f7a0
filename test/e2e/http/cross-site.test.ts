// SPDX-License-Identifier: MIT
// A page on another site must not be able to drive /RPC2 through a visitor's
// browser (which would add cached Basic credentials). XML-RPC clients, which
// send no Origin or Sec-Fetch-Site, and same-origin pages are served.
import { afterEach, describe, expect, it } from 'vitest';

import { closeFixtures, inetServer, startFixture } from '../../helpers/http-fixture.js';
import { parseResponse, rawRequest } from '../../helpers/http-raw.js';

afterEach(async () => {
  await closeFixtures();
});

const BODY = "<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>";

function post(headers: Record<string, string>): string {
  const lines = Object.entries({ Host: 'x', 'Content-Length': String(Buffer.byteLength(BODY)), ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `POST /RPC2 HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${BODY}`;
}

describe('/RPC2 from browsers', () => {
  it('refuses cross-site and form-typed requests with 403, serves clients and same-origin pages', async () => {
    const fx = await startFixture([inetServer()]);
    const status = async (h: Record<string, string>) => parseResponse((await rawRequest(fx.addr(), post(h))).raw).status;
    expect(await status({ 'Content-Type': 'text/xml' })).toBe(200);
    expect(await status({ 'Content-Type': 'text/xml', Origin: 'http://x', 'Sec-Fetch-Site': 'same-origin' })).toBe(200);
    expect(await status({ 'Content-Type': 'text/plain', Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site' })).toBe(403);
    expect(await status({ 'Content-Type': 'text/xml', 'Sec-Fetch-Site': 'same-site' })).toBe(403);
    // An older browser without Sec-Fetch-*: a form cannot send text/xml.
    expect(await status({ 'Content-Type': 'text/plain', Origin: 'http://evil.example' })).toBe(403);
  });
});
