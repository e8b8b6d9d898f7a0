// SPDX-License-Identifier: MIT
// The web UI's form, read as supervisord's web.py reads it: urllib.parse.parse_qs of the
// query string (first value of a name wins, blank values dropped), then the
// x-www-form-urlencoded body of a POST on top; and urllib.parse.quote() for the URLs it
// writes (the redirect's ?message= and every link to a process).

const HEX2 = /^[0-9A-Fa-f]{2}$/;

/**
 * urllib.parse.unquote_plus(): '+' is a space, %XX runs are bytes read as UTF-8 with
 * errors='replace', a '%' without two hex digits stays as it is.
 */
export function unquotePlus(s: string): string {
  const t = s.replace(/\+/g, ' ');
  if (!t.includes('%')) return t;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length) out += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '%' && HEX2.test(t.slice(i + 1, i + 3))) {
      bytes.push(parseInt(t.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      flush();
      out += t[i];
    }
  }
  flush();
  return out;
}

/** urllib.parse.parse_qsl(qs) with the defaults: '&' separates, pieces without '=' or value are dropped. */
export function parseQsl(qs: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const piece of qs.split('&')) {
    const eq = piece.indexOf('=');
    if (eq < 0) continue;
    const value = piece.slice(eq + 1);
    if (!value.length) continue;
    out.push([unquotePlus(piece.slice(0, eq)), unquotePlus(value)]);
  }
  return out;
}

/** web.py continue_request(): query values (first of each name), then POST values over them. */
export function readForm(query: string, body = ''): Map<string, string> {
  const form = new Map<string, string>();
  for (const [k, v] of parseQsl(query)) if (!form.has(k)) form.set(k, v);
  // parse_qsl of the body: "ignore dupes" there means the last one stays.
  for (const [k, v] of parseQsl(body)) form.set(k, v);
  return form;
}

/** urllib.parse.quote(s) (safe='/'): UTF-8, everything but letters, digits, '_.-~' and '/' as %XX. */
export function pyQuote(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.\-~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The query part of a request target ('' when none): after the first '?', before any '#'. */
export function queryOf(uri: string): string {
  const q = uri.indexOf('?');
  if (q < 0) return '';
  const rest = uri.slice(q + 1);
  const hash = rest.indexOf('#');
  return hash < 0 ? rest : rest.slice(0, hash);
}

/** The path part (medusa split_uri: before ';', '?' or '#'), leading slashes stripped. */
export function pathOf(uri: string): string {
  const m = /^[^;?#]*/.exec(uri);
  return (m ? m[0] : '').replace(/^\/+/, '');
}
