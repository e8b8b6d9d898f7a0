// SPDX-License-Identifier: MIT
// When the server is missing, refuses, wants a password, lacks the supervisor
// namespace, or is not supervisord at all: Python's supervisorctl and ours must
// say the same thing and exit the same way, except where ours says more clearly
// that something else answered (asserted separately below).
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CtlPair,
  DAEMONS,
  freePort,
  normalize,
  spawnStreaming,
  stableAgainstCtrlC,
  startDaemon,
  type RunningDaemon,
} from '../../helpers/ctl-harness.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

let pair: CtlPair;
beforeAll(() => {
  pair = new CtlPair();
});
afterAll(() => {
  pair?.close();
  killTracked();
  removeTmpDirs();
});

async function same(argv: string[], stdin?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const { py, ts } = await pair.both({ argv, stdin });
  expect(normalize(ts)).toEqual(normalize(py));
  return py;
}

const COMMANDS = [
  'status',
  'status web',
  'version',
  'start web',
  'stop all',
  'restart web',
  'signal HUP web',
  'pid',
  'tail web',
  'tail -f web',
  'maintail',
  'maintail -f',
  'clear all',
  'fg web',
  'avail',
  'reread',
  'add web',
  'remove web',
  'update',
  'shutdown',
  'reload',
  'help',
];

describe('nothing listening', () => {
  let dir: string;
  let refused: number;
  beforeAll(async () => {
    dir = tmpDir('fv-ctl-none-');
    writeFileSync(path.join(dir, 'not-a-socket'), '');
    refused = await freePort();
  });

  it.each(COMMANDS)('no socket file: %s', async (cmd) => {
    const r = await same(['-s', `unix://${dir}/missing.sock`, ...cmd.split(' ')]);
    if (cmd === 'status') expect(r).toMatchObject({ stdout: `unix://${dir}/missing.sock no such file\n`, code: 4 });
    if (cmd === 'version') expect(r.code).toBe(7);
  });

  it.each(COMMANDS)('connection refused: %s', async (cmd) => {
    const r = await same(['-s', `http://127.0.0.1:${refused}`, ...cmd.split(' ')]);
    if (cmd === 'version') expect(r).toMatchObject({ stdout: `http://127.0.0.1:${refused} refused connection\n`, code: 4 });
  });

  it.each(['status', 'version', 'avail', 'shutdown'])('a file that is no socket: %s', async (cmd) => {
    await same(['-s', `unix://${dir}/not-a-socket`, cmd]);
  });

  it.each(['status', 'avail'])('a host name that does not resolve: %s', async (cmd) => {
    await same(['-s', 'http://no-such-host.invalid:9001', cmd]);
  });

  it.each(['status', 'help', 'avail'])('a server URL of another scheme: %s', async (cmd) => {
    await same(['-s', 'https://127.0.0.1:1', cmd]);
  });
});

/** A stand-in server on a TCP port that answers POST /RPC2 the way `mode` says. */
async function fakeServer(mode: string): Promise<{ url: string; close: () => Promise<void> }> {
  const fault = (code: number, text: string): string =>
    `<?xml version='1.0'?>\n<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>${code}</int></value></member>` +
    `<member><name>faultString</name><value><string>${text}</string></value></member></struct></value></fault></methodResponse>\n`;
  const value = (v: string): string =>
    `<?xml version='1.0'?>\n<methodResponse><params><param><value>${v}</value></param></params></methodResponse>\n`;
  let server: net.Server;
  if (mode === 'ssh' || mode === 'hangup') {
    server = net.createServer((s) => {
      if (mode === 'ssh') s.write('SSH-2.0-OpenSSH_9.2p1\r\n');
      s.on('data', () => mode === 'hangup' && s.destroy());
      s.on('error', () => undefined);
    });
  } else {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const method = /<methodName>(.*?)<\/methodName>/.exec(body)?.[1];
        if (mode === '404') return res.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not Found</h1>');
        if (mode === 'html') return res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>hello</body></html>');
        if (mode === '500') return res.writeHead(500).end();
        if (method === 'supervisor.getVersion') {
          if (mode === 'no-namespace') return res.writeHead(200).end(fault(1, 'UNKNOWN_METHOD'));
          return res.writeHead(200).end(value(`<string>${mode === 'api-2' ? '2.0' : '3.0'}</string>`));
        }
        res.writeHead(200).end(fault(30, "FAILED: it's broken"));
      });
    });
  }
  // The runners keep their connections (Python's until garbage collection): cut them, or close() waits forever.
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

