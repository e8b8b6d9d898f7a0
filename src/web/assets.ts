// SPDX-License-Identifier: MIT
// The files of the web UI, from web/ in the package: read once when the handler is made,
// served from memory by name from a fixed list (no path from a request ever reaches the
// file system), each with its content type and an ETag for cheap revalidation.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Template } from './html.js';

/** web/ at the package root: two levels up from src/web/ and from dist/web/ alike. */
export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

/** Every file served as it is, by the name in the URL. Nothing else in web/ is reachable. */
export const STATIC_FILES: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'tail.js': 'text/javascript; charset=utf-8',
  'logs.js': 'text/javascript; charset=utf-8',
  // fastvisor's "all logs" page: no template, everything comes from the stream.
  'logs.html': 'text/html; charset=utf-8',
  'xmlrpc.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

export interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

export interface Assets {
  files: Map<string, StaticFile>;
  status: Template;
  tail: Template;
}

const STATUS_SLOTS = ['message_class', 'message', 'identification', 'version', 'summary', 'rows', 'count'];
const TAIL_SLOTS = ['title', 'processname', 'channel', 'limit', 'heading', 'nav', 'body', 'version', 'snapshot'];

function template(dir: string, file: string, slots: string[]): Template {
  const t = new Template(file, readFileSync(path.join(dir, file), 'utf8'));
  const have = t.slots();
  const want = new Set(slots);
  for (const s of have) if (!want.has(s)) throw new Error(`${file}: unknown slot {{${s}}}`);
  for (const s of want) if (!have.has(s)) throw new Error(`${file}: slot {{${s}}} missing`);
  return t;
}

/** Throws when a file is missing or a template does not fit: a broken package fails at start-up. */
export function loadAssets(dir = WEB_DIR): Assets {
  const files = new Map<string, StaticFile>();
  for (const [name, type] of Object.entries(STATIC_FILES)) {
    const body = readFileSync(path.join(dir, name));
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`;
    files.set(name, { body, type, etag });
  }
  return {
    files,
    status: template(dir, 'index.html', STATUS_SLOTS),
    tail: template(dir, 'tail.html', TAIL_SLOTS),
  };
}
