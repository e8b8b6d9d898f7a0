// SPDX-License-Identifier: MIT
// Request-target handling as medusa does it: the channel unquotes the path before
// handlers match on prefixes, split_uri() cuts path;params?query#fragment, and the
// /logtail handler unquotes (again) and splits NAME[/CHANNEL].

const HEX = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Python's urllib.parse.unquote(): %XX runs become bytes read as UTF-8 with errors='replace';
 * a '%' not followed by two hex digits stays as it is (decodeURIComponent would throw).
 */
export function pyUnquote(s: string): string {
  if (!s.includes('%')) return s;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length) out += utf8.decode(Uint8Array.from(bytes));
    bytes = [];
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && HEX.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // Python decodes only the ASCII runs; other characters pass through untouched.
      flush();
      out += s[i];
    }
  }
  flush();
  return out;
}

/**
 * deferring_http_channel.found_terminator(): unquote the part before the last '?'
 * (urllib splitquery) and keep the query as sent. Handlers match on the result.
 */
export function medusaUri(target: string): string {
  const q = target.lastIndexOf('?');
  const rpath = q < 0 ? target : target.slice(0, q);
  const rquery = q < 0 ? '' : target.slice(q + 1);
  if (!rpath.includes('%')) return target;
  return rquery ? `${pyUnquote(rpath)}?${rquery}` : pyUnquote(rpath);
}

/** http_request.split_uri(): <path>;<params>?<query>#<fragment>; only the path is used here. */
export function uriPath(uri: string): string {
  const m = /^([^;?#]*)/.exec(uri);
  return m ? m[1]! : '';
}

export type LogChannel = 'stdout' | 'stderr';

/**
 * logtail_handler.handle_request(): '/logtail/NAME[/CHANNEL]' -> NAME and CHANNEL
 * (stdout when absent). The prefix before the first '/' is not checked, as in
 * supervisord (the handler matched '/logtail' as a prefix). null where supervisord
 * answers 404 (an unknown channel) or 500 (no '/' at all).
 */
export function parseLogtailPath(uri: string): { name: string; channel: LogChannel } | null {
  let path = uriPath(uri);
  if (path.includes('%')) path = pyUnquote(path);
  path = path.replace(/^\/+/, '');
  const slash = path.indexOf('/');
  if (slash < 0) return null;
  const rest = path.slice(slash + 1);
  const cut = rest.indexOf('/');
  const name = cut < 0 ? rest : rest.slice(0, cut);
  const channel = cut < 0 ? 'stdout' : rest.slice(cut + 1);
  // getattr(process.config, '%s_logfile' % channel, None): only these two name a log file.
  if (channel !== 'stdout' && channel !== 'stderr') return null;
  return { name, channel };
}