describe('servers that answer, but not as supervisord 4.2.5 does', () => {
  it.each([
    ['api-2', 'status', 4],
    ['api-2', 'version', 5],
    ['no-namespace', 'status', 4],
    ['no-namespace', 'start web', 3],
    ['500', 'status', 1],
    ['fault', 'status', 1],
    ['fault', 'pid', 1],
    ['fault', 'avail', 1],
    ['hangup', 'status', 1],
  ])('%s: %s', async (mode, cmd, code) => {
    const srv = await fakeServer(mode as string);
    try {
      const r = await same(['-s', srv.url, ...(cmd as string).split(' ')]);
      expect(r.code).toBe(code);
    } finally {
      await srv.close();
    }
  });

  it.each([
    ['404', 'HTTP 404 Not Found for POST /RPC2', "<ProtocolError for 127.0.0.1/RPC2: 404 Not Found>"],
    ['html', 'its reply to POST /RPC2 is not XML-RPC', 'ResponseError'],
    ['ssh', 'its reply is not HTTP', 'BadStatusLine'],
  ])('%s: ours says it is not supervisord; Python prints an error line', async (mode, ours, theirs) => {
    const srv = await fakeServer(mode);
    try {
      const { py, ts } = await pair.both({ argv: ['-s', srv.url, 'status'] });
      expect(py.stdout).toContain(theirs);
      expect(ts.stdout).toBe(
        `Sorry, ${srv.url} responded but is not a supervisord XML-RPC server (${ours}${mode === 'html' ? ': root is <html>, expected <methodResponse>' : ''}).\n`,
      );
      expect([ts.code, ts.stderr]).toEqual([py.code, py.stderr]);
    } finally {
      await srv.close();
    }
  });
});

describe.each(DAEMONS)('authentication against $name', (spec) => {
  let d: RunningDaemon;
  beforeAll(async () => {
    d = await startDaemon(spec, {
      auth: 'user:s3cret',
      programs: "[program:web]\ncommand=/bin/sh -c 'echo hello; exec sleep 1000'\nstartsecs=0\n",
    });
  });
  afterAll(async () => {
    await d?.stop();
  });

  it.each([
    '',
    '-u user',
    '-p s3cret',
    '-u user -p wrong',
    '-u wrong -p s3cret',
    '-u user -p s3cret',
  ])('credentials "%s" on the unix socket and on TCP', async (creds) => {
    for (const url of [d.unixUrl, d.httpUrl]) {
      const good = creds === '-u user -p s3cret';
      // With the right password tail -f would follow forever: follow.test.ts covers it.
      const follows = good ? [] : ['tail -f web', 'maintail -f'];
      for (const cmd of ['status', 'version', 'avail', ...follows, 'shutdown x', 'open ' + url]) {
        const r = await same(['-s', url, ...creds.split(' ').filter(Boolean), ...cmd.split(' ')]);
        if (cmd === 'status' && !good) {
          expect(r.stdout).toMatch(/^Server requires authentication\nerror: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1\/RPC2: 401 Unauthorized>/);
          expect(r.code).toBe(1);
        }
      }
    }
  });

  it('credentials from the [supervisorctl] section, %(ENV_X)s expanded', async () => {
    const conf = path.join(d.dir, 'ctl.conf');
    writeFileSync(conf, `[supervisorctl]\nserverurl=${d.unixUrl}\nusername=user\npassword=%(ENV_FV_PASS)s\n`);
    const { py, ts } = await pair.both({ argv: ['-c', conf, 'version'], env: { FV_PASS: 's3cret' } });
    expect(normalize(ts)).toEqual(normalize(py));
    expect(py.stdout).toBe('4.2.5\n');
    // The command line wins over the file.
    await same(['-c', conf, '-p', 'wrong', 'version']);
  });

  it('tail -f with the password, over TCP and the socket', async () => {
    for (const url of [d.httpUrl, d.unixUrl]) {
      const outs: string[] = [];
      for (const kind of ['py', 'ts'] as const) {
        const r = await stableAgainstCtrlC(kind, async () => {
          const t = spawnStreaming(kind, ['-s', url, '-u', 'user', '-p', 's3cret', 'tail', '-f', 'web']);
          await t.waitFor(/^==> Press Ctrl-C to exit <==\nhello\n$/);
          t.interrupt();
          await t.exited();
          return { stdout: t.stdout(), stderr: t.stderr() };
        });
        outs.push(r.stdout);
      }
      expect(outs[1]).toBe(outs[0]);
    }
  });

  it('asks for a login with -i, and retries the command', async () => {
    await same(['-s', d.unixUrl, '-i', 'status'], 'user\ns3cret\n');
    await same(['-s', d.unixUrl, '-i', 'version'], 'user\nwrong\n');
    await same(['-s', d.unixUrl, '-i', 'status'], '');
    await same(['-s', d.unixUrl, '-i', 'status'], 'user\n');
    await same(['-s', d.httpUrl, '-i', 'add', 'x'], 'user\ns3cret\n');
  });
});

describe.each(DAEMONS)('a $name without [rpcinterface:supervisor]', (spec) => {
  let d: RunningDaemon;
  beforeAll(async () => {
    d = await startDaemon(spec, { noRpcInterface: true, programs: '[program:web]\ncommand=/bin/sleep 1000\n' });
  });
  afterAll(async () => {
    await d?.stop();
  });

  it.each(['status', 'version', 'start web', 'tail web', 'pid', 'avail', 'reread'])('%s', async (cmd) => {
    const r = await same(['-s', d.unixUrl, ...cmd.split(' ')]);
    if (cmd === 'start web') {
      expect(r.stdout).toMatch(/^Sorry, supervisord responded but did not recognize the supervisor namespace/);
      expect(r.code).toBe(3);
    }
  });
});
