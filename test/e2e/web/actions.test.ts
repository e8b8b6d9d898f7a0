// SPDX-License-Identifier: MIT
// The web UI at the HTTP level, for scripts and bookmarks: supervisord's action query
// strings answered as supervisord 4.2.5 answers them (the same sequence is run against
// the real one and the redirects compared), ok.html and tail.html, the static files, auth,
// the cross-site guard, and hostile URLs, after which the daemon still answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stopAllDaemons } from '../../helpers/daemon-harness.js';
import { parseResponse, rawRequest } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs } from '../../helpers/tmp.js';
import { AUTH, redirectMessage, request, startWebDaemon, USER, withoutTime, type WebDaemon } from './web-harness.js';

// quiet has no stdout log file: its tail says "No file for quiet".
const EXTRA = `
[program:quiet]
command=/bin/sleep 1000
stdout_logfile=NONE
startsecs=0
`;

let ours: WebDaemon;
let real: WebDaemon;

async function settled(wd: WebDaemon): Promise<void> {
  await pollUntil(
    async () => {
      const all = (await wd.daemon.rpc('supervisor.getAllProcessInfo')) as Array<{ name: string; statename: string }>;
      return all.every((p) => (p.name === 'quick' ? p.statename === 'FATAL' : p.statename === 'RUNNING'));
    },
    { timeout: 20_000, what: `${wd.daemon.kind}: every program settled` },
  );
}

async function stateOf(wd: WebDaemon, name: string): Promise<string> {
  return ((await wd.daemon.rpc('supervisor.getProcessInfo', name)) as { statename: string }).statename;
}

beforeAll(async () => {
  [ours, real] = await Promise.all([startWebDaemon('fastvisor', EXTRA), startWebDaemon('supervisord', EXTRA)]);
  await Promise.all([settled(ours), settled(real)]);
}, 40_000);

afterAll(async () => {
  await stopAllDaemons();
  killTracked();
  removeTmpDirs();
});

