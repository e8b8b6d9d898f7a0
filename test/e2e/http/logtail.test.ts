// SPDX-License-Identifier: MIT
// /logtail and /mainlogtail over real sockets: the stream follows a file that grows, is
// rotated and truncated; 404s; no fd left behind when clients go; close() ends streams;
// and the real supervisorctl's `tail -f` / `maintail -f` reading it.
import { spawn } from 'node:child_process';
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { basicAuth, closeFixtures, inetServer, openStream, startFixture, unixServer } from '../../helpers/http-fixture.js';
import { parseResponse, rawRequest } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked, openFds, track } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  killTracked();
  await closeFixtures();
  removeTmpDirs();
});

const FAST = { tailPollMs: 20 };

describe('/logtail/NAME', () => {
  it('streams the last 1024 bytes, then growth, rotation and truncation, chunked', async () => {
    const dir = tmpDir();
    const log = path.join(dir, 'cat.log');
    const head = 'a'.repeat(1000) + 'b'.repeat(1000) + '\n';
    writeFileSync(log, head);
    const fx = await startFixture([inetServer()], FAST);
    fx.files.set('cat/stdout', log);
    const s = await openStream(fx.addr(), '/logtail/cat');
    expect(s.status).toBe(200);
    expect(s.headers['transfer-encoding']).toBe('chunked');
    expect(s.headers['content-type']).toBe('text/plain;charset=utf-8');
    expect(s.headers['x-accel-buffering']).toBe('no');
    expect(s.headers['last-modified']).toMatch(/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    await pollUntil(() => s.text() === head.slice(-1024), { what: 'the last 1024 bytes' });

    appendFileSync(log, 'grown\n');
    await pollUntil(() => s.text().endsWith('grown\n'), { what: 'appended line' });

    appendFileSync(log, 'last words of the old file\n');
    renameSync(log, `${log}.1`);
    writeFileSync(log, 'first line of the new file\n');
    await pollUntil(() => s.text().endsWith('last words of the old file\nfirst line of the new file\n'), {
      what: 'rotation followed',
    });

    truncateSync(log, 0);
    // Give the poller a look at the empty file before it grows again.
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(log, 'after truncation\n');
    await pollUntil(() => s.text().endsWith('==> File truncated <==\nafter truncation\n'), { what: 'truncation notice' });
    expect(s.ended()).toBe(false);
    s.destroy();
  });

  it('asks the resolver for NAME and CHANNEL (stdout by default) and answers 404 for null', async () => {
    const dir = tmpDir();
    const fx = await startFixture([inetServer()], FAST);
    fx.files.set('grp:cat/stderr', path.join(dir, 'err.log'));
    writeFileSync(path.join(dir, 'err.log'), 'oops\n');
    const missing = parseResponse((await rawRequest(fx.addr(), 'GET /logtail/nope HTTP/1.1\r\nHost: x\r\n\r\n')).raw);
    expect(missing.statusLine).toBe('HTTP/1.1 404 Not Found');
    const s = await openStream(fx.addr(), '/logtail/grp%3Acat/stderr');
    await pollUntil(() => s.text() === 'oops\n', { what: 'stderr stream' });
    s.destroy();
    expect(fx.lookups).toEqual([
      ['nope', 'stdout'],
      ['grp:cat', 'stderr'],
    ]);
  });

  it('answers 404 when the resolver names a file that is not there (yet)', async () => {
    const fx = await startFixture([inetServer()], FAST);
    fx.files.set('cat/stdout', path.join(tmpDir(), 'never-written.log'));
    const r = parseResponse((await rawRequest(fx.addr(), 'GET /logtail/cat HTTP/1.1\r\nHost: x\r\n\r\n')).raw);
    expect(r.status).toBe(404);
  });

  it('refuses anything but GET with 400, as logtail_handler does', async () => {
    const fx = await startFixture([inetServer()], FAST);
    for (const m of ['POST', 'HEAD', 'PUT']) {
      // A reply to HEAD has no body to wait for: the short timeout ends the read.
      const r = await rawRequest(fx.addr(), `${m} /logtail/cat HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`, {
        timeoutMs: m === 'HEAD' ? 200 : 1000,
      });
      expect(r.raw.toString().split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    }
    expect(fx.lookups).toEqual([]);
  });

  it('streams to an HTTP/1.0 client without chunking, the end marked by close', async () => {
    const log = path.join(tmpDir(), 'x.log');
    writeFileSync(log, 'zero\n');
    const fx = await startFixture([inetServer()], FAST);
    fx.files.set('x/stdout', log);
    const r = await rawRequest(fx.addr(), 'GET /logtail/x HTTP/1.0\r\n\r\n', { timeoutMs: 300 });
    const p = parseResponse(r.raw);
    expect(p.status).toBe(200);
    expect(p.headers.some(([k]) => k.toLowerCase() === 'transfer-encoding')).toBe(false);
    expect(p.body.toString()).toBe('zero\n');
  });
});

describe('/mainlogtail', () => {
  it('streams the main log, without X-Accel-Buffering; 404 when there is none', async () => {
    const main = path.join(tmpDir(), 'supervisord.log');
    writeFileSync(main, '2026-01-01 00:00:00,000 INFO supervisord started with pid 1\n');
    const fx = await startFixture([inetServer()], FAST);
    const none = parseResponse((await rawRequest(fx.addr(), 'GET /mainlogtail HTTP/1.1\r\nHost: x\r\n\r\n')).raw);
    expect(none.status).toBe(404);
    fx.files.set('main', main);
    const s = await openStream(fx.addr(), '/mainlogtail');
    expect(s.headers['x-accel-buffering']).toBeUndefined();
    await pollUntil(() => s.text().includes('supervisord started'), { what: 'main log' });
    appendFileSync(main, 'more\n');
    await pollUntil(() => s.text().endsWith('more\n'), { what: 'main log growth' });
    s.destroy();
  });
});

describe('stream lifetime', () => {
  it('closes the file and the socket when clients disconnect mid-stream (no fd leak)', async () => {
    const log = path.join(tmpDir(), 'leak.log');
    writeFileSync(log, 'x\n');
    const fx = await startFixture([inetServer()], FAST);
    fx.files.set('leak/stdout', log);
    // Warm up once so lazily opened fds (DNS, timers) are part of the baseline.
    const warm = await openStream(fx.addr(), '/logtail/leak');
    await pollUntil(() => warm.text() === 'x\n');
    warm.destroy();
    await pollUntil(() => fx.logs.some(([, m]) => m.includes('GET /logtail/leak')), { what: 'first stream closed' });
    const baseline = openFds();

    const streams = await Promise.all(Array.from({ length: 20 }, () => openStream(fx.addr(), '/logtail/leak')));
    await pollUntil(() => streams.every((s) => s.text() === 'x\n'), { what: 'all streams started' });
    // Each stream: a client socket, a server socket and the log fd.
    expect(openFds()).toBeGreaterThanOrEqual(baseline + 60);
    for (const s of streams) s.destroy();
    await pollUntil(() => openFds() <= baseline, { what: `fds back to ${baseline}` });
    // Growth after the clients left is read by nobody and breaks nothing.
    appendFileSync(log, 'y\n');
    const again = await openStream(fx.addr(), '/logtail/leak');
    await pollUntil(() => again.text() === 'x\ny\n');
    again.destroy();
  });

  it('ends open streams (the chunked terminator) and removes the socket file on close()', async () => {
    const dir = tmpDir();
    const sock = path.join(dir, 'supervisor.sock');
    const log = path.join(dir, 'c.log');
    writeFileSync(log, 'hi\n');
    const fx = await startFixture([unixServer(sock)], FAST);
    fx.files.set('c/stdout', log);
    const s = await openStream({ path: sock }, '/logtail/c');
    await pollUntil(() => s.text() === 'hi\n');
    await fx.servers.close();
    await pollUntil(() => s.ended(), { what: 'stream ended by close()' });
    const { existsSync } = await import('node:fs');
    expect(existsSync(sock)).toBe(false);
  });

  it('does not hold up other requests while streams are open', async () => {
    const log = path.join(tmpDir(), 'busy.log');
    writeFileSync(log, '');
    const fx = await startFixture([inetServer()], FAST);
    fx.files.set('busy/stdout', log);
    const streams = await Promise.all(Array.from({ length: 10 }, () => openStream(fx.addr(), '/logtail/busy')));
    appendFileSync(log, 'z'.repeat(1 << 20));
    const r = parseResponse((await rawRequest(fx.addr(), 'GET /logtail/none HTTP/1.1\r\nHost: x\r\n\r\n')).raw);
    expect(r.status).toBe(404);
    await pollUntil(() => streams.every((s) => s.text().length === 1 << 20), { what: 'every stream got 1 MiB' });
    for (const s of streams) s.destroy();
  });
});

describe('the real supervisorctl', () => {
  function ctl(args: string[]): { out: () => string; pid: number } {
    const child = spawn('/usr/bin/supervisorctl', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    track(child.pid!);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    return { out: () => out, pid: child.pid! };
  }

  it('tail -f over the unix socket with a {SHA} password, and maintail -f over TCP', async () => {
    const dir = tmpDir();
    const sock = path.join(dir, 'supervisor.sock');
    const log = path.join(dir, 'cat.log');
    const main = path.join(dir, 'supervisord.log');
    writeFileSync(log, 'hello from cat\n');
    writeFileSync(main, 'main log line\n');
    const sha = '{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'; // sha1('test')
    const fx = await startFixture(
      [unixServer(sock, { username: 'user', password: sha }), inetServer({ username: 'user', password: 'pass' })],
      FAST,
    );
    fx.files.set('cat/stdout', log);
    fx.files.set('main', main);
    const port = (fx.servers.addresses[1] as { port: number }).port;

    const tail = ctl(['-s', `unix://${sock}`, '-u', 'user', '-p', 'test', 'tail', '-f', 'cat']);
    await pollUntil(() => tail.out().includes('==> Press Ctrl-C to exit <==\nhello from cat\n'), {
      what: 'supervisorctl tail -f output',
    });
    appendFileSync(log, 'second line\n');
    await pollUntil(() => tail.out().endsWith('second line\n'), { what: 'tail -f follows' });

    const maintail = ctl(['-s', `http://127.0.0.1:${port}`, '-u', 'user', '-p', 'pass', 'maintail', '-f']);
    await pollUntil(() => maintail.out().includes('main log line\n'), { what: 'maintail -f output' });
    appendFileSync(main, 'another main line\n');
    await pollUntil(() => maintail.out().endsWith('another main line\n'), { what: 'maintail -f follows' });
    killTracked();
  });

  it('tail -f of an unknown process reports the 404 as supervisorctl does', async () => {
    const sock = path.join(tmpDir(), 'supervisor.sock');
    await startFixture([unixServer(sock)], FAST);
    const tail = ctl(['-s', `unix://${sock}`, 'tail', '-f', 'nope']);
    await pollUntil(() => tail.out().includes('/logtail/nope/stdout Cannot read, status code 404'), {
      what: 'supervisorctl 404 message',
    });
  });

  it('a wrong password gets supervisorctl\'s "Server requires authentication"', async () => {
    const sock = path.join(tmpDir(), 'supervisor.sock');
    await startFixture([unixServer(sock, { username: 'user', password: 'pass' })], FAST);
    const c = ctl(['-s', `unix://${sock}`, '-u', 'user', '-p', 'wrong', 'tail', '-f', 'cat']);
    await pollUntil(() => c.out().includes('Server requires authentication'), { what: '401 message' });
  });
});

it('basicAuth helper matches what curl sends', () => {
  expect(basicAuth('user', 'pass')).toBe('Basic dXNlcjpwYXNz');
});
