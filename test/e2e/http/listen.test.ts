// SPDX-License-Identifier: MIT
// Opening the listeners as supervisord's http.py does: socket mode and owner, a stale
// socket file replaced (a socket only: anything else is refused), a live one left alone,
// and supervisord's error text for every way it can fail (checked against the real
// supervisord where it is cheap to).
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

import { HttpServerError } from '../../../src/http/index.js';
import { closeFixtures, inetServer, pyCalls, startFixture, unixServer } from '../../helpers/http-fixture.js';
import { canConnect, freePort, startRealSupervisord } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked, track } from '../../helpers/procs.js';
import { python } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

afterEach(async () => {
  killTracked();
  await closeFixtures();
  removeTmpDirs();
});

const ADDR_IN_USE =
  'Another program is already listening on a port that one of our HTTP servers is configured to use.  ' +
  'Shut this program down first before starting supervisord.';

async function startError(p: Promise<unknown>): Promise<HttpServerError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HttpServerError);
    return err as HttpServerError;
  }
  throw new Error('expected startHttpServers to fail');
}

/** supervisord's own words for a config, from `supervisord -n` (it exits 2 at once). */
function supervisordError(dir: string, section: string): string {
  const conf = path.join(dir, 'probe.conf');
  writeFileSync(
    conf,
    `${section}\n[supervisord]\nlogfile=${dir}/probe.log\npidfile=${dir}/probe.pid\nnodaemon=true\n` +
      '[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n',
  );
  try {
    execFileSync('/usr/bin/supervisord', ['-n', '-c', conf], { encoding: 'utf8', stdio: 'pipe', timeout: 10_000 });
  } catch (err) {
    const e = err as { stdout: string; stderr: string };
    const line = `${e.stdout}${e.stderr}`.split('\n').find((l) => l.startsWith('Error: '));
    if (line) return line.slice('Error: '.length);
  }
  throw new Error('supervisord did not fail');
}

