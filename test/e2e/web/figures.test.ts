// SPDX-License-Identifier: MIT
// The per-process figures on the web UI: status.json carries each process's CPU seconds
// and memory without letting them move its ETag, figures.json has them fresh every
// time, the server-rendered page shows memory and CPU time, and in Chromium a busy
// process's CPU % and memory fill in and its sparkline appears, on a phone without the
// sparkline. Every process goes with its daemon.
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stopAllDaemons } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs } from '../../helpers/tmp.js';
import { launchChromium, PASSWORD, request, resultsDir, startWebDaemon, USER, type WebDaemon } from './web-harness.js';

// spinner keeps one core busy; -S: no site module, a fast start.
const EXTRA = `
[program:spinner]
command=python3 -S -c 'while True: pass'
startsecs=0
`;

let browser: Browser;
let wd: WebDaemon;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

interface FeedProcess {
  name: string;
  statename: string;
  pid: number;
  cpu_seconds: number | null;
  memory_bytes: number | null;
}
interface Figures {
  etag: string;
  now: number;
  figures: Array<[string, number, number | null, number | null]>;
}

beforeAll(async () => {
  [browser, wd] = await Promise.all([launchChromium(), startWebDaemon('fastvisor', EXTRA)]);
  await pollUntil(
    async () => {
      const all = (await wd.daemon.rpc('supervisor.getAllProcessInfo')) as Array<{ name: string; statename: string }>;
      return all.every((p) => (p.name === 'quick' ? p.statename === 'FATAL' : p.statename === 'RUNNING'));
    },
    { timeout: 15_000, what: 'every program settled' },
  );
}, 40_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stopAllDaemons();
  killTracked();
  removeTmpDirs();
});

