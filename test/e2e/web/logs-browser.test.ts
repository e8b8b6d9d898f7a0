// SPDX-License-Identifier: MIT
// The "all logs" page (logs.html) in headless Chromium against a real fastvisor behind
// Basic auth: it follows every program's output through the merged stream
// (/fastvisor/tail, the one fastvisorctl tail -f all reads), filters by program and by
// text without a reload, tells stderr apart, is refused without the password, and
// trips nothing of its Content-Security-Policy. Screenshots go to test-results/web/.
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stopAllDaemons } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { removeTmpDirs } from '../../helpers/tmp.js';
import { launchChromium, PASSWORD, request, resultsDir, startWebDaemon, USER, type WebDaemon } from './web-harness.js';

const GRUMBLER = `
[program:grumbler]
command=/bin/sh -c 'i=0; while :; do i=$((i+1)); echo "oops $i" >&2; sleep 0.1; done'
startsecs=0
stopasgroup=true
killasgroup=true
`;

let browser: Browser;
let wd: WebDaemon;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  [browser, wd] = await Promise.all([launchChromium(), startWebDaemon('fastvisor', GRUMBLER)]);
  await pollUntil(
    async () => {
      const all = (await wd.daemon.rpc('supervisor.getAllProcessInfo')) as Array<{ name: string; statename: string }>;
      return ['ticker', 'grumbler'].every((n) => all.find((p) => p.name === n)?.statename === 'RUNNING');
    },
    { timeout: 15_000, what: 'ticker and grumbler running' },
  );
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await stopAllDaemons();
  removeTmpDirs();
});

async function newPage(password = PASSWORD, watchErrors = true): Promise<Page> {
  const context = await browser.newContext({ httpCredentials: { username: USER, password }, viewport: { width: 1280, height: 760 } });
  contexts.push(context);
  const page = await context.newPage();
  if (watchErrors) {
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  }
  return page;
}

/** The rows shown (not filtered out): program, stream, text. */
const visible = (page: Page): Promise<Array<{ name: string; stream: string; text: string }>> =>
  page.$$eval('#lines .ln', (rows) =>
    rows
      .filter((r) => !(r as HTMLElement).hidden)
      .map((r) => ({
        name: (r as HTMLElement).dataset.name!,
        stream: (r as HTMLElement).dataset.stream!,
        text: r.querySelector('.txt')!.textContent!,
      })),
  );

describe('the all-logs page', () => {
  it('follows every program live, one row per line with its name; stderr told apart', async () => {
    const page = await newPage();
    const r = await page.goto(`${wd.base}/logs.html`);
    expect(r?.status()).toBe(200);
    expect(r?.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.waitForSelector('body.live');
    const lastTick = async (): Promise<number> => {
      const ticks = (await visible(page)).filter((x) => x.name === 'ticker').map((x) => Number(/^tick (\d+) /.exec(x.text)?.[1] ?? 0));
      return ticks.at(-1) ?? 0;
    };
    const first = await pollUntil(async () => (await lastTick()) || false, { what: 'a first tick' });
    await pollUntil(async () => (await lastTick()) >= first + 10, { timeout: 10_000, what: 'ten more ticks, live' });
    const rows = await visible(page);
    // Whole lines, in order, each once.
    const ticks = rows.filter((x) => x.name === 'ticker').map((x) => Number(/^tick (\d+) /.exec(x.text)![1]));
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBe(ticks[i - 1]! + 1);
    const oops = rows.filter((x) => x.name === 'grumbler');
    expect(oops.length).toBeGreaterThan(0);
    expect(oops.every((x) => x.stream === 'stderr' && /^oops \d+$/.test(x.text))).toBe(true);
    // The program list is what the stream announced.
    const options = await page.$$eval('#program option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(['', 'grumbler', 'quick', 'sleeper', 'ticker', 'web:web_0', 'web:web_1', 'web:web_2']);
    await page.screenshot({ path: path.join(resultsDir(), 'logs.png') });
  });

  it('filters by program and by text, and keeps filtering new lines', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/logs.html`);
    await page.waitForSelector('body.live');
    await pollUntil(async () => (await visible(page)).some((x) => x.name === 'grumbler'), { what: 'grumbler lines' });

    await page.selectOption('#program', 'grumbler');
    const n = (await visible(page)).length;
    await pollUntil(async () => (await visible(page)).length >= n + 5, { what: 'more grumbler lines while filtered' });
    expect((await visible(page)).every((x) => x.name === 'grumbler')).toBe(true);

    await page.selectOption('#program', '');
    await page.fill('#filter', 'tick ');
    await pollUntil(async () => (await visible(page)).length > 0, { what: 'tick lines' });
    expect((await visible(page)).every((x) => x.name === 'ticker' && x.text.includes('tick '))).toBe(true);
    await page.fill('#filter', 'no-such-text-anywhere');
    await page.waitForSelector('#nomatch:not([hidden])');
    await page.fill('#filter', '');
    await pollUntil(async () => new Set((await visible(page)).map((x) => x.name)).size >= 2, { what: 'all programs again' });
  });

  it('shows only stderr when asked, from a new stream', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/logs.html`);
    await page.waitForSelector('body.live');
    await page.selectOption('#stream', 'stderr');
    await pollUntil(async () => (await visible(page)).some((x) => x.name === 'grumbler'), { what: 'stderr lines' });
    expect((await visible(page)).every((x) => x.stream === 'stderr')).toBe(true);
  });

  it('opens from the status page', async () => {
    const page = await newPage();
    await page.goto(`${wd.base}/`);
    await page.click('#alllogs');
    await page.waitForURL(/logs\.html$/);
    await page.waitForSelector('body.live');
  });

  it('is behind the same auth: the page and the stream say 401 without the password', async () => {
    const page = await newPage('wrong', false);
    const r = await page.goto(`${wd.base}/logs.html`);
    expect(r?.status()).toBe(401);
    expect((await request(`${wd.base}/fastvisor/tail?name=all&follow=0`, { auth: null })).status).toBe(401);
    const ok = await request(`${wd.base}/fastvisor/tail?name=ticker&follow=0`);
    expect(ok.status).toBe(200);
    // The head starts inside a line: that piece is a C record, then whole lines.
    expect(ok.body).toMatch(/^A ticker stdout\n(C ticker stdout [^\n]*\n)?L ticker stdout tick \d+ /);
  });

  it('broke no Content-Security-Policy rule and threw no error', () => {
    expect(pageErrors).toEqual([]);
  });
});
