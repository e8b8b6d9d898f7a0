// SPDX-License-Identifier: MIT
// The usual container setup, stdout_logfile=/dev/stdout and stderr_logfile=/dev/stderr
// with maxbytes=0, under the real supervisord and fastvisor, both with their stdout a
// pipe (as under docker). That log cannot be read back: supervisord answers the read
// methods with FAILED, the tail methods with an empty read at the offset asked, and
// supervisorctl prints "x: ERROR (unknown error reading log)" and exits 1. fastvisor
// answers the same, to the real supervisorctl, to fastvisorctl and to xmlrpc.client;
// tail -f shows nothing (the bytes are the pipe reader's); its web tail says why.
// And user=root: "Set uid to user 0 succeeded", the number, as supervisord logs it.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runProcess, spawnStreaming } from '../../helpers/ctl-harness.js';
import { pipedStdout } from '../../helpers/differential.js';
import { startDaemon, stopAllDaemons, type Daemon, type DaemonKind } from '../../helpers/daemon-harness.js';
import { runPython } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const ROOT = process.getuid?.() === 0;

const CONFIG = `
[supervisord]
${ROOT ? 'user=root' : ''}

[program:web]
command=/bin/sh -c 'echo "web up"; echo "web warn" >&2; exec sleep 300'
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
stderr_logfile=/dev/stderr
stderr_logfile_maxbytes=0

[program:php]
command=/bin/sh -c 'echo "php ready" >&2; exec sleep 300'
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
`;

// supervisorctl's own calls, and the aliases, through xmlrpc.client.
const XMLRPC = `
import json, sys, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
a = json.load(sys.stdin)
s = xmlrpc.client.ServerProxy('http://127.0.0.1', SupervisorTransport(None, None, 'unix://' + a['sock'])).supervisor
out = []
for m, args in a['calls']:
    try:
        out.append([m, args, getattr(s, m)(*args)])
    except xmlrpc.client.Fault as f:
        out.append([m, args, 'fault %d %s' % (f.faultCode, f.faultString)])
print(json.dumps(out))
`;
const CALLS: Array<[string, Array<string | number>]> = [
  ['readProcessStdoutLog', ['web', -1600, 0]],
  ['readProcessStdoutLog', ['web', 0, 100]],
  ['readProcessStderrLog', ['web', -1600, 0]],
  ['readProcessLog', ['php', 0, 0]],
  ['tailProcessStdoutLog', ['web', 0, 1600]],
  ['tailProcessStdoutLog', ['web', 5, 100]],
  ['tailProcessStderrLog', ['web', 3, 1600]],
  ['tailProcessLog', ['php', 0, 1600]],
];

function get(sock: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: sock, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

/** /logtail/NAME: the status, and what the stream sent within `ms`. */
function logtail(sock: string, path: string, ms: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: sock, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      setTimeout(() => {
        req.destroy();
        resolve({ status: res.statusCode!, body });
      }, ms);
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
  });
}

interface Run {
  d: Daemon;
  ctl: Record<'py' | 'ts', Record<string, { stdout: string; code: number }>>;
  xmlrpc: unknown[];
  logtail: { status: number; body: string };
  tailf: Record<'py' | 'ts', string>;
}
const runs = {} as Record<DaemonKind, Run>;
const closers: Array<() => void> = [];

async function exercise(kind: DaemonKind): Promise<void> {
  const dir = tmpDir(`fv-${kind}-`);
  const out = pipedStdout(dir);
  closers.push(out.close);
  const d = await startDaemon(kind, CONFIG, { dir, wrap: out.wrap });
  await pollUntil(
    async () => {
      const infos = (await d.rpc('supervisor.getAllProcessInfo')) as Array<{ statename: string }>;
      const text = out.read();
      return infos.every((i) => i.statename === 'RUNNING') && /web up/.test(text) && /web warn/.test(text) && /php ready/.test(text);
    },
    { timeout: 20_000, what: `${kind}: both RUNNING, their output on the daemon's stdout` },
  );
  const ctl = { py: {}, ts: {} } as Run['ctl'];
  for (const who of ['py', 'ts'] as const) {
    for (const args of [['tail', 'web'], ['tail', 'web', 'stderr'], ['tail', '-100', 'php'], ['tail', 'php', 'stderr']]) {
      const r = await runProcess(who, ['-c', d.conf, ...args]);
      ctl[who][args.join(' ')] = { stdout: r.stdout, code: r.code };
    }
  }
  const xmlrpc = await runPython<unknown[]>(XMLRPC, { sock: d.sock, calls: CALLS });
  const lt = await logtail(d.sock, '/logtail/web/stdout', 600);
  // tail -f, the real supervisorctl's and fastvisorctl's: the banner, then nothing to show.
  const tailf = { py: '', ts: '' };
  for (const who of ['py', 'ts'] as const) {
    const f = spawnStreaming(who, ['-c', d.conf, 'tail', '-f', 'web']);
    await f.waitFor(/Press Ctrl-C/, 0, 20_000);
    await new Promise((r) => setTimeout(r, 600));
    f.interrupt();
    await f.exited();
    tailf[who] = f.stdout();
  }
  runs[kind] = { d, ctl, xmlrpc, logtail: lt, tailf };
}