async function newPage(mobile = false): Promise<Page> {
  const context = await browser.newContext({
    httpCredentials: { username: USER, password: PASSWORD },
    viewport: mobile ? { width: 390, height: 844 } : { width: 1280, height: 760 },
    ...(mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  contexts.push(context);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

async function feed(): Promise<{ etag: string; processes: FeedProcess[] }> {
  const r = await request(`${wd.base}/fastvisor/status.json`);
  expect(r.status).toBe(200);
  return { etag: r.headers.etag!, processes: (JSON.parse(r.body) as { processes: FeedProcess[] }).processes };
}

async function figures(): Promise<Figures> {
  const r = await request(`${wd.base}/fastvisor/figures.json`);
  expect(r.status).toBe(200);
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(r.body) as Figures;
}

describe('the feeds', () => {
  it("status.json has a running process's CPU seconds and memory, and they do not move its ETag", async () => {
    const first = await feed();
    const spinner = first.processes.find((p) => p.name === 'spinner')!;
    expect(spinner.statename).toBe('RUNNING');
    expect(spinner.memory_bytes).toBeGreaterThan(1024 * 1024);
    expect(spinner.cpu_seconds).toBeGreaterThanOrEqual(0);
    // No child, no figures.
    const quick = first.processes.find((p) => p.name === 'quick')!;
    expect([quick.cpu_seconds, quick.memory_bytes]).toEqual([null, null]);

    // The spinner's CPU seconds grow; the ETag stays, and a revalidation is still a 304.
    const later = await pollUntil(
      async () => {
        const f = await feed();
        const s = f.processes.find((p) => p.name === 'spinner')!;
        return s.cpu_seconds! >= spinner.cpu_seconds! + 0.05 ? f : null;
      },
      { what: "spinner's CPU seconds growing" },
    );
    expect(later.etag).toBe(first.etag);
    const again = await request(`${wd.base}/fastvisor/status.json`, { headers: { 'If-None-Match': first.etag } });
    expect([again.status, again.body]).toEqual([304, '']);
  });

  it('figures.json has every running process as [namespec, pid, cpu_seconds, memory_bytes], with the status ETag', async () => {
    const [f, s] = await Promise.all([figures(), feed()]);
    expect(f.etag).toBe(s.etag);
    expect(Math.abs(f.now - Date.now() / 1000)).toBeLessThan(5);
    const byName = new Map(f.figures.map((row) => [row[0], row]));
    for (const p of s.processes.filter((x) => x.statename === 'RUNNING')) {
      const ns = p.name.startsWith('web_') ? `web:${p.name}` : p.name;
      const row = byName.get(ns);
      expect(row, ns).toBeDefined();
      expect(row![1]).toBe(p.pid);
      expect(row![2]).toBeGreaterThanOrEqual(0);
      expect(row![3]).toBeGreaterThan(0);
    }
    expect(byName.has('quick')).toBe(false);
    // A status change moves the ETag that figures.json reports.
    await wd.daemon.rpc('supervisor.stopProcess', 'web:web_1');
    try {
      const after = await figures();
      expect(after.etag).not.toBe(f.etag);
      expect(after.figures.some((row) => row[0] === 'web:web_1')).toBe(false);
    } finally {
      await wd.daemon.rpc('supervisor.startProcess', 'web:web_1');
    }
  });

  it('is behind the same Basic auth, GET only', async () => {
    expect((await request(`${wd.base}/fastvisor/figures.json`, { auth: null })).status).toBe(401);
    expect((await request(`${wd.base}/fastvisor/figures.json`, { method: 'POST', body: '' })).status).toBe(400);
  });
});

describe('the page without JavaScript', () => {
  it('shows memory in human units and the CPU time used so far', async () => {
    const r = await request(`${wd.base}/`);
    expect(r.status).toBe(200);
    const row = /<tr class="proc st-running" data-name="spinner"[^]*?<\/tr>/.exec(r.body)?.[0] ?? '';
    expect(row).toMatch(/<td class="cpu">\d+\.\d\d s<\/td>/);
    expect(row).toMatch(/<td class="mem">\d+\.\d (KiB|MiB)<\/td>/);
    expect(row).toContain('<td class="trend"></td>');
    const quick = /<tr class="proc st-fatal" data-name="quick"[^]*?<\/tr>/.exec(r.body)?.[0] ?? '';
    expect(quick).toContain('<td class="cpu"></td>');
    expect(quick).toContain('<td class="mem"></td>');
    // Every row and header spans the same columns.
    expect(r.body).toMatch(/<th colspan="9" scope="rowgroup">/);
  });
});

describe('the live page', () => {
  it("fills in a busy process's CPU % and memory after two polls, and draws its sparkline", async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/`);
    await page.waitForSelector('body.live');
    await page.waitForFunction(
      () => {
        const t = document.querySelector('tr[data-name="spinner"] td.cpu')?.textContent ?? '';
        return /^\d+(\.\d)?%$/.test(t) && parseFloat(t) > 0;
      },
      undefined,
      { timeout: 15_000, polling: 50 },
    );
    const cell = (ns: string, cls: string): Promise<string | null> => page.locator(`tr[data-name="${ns}"] td.${cls}`).textContent();
    // One core busy: well above idle (a loaded CI box may give it less than all of one).
    await pollUntil(async () => parseFloat((await cell('spinner', 'cpu')) ?? '0') > 5, { timeout: 15_000, what: 'spinner above 5 %' });
    expect(await cell('spinner', 'mem')).toMatch(/^\d+\.\d (KiB|MiB)$/);
    // An idle process reads (near) zero, a FATAL one nothing.
    await pollUntil(async () => /^\d\.\d%$/.test((await cell('sleeper', 'cpu')) ?? ''), { what: "sleeper's CPU %" });
    expect(await cell('quick', 'cpu')).toBe('');
    expect(await cell('quick', 'mem')).toBe('');
    expect(await page.locator('th.cpu').innerText()).toBe('CPU %');

    // The sparkline: an inline SVG whose line has at least two points, kept across polls.
    await page.waitForFunction(() => /^M[\d.]+ [\d.]+L/.test(document.querySelector('tr[data-name="spinner"] td.trend svg.spark path')?.getAttribute('d') ?? ''), undefined, {
      timeout: 15_000,
      polling: 50,
    });
    const label = await page.locator('tr[data-name="spinner"] td.trend svg.spark').getAttribute('aria-label');
    expect(label).toMatch(/^CPU % over the last 5 minutes: peak \d+(\.\d)?%, now \d+(\.\d)?%$/);
    expect(await page.locator('tr[data-name="spinner"] td.trend svg.spark').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(resultsDir(), 'figures.png'), fullPage: true });
  });

  it('starts over for a new pid: blank CPU % until two samples of the new child', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/`);
    await page.waitForSelector('body.live');
    await page.waitForFunction(() => /%$/.test(document.querySelector('tr[data-name="spinner"] td.cpu')?.textContent ?? ''), undefined, { timeout: 15_000 });
    await wd.daemon.rpc('supervisor.stopProcess', 'spinner');
    await page.waitForFunction(
      () => {
        const tr = document.querySelector('tr[data-name="spinner"]');
        return tr?.querySelector('td.status')?.textContent === 'stopped' && tr.querySelector('td.cpu')?.textContent === '' && tr.querySelector('td.mem')?.textContent === '';
      },
      undefined,
      { timeout: 15_000, polling: 50 },
    );
    await wd.daemon.rpc('supervisor.startProcess', 'spinner');
    const pid = ((await wd.daemon.rpc('supervisor.getProcessInfo', 'spinner')) as { pid: number }).pid;
    await page.waitForFunction(
      (p) => {
        const tr = document.querySelector('tr[data-name="spinner"]');
        return tr?.querySelector('td.pid')?.textContent === String(p) && /%$/.test(tr.querySelector('td.cpu')?.textContent ?? '');
      },
      pid,
      { timeout: 15_000, polling: 50 },
    );
  });

  it('hides the sparkline on a phone, keeps CPU and memory, and does not scroll sideways', async () => {
    const phone = await newPage(true);
    await phone.goto(`${wd.base}/`);
    await phone.waitForSelector('body.live');
    await phone.waitForFunction(() => /%$/.test(document.querySelector('tr[data-name="spinner"] td.cpu')?.textContent ?? ''), undefined, { timeout: 15_000 });
    await phone.waitForSelector('tr[data-name="spinner"] td.trend svg.spark', { state: 'attached', timeout: 15_000 });
    expect(await phone.locator('tr[data-name="spinner"] td.trend').isVisible()).toBe(false);
    expect(await phone.locator('tr[data-name="spinner"] td.cpu').isVisible()).toBe(true);
    expect(await phone.locator('tr[data-name="spinner"] td.mem').isVisible()).toBe(true);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await phone.screenshot({ path: path.join(resultsDir(), 'figures-phone.png'), fullPage: true });
  });

  it('broke no Content-Security-Policy rule and threw no error', () => {
    expect(pageErrors).toEqual([]);
  });
});