describe("supervisord's action query strings", () => {
  it('answers every action with the same 301 and message as supervisord 4.2.5', async () => {
    const steps = [
      'index.html?processname=sleeper&action=stop',
      'index.html?processname=sleeper&action=stop',
      'index.html?processname=sleeper&action=start',
      'index.html?processname=sleeper&action=start',
      'index.html?processname=nope&action=stop',
      'index.html?processname=web:&action=stop',
      'index.html?processname=web%3A*&action=start',
      'index.html?processname=web%3Aweb_1&action=restart',
      'index.html?processname=sleeper&action=clearlog',
      'index.html?processname=quick&action=start',
      'index.html?processname=quick&action=stop',
      'index.html?processname=%3Cscript%3Ealert(1)%3C%2Fscript%3E&action=start',
      'index.html?processname=nope&action=bogus',
      '?action=refresh',
      '?processname=sleeper&action=refresh',
      'index.html?action=stopall',
      'index.html?action=restartall',
    ];
    for (const step of steps) {
      const [a, b] = [await request(`${ours.base}/${step}`), await request(`${real.base}/${step}`)];
      expect({ step, status: a.status }).toEqual({ step, status: b.status });
      expect({ step, message: withoutTime(redirectMessage(a)) }).toEqual({ step, message: withoutTime(redirectMessage(b)) });
      // Location is the server's own URL (from Host) plus /?message=, quoted as Python quotes.
      const norm = (loc: string | undefined, port: number): string => (loc ?? '').replace(`:${port}/`, ':PORT/').replace(/%20at%20[^&]*$/, '%20at%20<ctime>');
      expect(norm(a.headers.location, ours.port)).toBe(norm(b.headers.location, real.port));
      for (const h of ['pragma', 'cache-control', 'expires']) expect(a.headers[h]).toBe(b.headers[h]);
    }
    await settled(ours);
  }, 60_000);

  it('really did what the messages say', async () => {
    await request(`${ours.base}/index.html?processname=web%3Aweb_0&action=stop`);
    expect(await stateOf(ours, 'web:web_0')).toBe('STOPPED');
    const r = await request(`${ours.base}/index.html?processname=web%3Aweb_0&action=start`);
    expect(redirectMessage(r)).toBe('Process web:web_0 started');
    expect(await stateOf(ours, 'web:web_0')).toBe('RUNNING');
  });

  it('says so when a restart cannot start the process again (supervisord: "restarted" anyway)', async () => {
    const r = await request(`${ours.base}/index.html?processname=quick&action=restart`);
    expect(redirectMessage(r)).toBe('ERROR: Process quick: spawn error');
  });

  it('takes the form in a POST body too, as web.py does', async () => {
    const post = (body: string) =>
      request(`${ours.base}/index.html`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(redirectMessage(await post('processname=web%3Aweb_2&action=stop'))).toBe('Process web:web_2 stopped');
    expect(await stateOf(ours, 'web:web_2')).toBe('STOPPED');
    expect(redirectMessage(await post('processname=web%3Aweb_2&action=start'))).toBe('Process web:web_2 started');
    expect((await post(`x=${'a'.repeat(70 * 1024)}`)).status).toBe(413);
  });

  it('shows the message it redirected with on the status page, escaped', async () => {
    const r = await request(`${ours.base}/?message=${encodeURIComponent('Process <b>x</b> "started" & more')}`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('Process &lt;b&gt;x&lt;/b&gt; &quot;started&quot; &amp; more');
    expect(r.body).not.toContain('<b>x</b>');
  });

  it('answers an action it does not know with a 400 page (supervisord: a 500)', async () => {
    for (const q of ['action=bogus', 'processname=sleeper&action=bogus', 'processname=sleeper&action=%3Cscript%3E']) {
      const r = await request(`${ours.base}/index.html?${q}`);
      expect(r.status).toBe(400);
      expect(r.body).toContain('Error code 400.');
      expect(r.body).not.toContain('<script>');
    }
  });

  it('keeps ok.html for health checks: 200, text/plain, OK', async () => {
    const [a, b] = [await request(`${ours.base}/ok.html`), await request(`${real.base}/ok.html`)];
    expect([a.status, a.headers['content-type'], a.body]).toEqual([b.status, b.headers['content-type'], b.body]);
  });
});

describe('tail.html', () => {
  it('shows the end of stdout in a <pre>, with a Refresh link that keeps limit=', async () => {
    const r = await request(`${ours.base}/tail.html?processname=ticker&limit=2048`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html;charset=utf-8');
    const pre = /<pre id="tailbody"[^>]*>([\s\S]*?)<\/pre>/.exec(r.body)![1]!;
    expect(pre).toMatch(/tick \d+ lorem/);
    expect(Buffer.byteLength(pre)).toBeLessThanOrEqual(2048 + 16);
    expect(r.body).toContain('href="tail.html?processname=ticker&amp;limit=2048"');
    expect(r.body).toContain('<title>Supervisor tail of process ticker</title>');
  });

  it('says "No file for NAME" when there is no log, as supervisord does', async () => {
    const [a, b] = [await request(`${ours.base}/tail.html?processname=quiet`), await request(`${real.base}/tail.html?processname=quiet`)];
    const pre = (body: string): string => /<pre[^>]*>([\s\S]*?)<\/pre>/.exec(body)![1]!;
    expect(pre(a.body)).toBe('No file for quiet');
    expect(pre(a.body)).toBe(pre(b.body));
  });

  it('reads stderr with channel=stderr', async () => {
    const r = await request(`${ours.base}/tail.html?processname=quick&channel=stderr`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('data-channel="stderr"');
  });

  it('answers an unknown name with 404 and a missing one with 400, the text escaped', async () => {
    const bad = await request(`${ours.base}/tail.html?processname=${encodeURIComponent('<script>alert(1)</script>')}`);
    expect(bad.status).toBe(404);
    expect(bad.body).toContain('ERROR: unexpected rpc fault [10] BAD_NAME: &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(bad.body).not.toContain('<script>alert');
    const none = await request(`${ours.base}/tail.html`);
    expect(none.status).toBe(400);
    expect(none.body).toContain('No process name found');
  });
});

describe('files, headers and auth', () => {
  it('serves the page files with their types, an ETag and revalidation', async () => {
    const types: Record<string, string> = {
      'app.js': 'text/javascript; charset=utf-8',
      'tail.js': 'text/javascript; charset=utf-8',
      'xmlrpc.js': 'text/javascript; charset=utf-8',
      'style.css': 'text/css; charset=utf-8',
      'favicon.svg': 'image/svg+xml',
    };
    for (const [file, type] of Object.entries(types)) {
      const r = await request(`${ours.base}/${file}`);
      expect([file, r.status, r.headers['content-type']]).toEqual([file, 200, type]);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['cache-control']).toBe('no-cache');
      const again = await request(`${ours.base}/${file}`, { headers: { 'If-None-Match': r.headers.etag! } });
      expect(again.status).toBe(304);
      expect(again.body).toBe('');
    }
  });

  it('sends the pages uncached, with a strict Content-Security-Policy and no framing', async () => {
    for (const page of ['', 'index.html', 'tail.html?processname=ticker']) {
      const r = await request(`${ours.base}/${page}`);
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.headers.pragma).toBe('no-cache');
      expect(r.headers['content-security-policy']).toContain("script-src 'self'");
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(r.headers['x-frame-options']).toBe('DENY');
      // No CDN: everything the page loads is its own.
      expect(r.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });

  it('refuses every path without the password, or with a wrong one (401)', async () => {
    const wrong = `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}`;
    for (const p of ['', 'index.html?processname=sleeper&action=stop', 'tail.html?processname=ticker', 'ok.html', 'app.js', 'style.css', 'nothing-here']) {
      for (const auth of [null, wrong]) {
        const r = await request(`${ours.base}/${p}`, { auth });
        expect([p, r.status, r.headers['www-authenticate']]).toEqual([p, 401, 'Basic realm="default"']);
      }
    }
    expect(await stateOf(ours, 'sleeper')).toBe('RUNNING');
    expect((await request(`${ours.base}/`, { auth: AUTH })).status).toBe(200);
  });

  it('answers HEAD like GET without a body, and never acts on it', async () => {
    const r = await request(`${ours.base}/index.html?processname=sleeper&action=stop`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
    expect(await stateOf(ours, 'sleeper')).toBe('RUNNING');
  });

  it('answers other methods with 400, as medusa does', async () => {
    for (const [method, p] of [['PUT', ''], ['DELETE', 'app.js'], ['OPTIONS', 'index.html'], ['PATCH', 'tail.html']] as const) {
      expect([method, (await request(`${ours.base}/${p}`, { method })).status]).toEqual([method, 400]);
    }
  });
});

describe('fastvisor/status.json, the live page\'s poll', () => {
  it('answers getState and getAllProcessInfo as JSON, then 304 until something changes', async () => {
    const first = await request(`${ours.base}/fastvisor/status.json`);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    const data = JSON.parse(first.body) as { state: { statename: string }; now: number; processes: Array<Record<string, unknown>> };
    expect(data.state.statename).toBe('RUNNING');
    expect(Math.abs(data.now - Date.now() / 1000)).toBeLessThan(5);
    const rpc = (await ours.daemon.rpc('supervisor.getAllProcessInfo')) as Array<Record<string, unknown>>;
    expect(data.processes.map((p) => `${p.group}:${p.name}:${p.statename}:${p.pid}`)).toEqual(rpc.map((p) => `${p.group}:${p.name}:${p.statename}:${p.pid}`));
    expect(Object.keys(data.processes[0]!)).toEqual([
      'name',
      'group',
      'state',
      'statename',
      'pid',
      'start',
      'stop',
      'spawnerr',
      'exitstatus',
      'description',
      'cpu_seconds',
      'memory_bytes',
    ]);

    // Uptimes tick, the ETag does not: a second later it is still a 304.
    const etag = first.headers.etag!;
    await pollUntil(async () => Math.trunc(Date.now() / 1000) > data.now, { what: 'the next second' });
    const same = await request(`${ours.base}/fastvisor/status.json`, { headers: { 'If-None-Match': etag } });
    expect([same.status, same.body]).toEqual([304, '']);

    await ours.daemon.rpc('supervisor.stopProcess', 'web:web_1');
    const changed = await request(`${ours.base}/fastvisor/status.json`, { headers: { 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect((JSON.parse(changed.body) as typeof data).processes.find((p) => p.name === 'web_1')!.statename).toBe('STOPPED');
    await ours.daemon.rpc('supervisor.startProcess', 'web:web_1');
  });

  it('is behind the same Basic auth', async () => {
    expect((await request(`${ours.base}/fastvisor/status.json`, { auth: null })).status).toBe(401);
    expect((await request(`${ours.base}/fastvisor/status.json`, { method: 'POST', body: '' })).status).toBe(400);
  });
});

describe('the cross-site guard', () => {
  it('refuses an action another site triggered (Sec-Fetch-Site), keeps bookmarks and scripts working', async () => {
    const stop = `${ours.base}/index.html?processname=sleeper&action=stop`;
    for (const site of ['cross-site', 'same-site']) {
      const r = await request(stop, { headers: { 'Sec-Fetch-Site': site } });
      expect([site, r.status]).toEqual([site, 403]);
    }
    expect(await stateOf(ours, 'sleeper')).toBe('RUNNING');
    // A refresh changes nothing, so it may come from anywhere.
    expect((await request(`${ours.base}/index.html?action=refresh`, { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(301);
    // A bookmark (none), the page itself (same-origin), a script (no header): all act.
    expect(redirectMessage(await request(stop, { headers: { 'Sec-Fetch-Site': 'none' } }))).toBe('Process sleeper stopped');
    const start = `${ours.base}/index.html?processname=sleeper&action=start`;
    expect(redirectMessage(await request(start, { headers: { 'Sec-Fetch-Site': 'same-origin' } }))).toBe('Process sleeper started');
    expect(redirectMessage(await request(stop))).toBe('Process sleeper stopped');
    expect(redirectMessage(await request(start))).toBe('Process sleeper started');
  });
});

describe('hostile input', () => {
  it('serves nothing outside its fixed list of files, whatever the path says', async () => {
    const targets = [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/....//....//etc/passwd',
      '/web/index.html',
      '/./app.js/../../package.json',
      '/index.html/../../package.json',
      '/app.js%00.html',
      '/app.js/',
      '/APP.JS',
      '/package.json',
      '/src/web/handler.ts',
      '/node_modules/playwright-core/package.json',
      '/%ff%fe',
      '//etc/passwd',
      '/\\..\\..\\etc\\passwd',
    ];
    for (const t of targets) {
      const r = parseResponse(
        (await rawRequest({ host: '127.0.0.1', port: ours.port }, `GET ${t} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${AUTH}\r\nConnection: close\r\n\r\n`)).raw,
      );
      expect([t, r.status]).toEqual([t, 404]);
      expect(r.body.toString()).not.toMatch(/root:|"name": "fastvisor"|import /);
    }
  });

  it('never echoes markup from the URL, and answers odd names, limits and encodings calmly', async () => {
    const payloads = ['<script>alert(1)</script>', '"><svg onload=alert(1)>', "'><img src=x onerror=alert(1)>", '</pre><script>x</script>'];
    for (const p of payloads) {
      const q = encodeURIComponent(p);
      for (const url of [
        `tail.html?processname=${q}`,
        `tail.html?processname=ticker&channel=${q}`,
        `tail.html?processname=ticker&limit=${q}`,
        `?message=${q}`,
        `index.html?processname=${q}&action=start`,
        `index.html?action=${q}`,
      ]) {
        const r = await request(`${ours.base}/${url}`);
        expect([url, [200, 301, 400, 404].includes(r.status)]).toEqual([url, true]);
        expect(r.body).not.toContain(p);
        if (r.status === 301) {
          // The message comes back quoted in Location and escaped on the page.
          const page = await request(r.headers.location!.replace('http://127.0.0.1:' + ours.port, ours.base));
          expect(page.body).not.toContain(p);
        }
      }
    }
    const odd = [
      'tail.html?processname=%ff%fe%00',
      `tail.html?processname=${'x'.repeat(8000)}`,
      'tail.html?processname=ticker&limit=99999999999999999999999',
      'tail.html?processname=ticker&limit=-5',
      'tail.html?processname=..%2F..%2Fetc%2Fpasswd',
      'tail.html?processname=ticker&processname=sleeper',
      'index.html?processname=%0d%0aSet-Cookie:%20x=1&action=stop',
      'index.html?processname=%ff&action=stop',
      `index.html?processname=${'y'.repeat(8000)}&action=restart`,
      'index.html?processname=sleeper&action=stop&action=start&action=bogus',
    ];
    for (const url of odd) {
      const r = await request(`${ours.base}/${url}`);
      expect([url, [200, 301, 400, 404].includes(r.status)]).toEqual([url, true]);
      expect(r.headers['set-cookie']).toBeUndefined();
      expect(r.body).not.toContain('root:');
    }
    // parse_qs: the first value of a name wins, so that last one was a stop.
    await pollUntil(async () => (await stateOf(ours, 'sleeper')) === 'STOPPED', { what: 'sleeper stopped' });
    expect(redirectMessage(await request(`${ours.base}/index.html?processname=sleeper&action=start`))).toBe('Process sleeper started');
  });

  it('is still answering, over XML-RPC and the web, after all that', async () => {
    expect(await ours.daemon.rpc('supervisor.getState')).toEqual({ statecode: 1, statename: 'RUNNING' });
    const r = await request(`${ours.base}/`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('data-name="sleeper"');
    expect(ours.daemon.proc.exitCode).toBeNull();
  });
});
