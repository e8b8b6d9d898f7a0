// SPDX-License-Identifier: MIT
// Response pieces as medusa (supervisord's HTTP server) writes them: the Server and
// Date headers every reply starts with, and http_request.error()'s HTML error page.
import type { ServerResponse } from 'node:http';

/** medusa http_server.py VERSION_STRING; clients and scripts have only ever seen this. */
export const SERVER_IDENT = 'Medusa/1.12';

/** medusa http_request.responses, plus 431 (medusa has no header limit, so no name for it). */
export const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Time-out',
  411: 'Length Required',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function reason(code: number): string {
  return REASONS[code] ?? 'Unknown';
}

/** medusa DEFAULT_ERROR_MESSAGE, byte for byte (CRLF line ends, a trailing CRLF). */
export function errorPage(code: number): Buffer {
  return Buffer.from(
    [
      '<head>',
      '<title>Error response</title>',
      '</head>',
      '<body>',
      '<h1>Error response</h1>',
      `<p>Error code ${code}.`,
      `<p>Message: ${reason(code)}.`,
      '</body>',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

/**
 * medusa's http_request starts every reply with these two, in this order. Setting Date
 * ourselves keeps it before the handler's headers (Node would append its own last).
 */
export function startReply(res: ServerResponse): void {
  res.setHeader('Server', SERVER_IDENT);
  res.setHeader('Date', new Date().toUTCString());
}

/**
 * http_request.error(code): the HTML page with Content-Length then Content-Type.
 * `headers` go before them, as auth_handler sets Connection and WWW-Authenticate first.
 * A no-op once the headers are out: the reply can no longer change.
 */
export function sendError(res: ServerResponse, code: number, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  if (!res.hasHeader('Server')) startReply(res);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  const body = errorPage(code);
  res.statusCode = code;
  res.statusMessage = reason(code);
  res.setHeader('Content-Length', body.length);
  res.setHeader('Content-Type', 'text/html');
  // Node drops the body itself for HEAD.
  res.end(body);
}

/** The same page written straight to a socket, for errors Node's parser raises before a request exists. */
export function rawErrorResponse(code: number): Buffer {
  const body = errorPage(code);
  const head =
    `HTTP/1.1 ${code} ${reason(code)}\r\n` +
    `Server: ${SERVER_IDENT}\r\n` +
    `Date: ${new Date().toUTCString()}\r\n` +
    'Connection: close\r\n' +
    `Content-Length: ${body.length}\r\n` +
    'Content-Type: text/html\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/**
 * A text reply as UTF-8 in pieces of at most 48 KiB. One buffer of a reply's whole size
 * (a multicall answer, a log read: megabytes) is an allocation above glibc's mmap
 * threshold, and freeing it raises that threshold for good: from then on every
 * allocation up to that size comes from the heap, which glibc gives back to the system
 * only from its top. Pieces this small never do that.
 */
export function utf8Pieces(text: string): Buffer[] {
  const PIECE = 16 * 1024;
  if (text.length <= PIECE) return [Buffer.from(text, 'utf8')];
  const out: Buffer[] = [];
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + PIECE);
    // Never between the two halves of a surrogate pair: each alone would be U+FFFD.
    const c = text.charCodeAt(end - 1);
    if (end < text.length && c >= 0xd800 && c <= 0xdbff) end--;
    out.push(Buffer.from(text.slice(at, end), 'utf8'));
    at = end;
  }
  return out;
}

/** medusa http_date.build_http_date: RFC 1123 in GMT, whole seconds. */
export function httpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}
