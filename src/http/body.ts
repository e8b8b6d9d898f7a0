// SPDX-License-Identifier: MIT
// Request bodies: read one whole (bounded by its Content-Length, which the caller has
// checked), or throw one away before refusing the request.
import type { IncomingMessage } from 'node:http';

/**
 * How much of an unwanted body (401, 413) is read and dropped before the refusal goes out.
 * Closing a socket with unread data makes the kernel send a RST, and the client may then
 * lose the reply it has not read yet: xmlrpc.client writes its whole body before it
 * reads, so it would see "connection reset" instead of 401 (supervisorctl prompts for a
 * password on 401). Above this the client is not worth the bandwidth: refuse and close.
 */
export const DRAIN_CAP = 16 * 1024 * 1024;

/** Calls `then` once the body has been read and dropped (or at once when there is none). */
export function discardBody(req: IncomingMessage, then: () => void): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (req.complete || declared > DRAIN_CAP) {
    req.resume();
    then();
    return;
  }
  let seen = 0;
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    then();
  };
  req.on('data', (c: Buffer) => {
    seen += c.length;
    // A chunked body has no declared size: stop waiting at the cap.
    if (seen > DRAIN_CAP) once();
  });
  req.once('end', once);
}

/** The body as one Buffer, or null if the client went away first. */
export function readBody(req: IncomingMessage, expected: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    req.on('data', (c: Buffer) => {
      got += c.length;
      // Node frames the body by Content-Length, so this holds; the check keeps memory bounded anyway.
      if (got <= expected) chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, Math.min(got, expected))));
    req.once('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}