beforeAll(async () => {
  await Promise.all([exercise('supervisord'), exercise('fastvisor')]);
}, 90_000);

afterAll(async () => {
  await stopAllDaemons();
  killTracked();
  for (const close of closers) close();
  removeTmpDirs();
});

describe('a log that is the daemon\'s own stdout (a pipe), both daemons', () => {
  it('the real supervisorctl and fastvisorctl: "ERROR (unknown error reading log)", exit 1', () => {
    const expected = (name: string) => ({ stdout: `${name}: ERROR (unknown error reading log)\n`, code: 1 });
    for (const kind of ['supervisord', 'fastvisor'] as const) {
      for (const who of ['py', 'ts'] as const) {
        const c = runs[kind].ctl[who];
        expect(c['tail web'], `${kind} ${who}`).toEqual(expected('web'));
        expect(c['tail web stderr'], `${kind} ${who}`).toEqual(expected('web'));
        expect(c['tail -100 php'], `${kind} ${who}`).toEqual(expected('php'));
        // redirect_stderr: no stderr log at all, a different answer.
        expect(c['tail php stderr'], `${kind} ${who}`).toEqual({ stdout: 'php: ERROR (no log file)\n', code: 1 });
      }
    }
  });

  it('xmlrpc.client: FAILED for the reads, an empty tail at the offset asked', () => {
    expect(runs.fastvisor.xmlrpc).toEqual(runs.supervisord.xmlrpc);
    expect(runs.fastvisor.xmlrpc).toEqual([
      ['readProcessStdoutLog', ['web', -1600, 0], 'fault 30 FAILED'],
      ['readProcessStdoutLog', ['web', 0, 100], 'fault 30 FAILED'],
      ['readProcessStderrLog', ['web', -1600, 0], 'fault 30 FAILED'],
      ['readProcessLog', ['php', 0, 0], 'fault 30 FAILED'],
      ['tailProcessStdoutLog', ['web', 0, 1600], ['', 0, false]],
      ['tailProcessStdoutLog', ['web', 5, 100], ['', 5, false]],
      ['tailProcessStderrLog', ['web', 3, 1600], ['', 3, false]],
      ['tailProcessLog', ['php', 0, 1600], ['', 0, false]],
    ]);
  });

  it('tail -f and /logtail: a stream that shows nothing (the pipe\'s bytes are not taken)', () => {
    for (const kind of ['supervisord', 'fastvisor'] as const) {
      expect(runs[kind].logtail, kind).toEqual({ status: 200, body: '' });
      expect(runs[kind].tailf, kind).toEqual({ py: '==> Press Ctrl-C to exit <==\n\n', ts: '==> Press Ctrl-C to exit <==\n\n' });
    }
  });

  it("fastvisor's web tail says what the fault is and why", async () => {
    const d = runs.fastvisor.d;
    const page = await get(d.sock, '/tail.html?processname=web');
    expect(page.status).toBe(200);
    expect(page.body).toContain('ERROR: unexpected rpc fault [30] FAILED');
    expect(page.body).toMatch(/The stdout log of web is \/dev\/stdout, a pipe, not a file: its output goes to the daemon&#x27;s own stdout|The stdout log of web is \/dev\/stdout, a pipe, not a file: its output goes to the daemon(&#39;|')s own stdout/);
    const err = await get(d.sock, '/tail.html?processname=web&channel=stderr');
    expect(err.body).toContain('is /dev/stderr, a pipe, not a file');
    // supervisord's page says the first line too.
    const sd = await get(runs.supervisord.d.sock, '/tail.html?processname=web');
    expect(sd.body).toContain('ERROR: unexpected rpc fault [30] FAILED');
  });

  it.runIf(ROOT)('user=root: "Set uid to user 0 succeeded" in both main logs', () => {
    for (const kind of ['supervisord', 'fastvisor'] as const) {
      expect(runs[kind].d.mainLog(), kind).toMatch(/^\S+ \S+ INFO Set uid to user 0 succeeded$/m);
    }
  });
});
