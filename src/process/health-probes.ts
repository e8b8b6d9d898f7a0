// SPDX-License-Identifier: MIT
// Health probes that do I/O: one HTTP GET or one TCP connect, each settling within its timeout
// with a one-line verdict and leaving no socket behind. health.ts decides what the verdicts mean.
import http from 'node:http';
import net from 'node:net';

/** One check's outcome; `detail` is one line of at most DETAIL_MAX characters. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** Runs one check. Never rejects; settles within timeoutMs (plus a timer's lateness). */
export type Probe = (timeoutMs: number) => Promise<ProbeResult>;

export const DETAIL_MAX = 200;
/** The most of a response body read (and discarded) before the socket is destroyed. */
export const HTTP_BODY_MAX = 64 * 1024;
export const USER_AGENT = 'fastvisor-healthcheck';

/** Whitespace runs (newlines too) to one space, cut to `max` characters. */
export function oneLine(text: string, max = DETAIL_MAX): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** 'timed out after 5 s', 'timed out after 0.2 s' */
export function timeoutDetail(timeoutMs: number): string {
  return `timed out after ${Number((timeoutMs / 1000).toFixed(3))} s`;
}

const ERRNO_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (temporary)',
  EADDRNOTAVAIL: 'address not available',
};

/** A socket error as 'connection refused (127.0.0.1:8080)'. */
export function errorDetail(err: unknown, where: string): string {
  const e = err as { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown }> } | null;
  // autoSelectFamily tries every address and may fail with an AggregateError.
  const code = typeof e?.code === 'string' ? e.code : typeof e?.errors?.[0]?.code === 'string' ? e.errors[0].code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  // Node's name for a server that closed the connection before any response.
  if (code === 'ECONNRESET' && message === 'socket hang up') return oneLine(`connection closed without a response (${where})`);
  const words = (code !== undefined ? ERRNO_WORDS[code] : undefined) ?? code ?? (message || 'error');
  return oneLine(`${words} (${where})`);
}

function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function fixed(result: ProbeResult): Probe {
  return () => Promise.resolve(result);
}

/**
 * GET `url` on a fresh connection (no keep-alive agent): healthy for a 2xx or 3xx status
 * (redirects are not followed). The body is read and thrown away until it ends or HTTP_BODY_MAX
 * bytes came, then everything is destroyed; the timeout covers connect, response and that read.
 * A URL that does not parse, or is not http:, gives a probe that always fails with the reason.
 */
export function httpProbe(url: string): Probe {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return fixed({ ok: false, detail: oneLine(`invalid URL: ${url}`) });
  }
  if (u.protocol !== 'http:') return fixed({ ok: false, detail: oneLine(`unsupported URL scheme ${u.protocol} (${url})`) });
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port === '' ? 80 : Number(u.port);
  const where = hostPort(host, port);
  const auth = u.username !== '' || u.password !== '' ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined;

  return (timeoutMs) =>
    new Promise<ProbeResult>((resolve) => {
      let done = false;
      let req: http.ClientRequest | undefined;
      let res: http.IncomingMessage | undefined;
      const settle = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        res?.destroy();
        req?.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => settle({ ok: false, detail: timeoutDetail(timeoutMs) }), timeoutMs);
      try {
        req = http.request({
          host,
          port,
          path: `${u.pathname}${u.search}`,
          method: 'GET',
          agent: false,
          auth,
          headers: { Host: u.host, 'User-Agent': USER_AGENT, Accept: '*/*' },
        });
      } catch (err) {
        // http.request throws at once on what it cannot send (a bad character in the path).
        settle({ ok: false, detail: oneLine(`cannot send the request: ${err instanceof Error ? err.message : String(err)}`) });
        return;
      }
      // Stays attached after settle: a late socket error must not become an 'error' nobody hears.
      req.on('error', (err) => settle({ ok: false, detail: errorDetail(err, where) }));
      req.on('response', (r) => {
        res = r;
        const status = r.statusCode ?? 0;
        const verdict: ProbeResult = { ok: status >= 200 && status < 400, detail: `HTTP ${status}` };
        let read = 0;
        r.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read >= HTTP_BODY_MAX) settle(verdict);
        });
        r.on('error', () => settle(verdict));
        // The status decided; a body cut short does not change it.
        r.on('end', () => settle(verdict));
        r.on('close', () => settle(verdict));
        if (done) r.destroy();
      });
      req.end();
    });
}

/** Healthy when a TCP connection to host:port opens; the socket is destroyed at once. */
export function tcpProbe(host: string, port: number): Probe {
  const where = hostPort(host, port);
  return (timeoutMs) =>
    new Promise<ProbeResult>((resolve) => {
      let done = false;
      let socket: net.Socket | undefined;
      const settle = (r: ProbeResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket?.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => settle({ ok: false, detail: timeoutDetail(timeoutMs) }), timeoutMs);
      try {
        socket = net.connect({ host, port });
      } catch (err) {
        // A port out of range throws at once.
        settle({ ok: false, detail: errorDetail(err, where) });
        return;
      }
      socket.on('connect', () => settle({ ok: true, detail: `connected to ${where}` }));
      socket.on('error', (err) => settle({ ok: false, detail: errorDetail(err, where) }));
    });
}
