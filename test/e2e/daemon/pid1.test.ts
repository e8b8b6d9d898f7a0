// SPDX-License-Identifier: MIT
// examples/docker/ as a container runs it, minus Docker: the image's
// entrypoint (fastvisord -n -c <the example supervisord.conf>, here the daemon
// from source) as PID 1 of a new PID namespace (`unshare --pid --fork
// --mount-proc`). The example's config is used as it is, with only its paths
// (and the HTTP port, so parallel tests cannot collide) moved into a temp dir;
// its logs still go to /dev/stdout, which is this test's pipe. Checks: the
// daemon is PID 1 inside, orphans are reaped (no zombie is left), and SIGTERM
// to PID 1 stops every program with SIGTERM first and the daemon exits 0
// within stopwaitsecs, leaving nothing in the namespace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { fastvisordCommand, REPO, rpcCall } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { childrenOf, procStat } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const EXAMPLE = path.join(REPO, 'examples', 'docker');
const hasUnshare = spawnSync('unshare', ['--version']).status === 0 && process.getuid?.() === 0;

let running: ChildProcess | undefined;
afterEach(() => {
  // Whatever a failed test left: SIGKILL to unshare's process group. With
  // --kill-child unshare's death takes the namespace's PID 1 (and so every
  // process in it) down too.
  if (running?.pid && running.exitCode === null && running.signalCode === null) {
    try {
      process.kill(-running.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  running = undefined;
});
afterAll(() => removeTmpDirs());

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function get(port: number, uri: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: uri }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

function comm(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null; // gone meanwhile
  }
}

/** The pid namespace's pids of an outer pid (NSpid: outer … innermost). */
function nsPids(pid: number): number[] {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'));
    return line ? line.slice(6).trim().split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** Every outer pid whose pid namespace is `ns` (a readlink of /proc/<pid>/ns/pid). */
function pidsInNamespace(ns: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) === ns) out.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

/** The example's config with its paths (and port) moved into `dir`. */
function adaptConfig(dir: string, port: number): { conf: string; text: string } {
  const original = readFileSync(path.join(EXAMPLE, 'supervisord.conf'), 'utf8');
  const text = original
    .replaceAll('/run/fastvisor', dir)
    .replaceAll('/usr/local/lib/fastvisor-demo', path.join(EXAMPLE, 'demo'))
    .replace(/^port=0\.0\.0\.0:9001$/m, `port=127.0.0.1:${port}`);
  const conf = path.join(dir, 'supervisord.conf');
  writeFileSync(conf, text);
  return { conf, text };
}

type Info = { name: string; statename: string; pid: number };

describe.runIf(hasUnshare)('examples/docker: fastvisor as PID 1 of a PID namespace', () => {
  it('is PID 1, reaps orphans, and on SIGTERM stops every program and exits 0', async () => {
    const dir = tmpDir('fv-docker-');
    const port = await freePort();
    const { conf, text } = adaptConfig(dir, port);
    // Only the paths and the port changed: the logging is the example's own.
    expect(text).toMatch(/^logfile=\/dev\/stdout$/m);
    expect(text).toMatch(/^stdout_logfile=\/dev\/stdout$/m);
    const stopwaitsecs = Math.max(...[...text.matchAll(/^stopwaitsecs=(\d+)$/gm)].map((m) => Number(m[1])));
    const sock = path.join(dir, 'supervisor.sock');

    // stdout and stderr are a FIFO, as containerd gives a container: Node's
    // 'pipe' stdio is a socketpair, and open("/dev/stdout") on a socket fails
    // with ENXIO (for supervisord as well).
    const fifo = path.join(dir, 'stdout.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const rfd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const wfd = openSync(fifo, constants.O_WRONLY);
    const [node, args] = fastvisordCommand();
    const proc = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', node, ...args, '-n', '-c', conf], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', wfd, wfd],
    });
    closeSync(wfd);
    running = proc;
    let out = '';
    const reader = new net.Socket({ fd: rfd, readable: true, writable: false });
    reader.on('data', (d: Buffer) => (out += d.toString()));
    reader.on('error', () => undefined);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );

    // unshare's child is the daemon: PID 1 inside, an ordinary pid outside.
    const daemon = await pollUntil(() => childrenOf(proc.pid!)[0], { what: 'the daemon under unshare' });
    expect(nsPids(daemon).at(-1)).toBe(1);
    const ns = readlinkSync(`/proc/${daemon}/ns/pid`);
    expect(ns).not.toBe(readlinkSync('/proc/self/ns/pid'));

    // Its socket (in the temp dir) answers from out here, and the daemon says it is pid 1.
    await pollUntil(
      async () => {
        if (proc.exitCode !== null) throw new Error(`exited at start-up (${proc.exitCode}): ${out}`);
        try {
          return existsSync(sock) && (await rpcCall(sock, 'supervisor.getState'));
        } catch {
          return false;
        }
      },
      { timeout: 20_000, what: `the daemon to answer on ${sock}` },
    );
    expect(await rpcCall(sock, 'supervisor.getPID')).toBe(1);
    // The main log went to /dev/stdout, i.e. our pipe.
    await pollUntil(() => /supervisord started with pid 1\b/.test(out), { what: `"started with pid 1" on stdout: ${out}` });
    // Once: silent=true keeps nodaemon's echo of the main log from doubling it.
    expect(out.match(/supervisord started with pid 1\b/g)).toHaveLength(1);

    const infos = await pollUntil(
      async () => {
        const all = (await rpcCall(sock, 'supervisor.getAllProcessInfo')) as Info[];
        return all.length === 2 && all.every((i) => i.statename === 'RUNNING') && all;
      },
      { timeout: 15_000, what: 'ticker and orphans RUNNING' },
    );
    expect(infos.map((i) => i.name).sort()).toEqual(['orphans', 'ticker']);
    // The programs' output reaches stdout too (stdout_logfile=/dev/stdout).
    await pollUntil(() => out.includes('ticker: started as pid') && out.includes('orphans: started as pid'), { what: `program output on stdout: ${out}` });

    // Probes on the inet server.
    expect((await get(port, '/healthz')).status).toBe(200);
    await pollUntil(async () => (await get(port, '/readyz')).status === 200, { what: '/readyz 200' });
    expect((await get(port, '/metrics')).body).toContain('fastvisor_process_state');

    // Orphan reaping. orphans.sh leaves a `sleep 1` behind every 3 s and says
    // which (a pid of the namespace); catch one alive, its parent gone, so it
    // is PID 1's (the daemon's) child outside; then it must disappear from
    // /proc entirely (a zombie would stay) and the daemon logs the reaping.
    const programPids = new Set(infos.map((i) => i.pid));
    const orphan = await pollUntil(
      () =>
        childrenOf(daemon).find((p) => {
          const inner = nsPids(p).at(-1)!;
          return !programPids.has(inner) && procStat(p)?.state !== 'Z' && comm(p) === 'sleep';
        }),
      { timeout: 10_000, interval: 5, what: 'an orphaned sleep reparented to PID 1' },
    );
    const orphanInner = nsPids(orphan).at(-1)!;
    // Its announcement travels through the daemon's pipe and /dev/stdout: it may come a little after the orphan is seen.
    await pollUntil(() => out.includes(`orphans: left pid ${orphanInner} behind`), { what: `"left pid ${orphanInner} behind" on stdout` });
    await pollUntil(() => !existsSync(`/proc/${orphan}`), { timeout: 5_000, what: `orphan ${orphan} reaped (not a zombie)` });
    await pollUntil(() => out.includes(`reaped unknown pid ${orphanInner} (exit status 0)`), { what: `"reaped unknown pid ${orphanInner}" on stdout` });
    const zombies = childrenOf(daemon).filter((p) => procStat(p)?.state === 'Z');
    expect(zombies).toEqual([]);

    // SIGTERM to PID 1 (from outside: the daemon's outer pid), as `docker stop` does.
    const before = pidsInNamespace(ns);
    expect(before.length).toBeGreaterThanOrEqual(3);
    const sent = Date.now();
    process.kill(daemon, 'SIGTERM');
    const end = await exited;
    // unshare --fork exits with its child's status: the daemon exited 0 itself, in time.
    expect({ code: end.code, signal: end.signal }).toEqual({ code: 0, signal: null });
    expect(end.at - sent).toBeLessThan(stopwaitsecs * 1000);
    // Every program got SIGTERM (its trap recorded it) and was stopped by the daemon, not the kernel.
    for (const name of ['ticker', 'orphans']) {
      const info = infos.find((i) => i.name === name)!;
      expect(readFileSync(path.join(dir, `${name}.term`), 'utf8').trim()).toBe(`SIGTERM ${info.pid}`);
      // Written before the daemon exited; the FIFO's reader may still be catching up.
      await pollUntil(() => out.includes(`stopped: ${name} (exit status 0)`), { what: `"stopped: ${name} (exit status 0)" on stdout` });
    }
    await pollUntil(() => out.includes('received SIGTERM indicating exit request'), { what: 'the SIGTERM line on stdout' });
    // Nothing of the namespace is left.
    await pollUntil(() => pidsInNamespace(ns).length === 0, { timeout: 5_000, what: 'the namespace to be empty' });
    reader.destroy();
    if (process.env.FV_SHOW) console.log(out);
  }, 60_000);
});
