// SPDX-License-Identifier: MIT
// The web module's pure pieces against the Python they imitate: the form reading
// (urllib.parse.parse_qs as web.py calls it), urllib.parse.quote for the links and the
// redirect, time.ctime; the HTML escaping and templates the pages are made with; and a
// broken install that must not take the daemon down.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import type { RequestContext } from '../../../src/http/index.js';
import { ctime } from '../../../src/web/actions.js';
import { loadAssets, WEB_DIR } from '../../../src/web/assets.js';
import { pyQuote, readForm } from '../../../src/web/form.js';
import { escapeHtml, html, Template } from '../../../src/web/html.js';
import { cpuTime, humanBytes } from '../../../src/web/views.js';
import { createWebHandler } from '../../../src/web/index.js';
import { python } from '../../helpers/python.js';

const QUERIES = [
  'processname=foo&action=start',
  'processname=grp%3Aname&action=stop',
  'processname=&action=start',
  'processname',
  'a=1&a=2&b=3',
  'x=%zz&y=%41%42&z=a+b%2Bc',
  'name=%ff%fe&n2=%C3%A9t%C3%A9',
  '=v&k=',
  '&&&a=b&&',
  'message=Process%20foo%20started',
  'processname=%3Cscript%3E&action=start;x=1',
];

describe('the form, as web.py reads it', () => {
  it('matches urllib.parse.parse_qs (first value of each name) for every query', () => {
    const want = python<Array<Record<string, string>>>(
      'import json,sys,urllib.parse\nprint(json.dumps([{k: v[0] for k, v in urllib.parse.parse_qs(q).items()} for q in json.load(sys.stdin)]))',
      QUERIES,
    );
    const got = QUERIES.map((q) => Object.fromEntries(readForm(q)));
    expect(got).toEqual(want);
  });

  it('lets a POST body override the query', () => {
    expect(Object.fromEntries(readForm('action=stop&processname=a', 'processname=b'))).toEqual({ action: 'stop', processname: 'b' });
  });

  it('quotes as urllib.parse.quote does', () => {
    const names = ['foo', 'grp:name_1', 'a b/c', '<script>"\'&', 'é~.-_*!()', '\r\nSet-Cookie: x', 'ü\u{1F600}'];
    const want = python<string[]>('import json,sys,urllib.parse\nprint(json.dumps([urllib.parse.quote(s) for s in json.load(sys.stdin)]))', names);
    expect(names.map(pyQuote)).toEqual(want);
  });

  it('writes time.ctime()', () => {
    const t = 1_795_974_000;
    const want = python<string>('import json,sys,time\nprint(json.dumps(time.ctime(json.load(sys.stdin))))', t);
    expect(ctime(new Date(t * 1000))).toBe(want);
    expect(ctime(new Date(2026, 10, 1, 9, 5, 7))).toBe('Sun Nov  1 09:05:07 2026');
  });
});

describe('HTML', () => {
  it('escapes text and attribute values, and control characters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(escapeHtml('colour \x1b[31mred\x1b[0m\x00')).toBe('colour \ufffd[31mred\ufffd[0m\ufffd');
    expect(escapeHtml('tab\tnewline\n')).toBe('tab\tnewline\n');
  });

  it('escapes what it interpolates unless it is markup made here', () => {
    const name = '<img src=x onerror=alert(1)>';
    expect(html`<td title="${name}">${name}</td>`.markup).toBe('<td title="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;</td>');
    expect(html`<ul>${[html`<li>${'<b>'}</li>`]}</ul>`.markup).toBe('<ul><li>&lt;b&gt;</li></ul>');
  });

  it('checks templates when it loads them, so a broken package fails at start-up', () => {
    expect(() => new Template('t', 'a {{b} c')).toThrow(/malformed/);
    expect(() => new Template('t', 'a {{b}}').render({})).toThrow(/no value for \{\{b\}\}/);
    expect(new Template('t', '<p>{{x}}</p>').render({ x: '<i>' })).toBe('<p>&lt;i&gt;</p>');
    expect(() => loadAssets(WEB_DIR)).not.toThrow();
    const dir = mkdtempSync(path.join(tmpdir(), 'fv-web-'));
    try {
      cpSync(WEB_DIR, dir, { recursive: true });
      writeFileSync(path.join(dir, 'index.html'), '<p>{{nope}}</p>');
      expect(() => loadAssets(dir)).toThrow(/unknown slot \{\{nope\}\}/);
      rmSync(path.join(dir, 'app.js'));
      expect(() => loadAssets(dir)).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the figures columns', () => {
  it('writes memory in binary units and CPU time as seconds, then H:MM:SS', () => {
    expect([0, 1023, 1024, 12.3 * 1024 * 1024, 5 * 1024 ** 3].map(humanBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '12.3 MiB', '5.0 GiB']);
    expect([null, undefined, -1, NaN].map(humanBytes)).toEqual(['', '', '', '']);
    expect([0, 1.254, 99.99, 100, 3725].map(cpuTime)).toEqual(['0.00 s', '1.25 s', '99.99 s', '0:01:40', '1:02:05']);
    expect(cpuTime(null)).toBe('');
  });
});

describe('a broken install', () => {
  it('keeps the daemon up: pages fail with a logged reason, ok.html still answers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fv-web-'));
    const server = http.createServer();
    try {
      cpSync(WEB_DIR, dir, { recursive: true });
      rmSync(path.join(dir, 'style.css'));
      const handler = createWebHandler({ namespaces: new Map(), onStateChange: () => () => {} }, { dir });
      const errors: string[] = [];
      server.on('request', (req, res) => {
        const ctx = { uri: req.url!, username: null, serverUrl: 'http://x', server: {} } as unknown as RequestContext;
        handler(req, res, ctx).catch((err: Error) => {
          errors.push(err.message);
          res.statusCode = 500;
          res.end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ok = await fetch(`${base}/ok.html`);
      expect([ok.status, await ok.text()]).toEqual([200, 'OK']);
      expect((await fetch(`${base}/`)).status).toBe(500);
      expect(errors).toEqual([expect.stringMatching(/^the web UI's files are broken: ENOENT.*style\.css/)]);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
