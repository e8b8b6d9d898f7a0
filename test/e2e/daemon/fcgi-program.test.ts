// SPDX-License-Identifier: MIT
// [fcgi-program:x]: the daemon makes the listening socket (unix or tcp) and
// every process of the program gets it as fd 0; a real FastCGI responder
// (fcgi_responder.py, accepting on fd 0) answers a FastCGI client's requests
// with its pid. Run against the real supervisord and fastvisor side by side:
// numprocs=2 share one socket, socket_mode/socket_owner are applied, the
// socket stays while any process of the group runs (a restart of one of them
// included), it is closed when the last one stops and when the group is
// removed, and both daemons log the same `Creating socket` / `Closing socket`
// story. On purpose unlike supervisord: fastvisor also unlinks the unix
// socket's file when it closes it.
import { readlinkSync, statSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { Fault, launch, startDaemon, stopAllDaemons, supervisorctl, writeConfig, type Daemon, type DaemonKind } from '../../helpers/daemon-harness.js';
import { answeredBy, fcgiRequest } from '../../helpers/fcgi-client.js';
import { canConnect, freePort } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { waitState } from '../../helpers/process-info.js';
import { PYTHON } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESPONDER = `${PYTHON} -u ${HERE}/fcgi_responder.py`;
const ROOT = process.getuid?.() === 0;
// nobody:nogroup on Debian; the owner is only set when the test runs as root.
const OWNER = { uid: 65534, gid: 65534 };

afterAll(async () => {
  await stopAllDaemons();
  removeTmpDirs();
});

function webSection(): string {
  return [
    '[fcgi-program:web]',
    `command=${RESPONDER}`,
    'socket=unix://%(here)s/web.sock',
    'socket_mode=0660',
    ...(ROOT ? ['socket_owner=nobody:nogroup'] : []),
    'numprocs=2',
    'process_name=%(program_name)s_%(process_num)s',
    'startsecs=0',
    '',
  ].join('\n');
}

function apiSection(port: number): string {
  return ['[fcgi-program:api]', `command=${RESPONDER}`, `socket=tcp://127.0.0.1:${port}`, 'socket_backlog=64', 'startsecs=0', ''].join('\n');
}

/** `Creating socket URL` / `Closing socket URL` lines of the main log, per url, in order. */
function socketStory(log: string): Record<string, string[]> {
  const story: Record<string, string[]> = {};
  for (const m of log.matchAll(/ INFO (Creating|Closing) socket (\S+)$/gm)) (story[m[2]!] ??= []).push(m[1]!);
  return story;
}

/** One request; a connection broken mid-request (a process stopping under it) is tried once more, a refused one is not. */
async function request(addr: { path: string } | { host: string; port: number }, script = '/x'): Promise<number> {
  try {
    return answeredBy(await fcgiRequest(addr, script));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT') throw err;
    return answeredBy(await fcgiRequest(addr, script));
  }
}

/** The main log reaches its file a moment after the event (fastvisor writes it from its I/O thread). */
function logged(d: Daemon, text: string): Promise<boolean> {
  return pollUntil(() => d.mainLog().includes(text), { what: `main log line ${JSON.stringify(text)}` });
}

function socketInode(pid: number): string {
  return readlinkSync(`/proc/${pid}/fd/0`);
}

function blockPort(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

const stories: Partial<Record<DaemonKind, Record<string, string[]>>> = {};
const KINDS: DaemonKind[] = ['supervisord', 'fastvisor'];

describe.each(KINDS)('%s', (kind) => {
  it('serves FastCGI on its sockets: numprocs=2 share one, mode and owner applied, a restart keeps it, stop and removal close it', async () => {
    const port = await freePort();
    const d: Daemon = await startDaemon(kind, `${webSection()}\n${apiSection(port)}`);
    const sock = path.join(d.dir, 'web.sock');
    const unix = { path: sock };
    const tcp = { host: '127.0.0.1', port };
    try {
      const web0 = (await waitState(d, 'web:web_0', 'RUNNING')).pid;
      const web1 = (await waitState(d, 'web:web_1', 'RUNNING')).pid;
      const api = (await waitState(d, 'api', 'RUNNING')).pid;

      // One socket, fd 0 of both processes of the group; the file as configured.
      expect(socketInode(web0)).toMatch(/^socket:\[\d+\]$/);
      expect(socketInode(web1)).toBe(socketInode(web0));
      const st = statSync(sock);
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o777).toBe(0o660);
      if (ROOT) expect({ uid: st.uid, gid: st.gid }).toEqual(OWNER);

      // Both processes accept on it; the tcp one answers on its port.
      const seen = new Set<number>();
      await pollUntil(async () => (seen.add(await request(unix)), seen.size === 2), { what: 'both web processes to answer', interval: 1 });
      expect([...seen].sort()).toEqual([web0, web1].sort());
      expect(await request(tcp)).toBe(api);

      // Its stdin is the socket: nothing to write to.
      await expect(d.rpc('supervisor.sendProcessStdin', 'web:web_0', 'x')).rejects.toMatchObject({ faultCode: 20, faultString: 'NO_FILE: web:web_0' });

      // A restart of one process: the other holds the socket, so the same file
      // answers throughout, never refusing a connection.
      const ino = statSync(sock).ino;
      let stop = false;
      let served = 0;
      const load = (async () => {
        while (!stop) {
          await request(unix);
          served++;
        }
      })();
      // Failing early must not leave the loop's rejection unhandled; `await load` below still sees it.
      load.catch(() => {});
      let again: number;
      try {
        await d.rpc('supervisor.stopProcess', 'web:web_0');
        await d.rpc('supervisor.startProcess', 'web:web_0');
        again = (await waitState(d, 'web:web_0', 'RUNNING')).pid;
        await pollUntil(() => served > 20, { what: 'requests after the restart' });
      } finally {
        stop = true;
      }
      await load;
      expect(statSync(sock).ino).toBe(ino);
      expect(socketInode(again)).toBe(socketInode(web1));

      // The last process of a group stopped: its socket is closed.
      await d.rpc('supervisor.stopAllProcesses');
      expect(await canConnect(unix)).toBe(false);
      expect(await canConnect(tcp)).toBe(false);
      // supervisord leaves the dead socket file; fastvisor removes it.
      expect(existsSync(sock)).toBe(kind === 'supervisord');

      // Started again: a new socket at the same places.
      await d.rpc('supervisor.startAllProcesses');
      await waitState(d, 'web:web_1', 'RUNNING');
      expect(await request(unix)).toBeGreaterThan(0);
      expect(await request(tcp)).toBe((await waitState(d, 'api', 'RUNNING')).pid);

      // The groups leave the config: reread + update stops and removes them, which closes both sockets.
      writeConfig(d.dir, '');
      const upd = supervisorctl(d.conf, ['update']);
      expect(upd.stdout).toContain('api: removed process group');
      expect(upd.stdout).toContain('web: removed process group');
      expect(await canConnect(tcp)).toBe(false);
      expect(await canConnect(unix)).toBe(false);
      expect(existsSync(sock)).toBe(kind === 'supervisord');
      // Nothing was left running.
      for (const pid of [web0, web1, again, api]) expect(existsSync(`/proc/${pid}`)).toBe(false);

      // Both closed by now: the story is complete once each ends with its Closing line.
      const story = await pollUntil(
        () => {
          const s = socketStory(d.mainLog());
          const both = { unix: s[`unix://${sock}`] ?? [], tcp: s[`tcp://127.0.0.1:${port}`] ?? [] };
          return both.unix.at(-1) === 'Closing' && both.tcp.at(-1) === 'Closing' && both;
        },
        { what: 'the Closing socket lines' },
      );
      stories[kind] = story;
    } finally {
      await d.stop();
    }
  });

  it('a tcp port already taken when its group is added: the add fails saying why, the daemon runs on', async () => {
    const port = await freePort();
    const d = await startDaemon(kind, '[program:idle]\ncommand=/bin/sleep 300\nstartsecs=0\n');
    const blocker = await blockPort(port);
    try {
      writeConfig(d.dir, `[program:idle]\ncommand=/bin/sleep 300\nstartsecs=0\n\n${apiSection(port)}`);
      await d.rpc('supervisor.reloadConfig');
      const failure = await d.rpc('supervisor.addProcessGroup', 'api').then(
        () => null,
        (err: Error) => err,
      );
      const why = `Could not create FastCGI socket tcp://127.0.0.1:${port}: [Errno 98] Address already in use`;
      if (kind === 'fastvisor') {
        expect(failure).toBeInstanceOf(Fault);
        expect((failure as Fault).faultString).toBe(`FAILED: ${why}`);
      } else {
        // supervisord: an unexpected exception, HTTP 500, its traceback in the main log.
        expect(failure?.message).toBe('HTTP 500');
        await logged(d, `ValueError: ${why}`);
      }
      await logged(d, `INFO Creating socket tcp://127.0.0.1:${port}`);
      const names = ((await d.rpc('supervisor.getAllProcessInfo')) as Array<{ name: string }>).map((p) => p.name);
      expect(names).toEqual(['idle']);
      expect(await d.rpc('supervisor.getState')).toMatchObject({ statename: 'RUNNING' });
    } finally {
      await new Promise((r) => blocker.close(r));
      await d.stop();
    }
  });

  it('a tcp port already taken at start-up: the daemon does not start, and says why', async () => {
    const port = await freePort();
    const dir = tmpDir(`fv-fcgi-${kind}-`);
    const conf = writeConfig(dir, apiSection(port));
    const blocker = await blockPort(port);
    try {
      const r = launch(kind, ['-n', '-c', conf], dir);
      const why = `Could not create FastCGI socket tcp://127.0.0.1:${port}: [Errno 98] Address already in use`;
      // supervisord dies of the ValueError (a traceback, status 1); fastvisor says it as a start-up error.
      if (kind === 'fastvisor') {
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(`Error: ${why}\n`);
      } else {
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`ValueError: ${why}`);
      }
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});

describe('both daemons', () => {
  it('tell the same Creating / Closing socket story', () => {
    expect(stories.fastvisor).toBeDefined();
    expect(stories.fastvisor).toEqual(stories.supervisord);
    // At the group's add (made and closed at once), the first start, the stop of all, the start, the removal.
    expect(stories.fastvisor!.unix).toEqual(['Creating', 'Closing', 'Creating', 'Closing', 'Creating', 'Closing']);
  });
});

describe('fastvisor', () => {
  it('a lone process that crashes while starting keeps its socket through BACKOFF: a request then waits in the backlog (supervisord closes it)', async () => {
    const port = await freePort();
    const d = await startDaemon('fastvisor', apiSection(port).replace('startsecs=0', 'startsecs=2'));
    try {
      // STARTING comes before the spawn's pid does: wait for the child itself.
      const first = await pollUntil(async () => ((await d.rpc('supervisor.getProcessInfo', 'api')) as { pid: number }).pid || null, { what: 'api spawned' });
      const inode = socketInode(first);
      await d.rpc('supervisor.signalProcess', 'api', 'KILL');
      await waitState(d, 'api', 'BACKOFF');
      // Nobody accepts during BACKOFF; the connection is queued, not refused, and the next process answers it.
      const answer = request({ host: '127.0.0.1', port });
      const second = (await waitState(d, 'api', 'RUNNING', 15_000)).pid;
      expect(second).not.toBe(first);
      expect(await answer).toBe(second);
      expect(socketInode(second)).toBe(inode);
      expect(socketStory(d.mainLog())[`tcp://127.0.0.1:${port}`]).toEqual(['Creating', 'Closing', 'Creating']);
    } finally {
      await d.stop();
    }
  });

  it('a socket that cannot be made at a spawn is that spawn\'s error (BACKOFF), and the daemon runs on', async () => {
    const port = await freePort();
    const d = await startDaemon('fastvisor', apiSection(port));
    let blocker: net.Server | null = null;
    try {
      await waitState(d, 'api', 'RUNNING');
      await d.rpc('supervisor.stopProcess', 'api');
      blocker = await blockPort(port);
      await expect(d.rpc('supervisor.startProcess', 'api')).rejects.toMatchObject({ faultCode: 50 });
      const why = `Could not create FastCGI socket tcp://127.0.0.1:${port}: [Errno 98] Address already in use`;
      const info = await waitState(d, 'api', 'BACKOFF');
      expect(info.spawnerr).toBe(why);
      await logged(d, `INFO spawnerr: ${why}`);
      // The port is free again: the next try makes the socket and the responder answers.
      await new Promise((r) => blocker!.close(r));
      blocker = null;
      const pid = (await waitState(d, 'api', 'RUNNING', 15_000)).pid;
      expect(await request({ host: '127.0.0.1', port })).toBe(pid);
    } finally {
      if (blocker) await new Promise((r) => blocker!.close(r));
      await d.stop();
    }
  });
});
