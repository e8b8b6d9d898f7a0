// SPDX-License-Identifier: MIT
// The web UI in headless Chromium against a real fastvisor daemon: the status table
// updates itself, Stop and Start work by clicking without a reload, the tail follows the
// log as it grows, the filter and group folding work, a wrong password is refused, and
// nothing the page does trips its Content-Security-Policy. Screenshots go to
// test-results/web/.
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stopAllDaemons } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { removeTmpDirs } from '../../helpers/tmp.js';
import { launchChromium, PASSWORD, resultsDir, startWebDaemon, USER, type WebDaemon } from './web-harness.js';

let browser: Browser;
let wd: WebDaemon;
const contexts: BrowserContext[] = [];
/** console errors and uncaught exceptions of every page (a CSP violation shows here too) */
const pageErrors: string[] = [];

beforeAll(async () => {
  [browser, wd] = await Promise.all([launchChromium(), startWebDaemon()]);
  // Everything settled: quick is FATAL, the rest RUNNING.
  await pollUntil(
    async () => {
      const all = (await wd.daemon.rpc('supervisor.getAllProcessInfo')) as Array<{ name: string; statename: string }>;
      return all.every((p) => (p.name === 'quick' ? p.statename === 'FATAL' : p.statename === 'RUNNING'));
    },
    { timeout: 15_000, what: 'every program settled' },
  );
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stopAllDaemons();
  removeTmpDirs();
});

