// SPDX-License-Identifier: MIT
// Following a log over HTTP (GET /logtail/NAME/CHANNEL, /mainlogtail), as
// supervisor's http_client.HTTPHandler does for tail -f, maintail -f and fg:
// the body goes to stdout as it arrives, failures are one line on stderr.
import http from 'node:http';

import { endpointOf } from './client.js';
import { fromNodeError } from './errors.js';
import type { CtlIo } from './io.js';

export interface Follow {
  /** Settles when the stream ends, fails or is closed; never rejects. */
  readonly done: Promise<void>;
  close(): void;
}

export interface FollowSpec {
  serverurl: string;
  username: string | null;
  password: string | null;
  /** '/logtail/web/stdout' or '/mainlogtail'. */
  path: string;
}

export function follow(io: CtlIo, spec: FollowSpec): Follow {
  // HTTPHandler.get: the URL it reports is serverurl + path; a unix socket is everything after unix://.
  const url = spec.serverurl + spec.path;
  const unix = spec.serverurl.startsWith('unix://');
  const netloc = unix ? '' : netlocOf(spec.serverurl);
  const endpoint = endpointOf(spec.serverurl);
  const headers: Record<string, string> = {
    Host: netloc,
    'Accept-Encoding': 'chunked',
    Accept: '*/*',
    'User-agent': 'Supervisor HTTP Client',
  };
  // http_client sends credentials only when a password is set (username may be None then).
  if (spec.password) {
    headers['Authorization'] = `Basic ${Buffer.from(`${spec.username ?? 'None'}:${spec.password}`).toString('base64')}`;
  }
  const where: http.RequestOptions = 'unix' in endpoint ? { socketPath: endpoint.unix } : endpoint;

  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  let closed = false;
  // Keep-alive on purpose: with `Connection: close` medusa (supervisord's HTTP server)
  // holds a streamed body back until it ends, which for a log tail is never.
  const agent = new http.Agent({ keepAlive: true });
  done.then(() => agent.destroy(), () => agent.destroy());
  // Python sends a name's UTF-8 raw; Node refuses that in a request line, and medusa
  // unquotes %XX before the lookup, so non-ASCII goes percent-encoded.
  const requestPath = spec.path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
  const req = http.get({ ...where, path: requestPath, headers, agent }, (res) => {
    if (res.statusCode !== 200) {
      io.stderr.write(`${url} Cannot read, status code ${res.statusCode}\n`);
      res.destroy();
      finish();
      return;
    }
    // Bytes as they come: 4.2.5 decodes each read as UTF-8 and prints `Undecodable: b'...'`
    // for a character split between two reads; passing bytes through keeps them whole.
    res.on('data', (chunk: Buffer) => {
      if (!closed) io.stdout.write(chunk);
    });
    res.on('end', finish);
    res.on('error', finish);
    res.on('close', finish);
  });
  req.on('error', (e) => {
    if (!closed) {
      const py = fromNodeError(e, 'connect', unix);
      io.stderr.write(`${url} Cannot connect, error: <class '${py.pyClass}'> (${py.pyMessage})\n`);
    }
    finish();
  });
  return {
    done,
    close() {
      closed = true;
      req.destroy();
      finish();
    },
  };
}

function netlocOf(serverurl: string): string {
  const rest = serverurl.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '');
  const end = rest.search(/[/?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}