describe('unix socket', () => {
  it('is chmod 0700 by default, as configured otherwise, and chowned', async () => {
    const dir = tmpDir();
    const a = path.join(dir, 'a.sock');
    const b = path.join(dir, 'b.sock');
    await startFixture([unixServer(a), unixServer(b, { chmod: 0o660, chown: { uid: 65534, gid: 65534 } })]);
    expect(lstatSync(a).isSocket()).toBe(true);
    expect(lstatSync(a).mode & 0o777).toBe(0o700);
    expect(lstatSync(b).mode & 0o777).toBe(0o660);
    expect([lstatSync(b).uid, lstatSync(b).gid]).toEqual([65534, 65534]);
    // gid -1 changes the owner only.
    const c = path.join(dir, 'c.sock');
    await startFixture([unixServer(c, { chown: { uid: 65534, gid: -1 } })]);
    expect([lstatSync(c).uid, lstatSync(c).gid]).toEqual([65534, process.getgid!()]);
    // The temporary <file>.<pid> name used for the link dance is gone.
    expect(existsSync(`${a}.${process.pid}`)).toBe(false);
  });

  it('unlinks a stale socket file ("Unlinking stale socket" on stderr) and serves on it', async () => {
    const sock = path.join(tmpDir(), 'stale.sock');
    // A socket file nobody listens on: Python binds and exits without unlinking.
    python('import socket,sys,json\ns=socket.socket(socket.AF_UNIX)\ns.bind(json.load(sys.stdin))\nprint("null")', sock);
    expect(lstatSync(sock).isSocket()).toBe(true);
    const fx = await startFixture([unixServer(sock)]);
    expect(fx.stderr).toEqual([`Unlinking stale socket ${sock}\n`]);
    expect(await pyCalls(`unix://${sock}`, [['supervisor.getVersion']])).toEqual([{ ok: '3.0' }]);
  });

  it('refuses a regular file at the path and leaves it (supervisord unlinks it: nothing answers on it)', async () => {
    const sock = path.join(tmpDir(), 'file.sock');
    writeFileSync(sock, 'not a socket');
    const err = await startError(startFixture([unixServer(sock)]));
    expect(err.message).toBe(
      `Cannot open an HTTP server: ${sock} exists and is not a socket (it is a regular file); ` +
        'not unlinking it: remove it, or name another file= in [unix_http_server]',
    );
    expect(readFileSync(sock, 'utf8')).toBe('not a socket');
  });

  it('leaves a live server alone: EADDRINUSE in supervisord words, the first server unharmed', async () => {
    const sock = path.join(tmpDir(), 'live.sock');
    await startFixture([unixServer(sock)]);
    const before = lstatSync(sock).ino;
    const err = await startError(startFixture([unixServer(sock)]));
    expect(err.message).toBe(ADDR_IN_USE);
    expect(lstatSync(sock).ino).toBe(before);
    expect(await pyCalls(`unix://${sock}`, [['supervisor.getVersion']])).toEqual([{ ok: '3.0' }]);
  });

  it('refuses to start on the socket of a running real supervisord', async () => {
    const dir = tmpDir();
    const sock = path.join(dir, 'real.sock');
    const real = await startRealSupervisord(
      dir,
      `[unix_http_server]\nfile=${sock}\n[supervisord]\nlogfile=${dir}/sd.log\npidfile=${dir}/sd.pid\nnodaemon=true\n`,
      { path: sock },
    );
    const err = await startError(startFixture([unixServer(sock)]));
    expect(err.message).toBe(ADDR_IN_USE);
    expect(await canConnect({ path: sock })).toBe(true);
    await real.stop();
  });

  it('says what supervisord says for a missing directory and a path too long', async () => {
    const dir = tmpDir();
    const missing = path.join(dir, 'nodir', 'x.sock');
    const long = path.join(dir, `${'a'.repeat(120)}.sock`);
    expect((await startError(startFixture([unixServer(missing)]))).message).toBe(
      supervisordError(dir, `[unix_http_server]\nfile=${missing}`),
    );
    expect((await startError(startFixture([unixServer(long)]))).message).toBe(
      supervisordError(dir, `[unix_http_server]\nfile=${long}`),
    );
  });

  it('says why instead of looping forever when a directory sits at the path', async () => {
    const dir = tmpDir();
    const sock = path.join(dir, 'dir.sock');
    mkdirSync(sock);
    const err = await startError(startFixture([unixServer(sock)]));
    expect(err.message).toBe(
      `Cannot open an HTTP server: ${sock} exists and is not a socket (it is a directory); ` +
        'not unlinking it: remove it, or name another file= in [unix_http_server]',
    );
    expect(lstatSync(sock).isDirectory()).toBe(true);
  });

  it('removes only its own socket file on close()', async () => {
    const dir = tmpDir();
    const mine = path.join(dir, 'mine.sock');
    const other = path.join(dir, 'other.sock');
    const fx = await startFixture([unixServer(mine), unixServer(other)]);
    // Someone replaced `other` meanwhile (a new daemon after a restart race): not ours to delete.
    renameSync(other, `${other}.moved`);
    writeFileSync(other, 'successor');
    await fx.servers.close();
    expect(existsSync(mine)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });

  it("refuses an owner it may not set with supervisord's chown message (run as nobody)", async () => {
    const dir = tmpDir();
    chownSync(dir, 65534, 65534);
    const sock = path.join(dir, 'nobody.sock');
    const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
    const script = path.join(dir, 'try.mts');
    writeFileSync(
      script,
      `import { startHttpServers } from ${JSON.stringify(path.join(repo, 'src/http/index.ts'))};
try {
  await startHttpServers([{ kind: 'unix', file: ${JSON.stringify(sock)}, chown: { uid: 0, gid: 0 }, username: null, password: null }],
    { rpc: async () => Buffer.alloc(0), logFile: () => null, mainLogFile: () => null }, () => {});
  console.log(JSON.stringify({ message: null }));
} catch (err) {
  console.log(JSON.stringify({ message: err.message, name: err.name }));
}
process.exit(0);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: repo,
      uid: 65534,
      gid: 65534,
      detached: true,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child.pid!);
    let out = '';
    let errOut = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, errOut).toBe(0);
    const r = JSON.parse(out) as { message: string; name: string };
    expect(r.name).toBe('HttpServerError');
    expect(r.message).toBe(
      `Not permitted to chown ${sock} to uid/gid (0, 0); adjust "sockchown" value in config file or on ` +
        'command line to values that the current user (nobody) can successfully chown',
    );
    // Nothing left behind.
    expect(existsSync(sock)).toBe(false);
  });
});

describe('inet', () => {
  it('says what supervisord says when the port is taken', async () => {
    const fx = await startFixture([inetServer()]);
    const port = (fx.servers.addresses[0] as { port: number }).port;
    const err = await startError(startFixture([inetServer({ port })]));
    expect(err.message).toBe(ADDR_IN_USE);
    expect(err.message).toBe(supervisordError(tmpDir(), `[inet_http_server]\nport=127.0.0.1:${port}`));
  });

  it('reports a host that does not resolve with the getaddrinfo number, as supervisord', async () => {
    const host = 'no-such-host.invalid';
    const dir = tmpDir();
    const port = await freePort();
    const ours = await startError(startFixture([inetServer({ host, port })]));
    expect(ours.message).toBe(supervisordError(dir, `[inet_http_server]\nport=${host}:${port}`));
  });

  it('binds a host name to its IPv4 address (localhost is 127.0.0.1, not ::1)', async () => {
    const fx = await startFixture([inetServer({ host: 'localhost' })]);
    expect(fx.servers.addresses[0]).toMatchObject({ kind: 'inet', host: '127.0.0.1' });
  });

  it('binds every interface for an empty host', async () => {
    const fx = await startFixture([inetServer({ host: '' })]);
    expect(fx.servers.addresses[0]).toMatchObject({ kind: 'inet', host: '0.0.0.0' });
    const port = (fx.servers.addresses[0] as { port: number }).port;
    expect(await canConnect({ host: '127.0.0.1', port })).toBe(true);
  });
});

describe('all or nothing', () => {
  it('closes the servers already open when a later one fails, socket file included', async () => {
    const dir = tmpDir();
    const sock = path.join(dir, 'first.sock');
    const taken = await startFixture([inetServer()]);
    const port = (taken.servers.addresses[0] as { port: number }).port;
    const err = await startError(startFixture([unixServer(sock), inetServer({ port })]));
    expect(err.message).toBe(ADDR_IN_USE);
    expect(existsSync(sock)).toBe(false);
  });

  it('serves the unix socket and TCP at once and closes both', async () => {
    const dir = tmpDir();
    const sock = path.join(dir, 'both.sock');
    const fx = await startFixture([unixServer(sock), inetServer()]);
    const port = (fx.servers.addresses[1] as { port: number }).port;
    await fx.servers.close();
    await fx.servers.close();
    expect(existsSync(sock)).toBe(false);
    await pollUntil(async () => !(await canConnect({ host: '127.0.0.1', port })), { what: 'port closed' });
  });
});
