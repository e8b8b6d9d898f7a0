// SPDX-License-Identifier: MIT
// The merged tail's stream (/fastvisor/tail) over a real HTTP server and real files:
// records of whole lines, the head's first piece, unfinished lines sent after a while,
// the 404 naming what does not exist, and files left out when descriptors are short.
import { appendFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { serveMultiTail, type MultiTailSource } from '../../../src/http/multitail.js';
import { pollUntil } from '../../helpers/poll.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  removeTmpDirs();
});

async function serve(sources: MultiTailSource[], spare: () => boolean = () => true): Promise<string> {
  const streams = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const q = (req.url ?? '').split('?')[1] ?? '';
    serveMultiTail(res, q, {
      resolve: (specs) => {
        const unknown = specs.filter((s) => s !== 'all' && !sources.some((x) => x.name === s));
        return unknown.length ? { unknown } : specs.includes('all') ? sources : sources.filter((x) => specs.includes(x.name));
      },
      spare,
      streams,
      pollMs: 20,
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/fastvisor/tail`;
}

describe('serveMultiTail', () => {
  it('sends whole lines of each file, the head cut inside a line as C, then ends without follow', async () => {
    const dir = tmpDir();
    const a = path.join(dir, 'a.log');
    const b = path.join(dir, 'b.log');
    writeFileSync(a, 'one\ntwo\n');
    writeFileSync(b, 'xxxxxxxxxx-end of x\nbee\n');
    const url = await serve([
      { name: 'a', stdout: a, stderr: null },
      { name: 'g:b', stdout: b, stderr: null },
    ]);
    const r = await fetch(`${url}?name=all&follow=0&head=15`);
    expect(r.status).toBe(200);
    const body = await r.text();
    expect(body.split('\n').sort()).toEqual(
      ['A a stdout', 'A g%3Ab stdout', 'L a stdout one', 'L a stdout two', 'C g%3Ab stdout x-end of x', 'L g%3Ab stdout bee', ''].sort(),
    );
    // Each file's records in file order.
    expect(body.indexOf('L a stdout one')).toBeLessThan(body.indexOf('L a stdout two'));
  });

  it('says which names do not exist (404) and what is wrong with a query (400)', async () => {
    const url = await serve([{ name: 'a', stdout: null, stderr: null }]);
    const r = await fetch(`${url}?name=a&name=nope`);
    expect(r.status).toBe(404);
    expect(await r.text()).toBe('no such process: nope\n');
    expect((await fetch(`${url}?stream=both`)).status).toBe(400);
    expect((await fetch(`${url}?name=a&stream=all`)).status).toBe(400);
  });

  it('follows: an unfinished line goes out as P after a while, its rest as the next record', async () => {
    const file = path.join(tmpDir(), 'a.log');
    writeFileSync(file, '');
    const url = await serve([{ name: 'a', stdout: null, stderr: file }]);
    const ac = new AbortController();
    const r = await fetch(`${url}?name=a&stream=both`, { signal: ac.signal });
    const reader = r.body!.getReader();
    let got = '';
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        got += Buffer.from(value!).toString('latin1');
      }
    })();
    await pollUntil(() => got.includes('A a stderr\n'), { what: 'the A record' });
    appendFileSync(file, 'prompt> ');
    await pollUntil(() => got.includes('P a stderr prompt> \n'), { what: 'the held piece' });
    appendFileSync(file, 'yes\nnext\n');
    await pollUntil(() => got.includes('L a stderr yes\nL a stderr next\n'), { what: 'the rest' });
    ac.abort();
  });

  it('leaves a file out, saying so once, while descriptors are short', async () => {
    const file = path.join(tmpDir(), 'a.log');
    writeFileSync(file, 'hidden\n');
    const url = await serve([{ name: 'a', stdout: file, stderr: null }], () => false);
    const body = await (await fetch(`${url}?name=a&follow=0`)).text();
    expect(body).toBe('A a stdout\nW a stdout not followed for now: the daemon is short of file descriptors\n');
  });
});