async function newPage(opts: { password?: string; mobile?: boolean; watchErrors?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({
    httpCredentials: { username: USER, password: opts.password ?? PASSWORD },
    viewport: opts.mobile ? { width: 390, height: 844 } : { width: 1280, height: 760 },
    ...(opts.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  contexts.push(context);
  const page = await context.newPage();
  if (opts.watchErrors === false) return page;
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

/** Counts full page loads of the main frame: an update without reload leaves it alone. */
function countLoads(page: Page): () => number {
  let n = 0;
  page.on('load', () => n++);
  return () => n;
}

const stateOf = (page: Page, ns: string): Promise<string | null> =>
  page.locator(`tr[data-name="${ns}"] td.status`).textContent({ timeout: 5000 });

async function waitState(page: Page, ns: string, state: string): Promise<void> {
  await page.waitForFunction(
    ([n, s]) => document.querySelector(`tr[data-name="${n}"] td.status`)?.textContent === s,
    [ns, state] as const,
    { timeout: 15_000, polling: 50 },
  );
}

describe('the status page', () => {
  it('stops and starts a process by clicking, and the table follows without a reload', async () => {
    const page = await newPage();
    const response = await page.goto(`${wd.base}/`);
    expect(response?.status()).toBe(200);
    await page.waitForSelector('body.live');
    const loads = countLoads(page);
    expect(await stateOf(page, 'sleeper')).toBe('running');
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    await page.locator('tr[data-name="sleeper"] a.act-stop').click();
    await waitState(page, 'sleeper', 'stopped');
    await page.waitForFunction(() => document.getElementById('statusmessage')?.textContent === 'Process sleeper stopped');
    // The daemon agrees, and the page is the same page (no navigation happened).
    expect(((await wd.daemon.rpc('supervisor.getProcessInfo', 'sleeper')) as { statename: string }).statename).toBe('STOPPED');
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
    expect(page.url()).toBe(`${wd.base}/`);

    // STOPPED offers Start (and no Stop); a start puts it back to RUNNING with a pid.
    expect(await page.locator('tr[data-name="sleeper"] a.act-stop').count()).toBe(0);
    await page.locator('tr[data-name="sleeper"] a.act-start').click();
    await waitState(page, 'sleeper', 'running');
    await page.waitForFunction(() => document.getElementById('statusmessage')?.textContent === 'Process sleeper started');
    const pid = ((await wd.daemon.rpc('supervisor.getProcessInfo', 'sleeper')) as { pid: number }).pid;
    await page.waitForFunction((p) => document.querySelector('tr[data-name="sleeper"] td.pid')?.textContent === String(p), pid);
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
    expect(loads()).toBe(0);
  });

  it('shows a change made elsewhere (supervisorctl, XML-RPC) within a poll or two', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/index.html`);
    await page.waitForSelector('body.live');
    await waitState(page, 'web:web_2', 'running');
    await wd.daemon.rpc('supervisor.stopProcess', 'web:web_2');
    await waitState(page, 'web:web_2', 'stopped');
    await wd.daemon.rpc('supervisor.startProcess', 'web:web_2');
    await waitState(page, 'web:web_2', 'running');
  });

  it('colours states, shows pid, uptime and description, and keeps a failed process visible', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/`);
    await page.waitForSelector('body.live');
    const row = page.locator('tr[data-name="ticker"]');
    expect(await row.locator('td.pid').textContent()).toMatch(/^\d+$/);
    expect(await row.locator('td.uptime').textContent()).toMatch(/^\d+:\d\d:\d\d$/);
    expect(await row.locator('td.desc').textContent()).toMatch(/^pid \d+, uptime \d+:\d\d:\d\d$/);
    const colour = (sel: string): Promise<string> => page.locator(sel).evaluate((e) => getComputedStyle(e).color);
    const running = await colour('tr[data-name="ticker"] .badge');
    const fatal = await colour('tr[data-name="quick"] .badge');
    expect(await page.locator('tr[data-name="quick"] .badge').textContent()).toBe('fatal');
    expect(running).not.toBe(fatal);
    // supervisord's class names stay, for anything that scrapes them.
    expect(await page.locator('tr[data-name="quick"] .statuserror').count()).toBe(1);
    expect(await page.locator('tr[data-name="ticker"] .statusrunning').count()).toBe(1);
  });

  it('filters by name, state or description, and folds a group', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/`);
    await page.waitForSelector('body.live');
    const visible = (): Promise<string[]> =>
      page.$$eval('tr.proc', (rows) => rows.filter((r) => !(r as HTMLElement).hidden).map((r) => (r as HTMLElement).dataset.name!));

    await page.fill('#filter', 'web_');
    await pollUntil(async () => JSON.stringify(await visible()) === JSON.stringify(['web:web_0', 'web:web_1', 'web:web_2']), { what: 'filter web_' });
    await page.fill('#filter', 'fatal');
    await pollUntil(async () => JSON.stringify(await visible()) === JSON.stringify(['quick']), { what: 'filter fatal' });
    await page.fill('#filter', 'no-such-thing');
    await page.waitForSelector('#nomatch:not([hidden])');
    await page.fill('#filter', '');
    await pollUntil(async () => (await visible()).length === 6, { what: 'filter cleared' });

    // Folding hides the group's rows, keeps its header, and survives the next poll.
    await page.click('tr.group[data-group="web"] button.fold');
    await pollUntil(async () => !(await visible()).some((n) => n.startsWith('web:')), { what: 'web folded' });
    expect(await page.locator('tr.group[data-group="web"]').isVisible()).toBe(true);
    const updated = await page.textContent('#updated');
    await page.waitForFunction((u) => document.getElementById('updated')?.textContent !== u, updated, { timeout: 5000 });
    expect((await visible()).some((n) => n.startsWith('web:'))).toBe(false);
    await page.click('tr.group[data-group="web"] button.fold');
    await pollUntil(async () => (await visible()).filter((n) => n.startsWith('web:')).length === 3, { what: 'web unfolded' });
  });

  it('stops and starts a whole group from its header', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/`);
    await page.waitForSelector('body.live');
    await page.click('tr.group[data-group="web"] button[data-gaction="stop"]');
    for (const n of ['web:web_0', 'web:web_1', 'web:web_2']) await waitState(page, n, 'stopped');
    await page.waitForFunction(() => document.getElementById('statusmessage')?.textContent === 'Group web stopped');
    await page.click('tr.group[data-group="web"] button[data-gaction="start"]');
    for (const n of ['web:web_0', 'web:web_1', 'web:web_2']) await waitState(page, n, 'running');
    await page.waitForFunction(() => document.getElementById('statusmessage')?.textContent === 'Group web started');
  });

  it('saves screenshots of the status page (desktop and phone) to test-results/web/', async () => {
    const dir = resultsDir();
    const page = await newPage();
    await page.goto(`${wd.base}/`);
    await page.waitForSelector('body.live');
    await waitState(page, 'sleeper', 'running');
    await page.screenshot({ path: path.join(dir, 'status.png'), fullPage: true });
    const phone = await newPage({ mobile: true });
    await phone.goto(`${wd.base}/`);
    await phone.waitForSelector('body.live');
    // Readable on a phone: no sideways scrolling, and the buttons are big enough to hit.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const box = await phone.locator('tr[data-name="sleeper"] a.act-stop').boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(30);
    await phone.screenshot({ path: path.join(dir, 'status-phone.png'), fullPage: true });
  });
});

describe('the tail page', () => {
  it('shows new lines as they are written, without a reload', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/tail.html?processname=ticker`);
    await page.waitForSelector('body.live');
    const loads = countLoads(page);
    const lastTick = (): Promise<number> =>
      page.$eval('#tailbody', (pre) => {
        const all = [...(pre.textContent ?? '').matchAll(/^tick (\d+) /gm)];
        return all.length ? Number(all[all.length - 1]![1]) : 0;
      });
    const first = await pollUntil(async () => (await lastTick()) || false, { what: 'a first tick' });
    // ticker writes every 100 ms: ten more lines arrive within a few seconds.
    await pollUntil(async () => (await lastTick()) >= first + 10, { timeout: 10_000, what: 'ten more ticks on the page' });
    expect(loads()).toBe(0);
    // Every line once, in order: the stream and the page's snapshot were joined without a seam.
    const ticks = await page.$eval('#tailbody', (pre) => [...(pre.textContent ?? '').matchAll(/^tick (\d+) /gm)].map((m) => Number(m[1])));
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBe(ticks[i - 1]! + 1);
    expect(await page.textContent('#conn')).toBe('live');
    await page.screenshot({ path: path.join(resultsDir(), 'tail.png') });
  });

  it('joins a longer snapshot (limit=) and the stream without losing or repeating a line', async () => {
    // The log must be longer than the limit for the snapshot to reach past the stream's head.
    await pollUntil(async () => ((await wd.daemon.rpc('supervisor.tailProcessStdoutLog', 'ticker', 0, 0)) as [string, number])[1] > 6000, {
      timeout: 15_000,
      what: "ticker's log past 6 KB",
    });
    const page = await newPage();
    await page.goto(`${wd.base}/tail.html?processname=ticker&limit=4096`);
    await page.waitForSelector('body.live');
    const ticks = (): Promise<number[]> =>
      page.$eval('#tailbody', (pre) => [...(pre.textContent ?? '').matchAll(/^tick (\d+) /gm)].map((m) => Number(m[1])));
    const first = (await ticks()).at(-1)!;
    await pollUntil(async () => ((await ticks()).at(-1) ?? 0) >= first + 5, { timeout: 10_000, what: 'five more ticks' });
    const all = await ticks();
    // More than the stream's 1 KiB head: the snapshot's older lines are still there.
    expect(all.length).toBeGreaterThan(40);
    for (let i = 1; i < all.length; i++) expect(all[i]).toBe(all[i - 1]! + 1);
  });

  it('opens from the status page through the name link', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/`);
    await page.waitForSelector('body.live');
    await page.click('tr[data-name="ticker"] td.name a');
    await page.waitForURL(/tail\.html\?processname=ticker$/);
    await page.waitForFunction(() => /tick \d+/.test(document.getElementById('tailbody')?.textContent ?? ''));
  });
});

describe('access', () => {
  it('refuses a wrong password with 401 and shows nothing of the page', async () => {
    // The 401s show as console errors there, as they should.
    const page = await newPage({ password: 'wrong', watchErrors: false });
    const r = await page.goto(`${wd.base}/`);
    expect(r?.status()).toBe(401);
    expect(await page.content()).not.toContain('sleeper');
    const tail = await page.goto(`${wd.base}/tail.html?processname=ticker`);
    expect(tail?.status()).toBe(401);
  });
});

describe('the pages themselves', () => {
  it('broke no Content-Security-Policy rule and threw no error', () => {
    expect(pageErrors).toEqual([]);
  });
});
