// SPDX-License-Identifier: MIT
// The daemon speaks sd_notify to its own supervisor (systemd Type=notify):
// the test is that supervisor, listening on a unix datagram socket with the
// addon's own receiving side (openNotify), and checks READY=1 (sent once the
// socket answers and the autostart programs are started, with MAINPID = the
// daemon's pid), RELOADING=1 + MONOTONIC_USEC then READY=1 around SIGHUP,
// STOPPING=1 at shutdown, and that no child inherits NOTIFY_SOCKET.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { IoCore, type NativeEvent, type NotifyEvent } from '../../../src/native/index.js';
import { spawnSync } from 'node:child_process';

import { fastvisordCommand, rpcCall, startDaemon, stopAllDaemons, writeConfig } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { isAlive, killTracked, track } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

interface Heard {
  pid: number;
  fields: Record<string, string>;
  /** what getState / getAllProcessInfo said when asked right as READY=1 came in */
  probe?: Promise<unknown>;
}

let core: IoCore;
const heard: Heard[] = [];
let sockPath = '';
let daemonSock = '';
let listening = -1;

function parse(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of data.toString().split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

beforeAll(() => {
  core = IoCore.start({
    onEvents: (events: NativeEvent[]) => {
      for (const e of events) {
        if (e.kind !== 'notify') continue;
        const n = e as NotifyEvent;
        // Only the current test's socket: a daemon an earlier test left is not heard.
        if (n.socket !== listening) continue;
        const h: Heard = { pid: n.pid, fields: parse(n.data) };
        // Asked at once, with no retry: READY=1 promises the socket answers now.
        if (h.fields.READY === '1' && daemonSock) {
          h.probe = Promise.all([rpcCall(daemonSock, 'supervisor.getState'), rpcCall(daemonSock, 'supervisor.getAllProcessInfo')]);
          h.probe.catch(() => {});
        }
        heard.push(h);
      }
    },
  });
});

afterEach(async () => {
  killTracked();
  await stopAllDaemons();
  if (listening >= 0) core.closeNotify(listening);
  listening = -1;
  heard.length = 0;
  daemonSock = '';
});
afterAll(() => {
  core.stop();
  removeTmpDirs();
});

const count = (key: string): number => heard.filter((h) => key in h.fields).length;
const waitFor = (key: string, n: number, what: string): Promise<Heard> =>
  pollUntil(() => (count(key) >= n ? heard.filter((h) => key in h.fields)[n - 1] : undefined), { timeout: 20_000, what });

function childEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

describe('fastvisor: sd_notify to its own supervisor', () => {
  it('READY=1 after start-up, RELOADING=1/READY=1 around HUP, STOPPING=1, and no NOTIFY_SOCKET in children', async () => {
    const dir = tmpDir('fv-sdnotify-');
    sockPath = path.join(dir, 'systemd-notify.sock');
    daemonSock = path.join(dir, 'supervisor.sock');
    listening = core.openNotify(sockPath);
    const envFile = path.join(dir, 'plain.env');
    const nEnvFile = path.join(dir, 'notified.env');
    const d = await startDaemon(
      'fastvisor',
      `[supervisord]\nloglevel=debug\n\n` +
        `[program:plain]\ncommand=/bin/sh -c 'env > ${envFile}.tmp && mv ${envFile}.tmp ${envFile}; exec sleep 1000'\nstartsecs=0\n\n` +
        // ready=notify gets fastvisor's own socket, never the one from systemd
        `[program:notified]\ncommand=/bin/sh -c 'env > ${nEnvFile}.tmp && mv ${nEnvFile}.tmp ${nEnvFile}; exec sleep 1000'\nready=notify\nstartsecs=30\n`,
      { dir, env: { NOTIFY_SOCKET: sockPath, WATCHDOG_USEC: '600000', WATCHDOG_PID: '' } },
    );

    const ready = await waitFor('READY', 1, 'READY=1');
    expect(ready.fields.MAINPID).toBe(String(d.pid));
    expect(ready.pid).toBe(d.pid);
    expect(ready.fields.STATUS).toMatch(/running/);
    const [state, infos] = (await ready.probe!) as [{ statename: string }, Array<{ name: string; statename: string }>];
    expect(state.statename).toBe('RUNNING');
    // Started: spawned, not necessarily RUNNING yet.
    for (const i of infos) expect(['STARTING', 'RUNNING']).toContain(i.statename);

    // WATCHDOG_USEC=600000: WATCHDOG=1 every 300 ms.
    await waitFor('WATCHDOG', 3, 'three WATCHDOG=1 pings');

    await pollUntil(() => existsSync(envFile) && existsSync(nEnvFile), { what: 'the children to write their environments' });
    const plain = childEnv(envFile);
    expect(plain.SUPERVISOR_PROCESS_NAME).toBe('plain');
    expect(plain.NOTIFY_SOCKET).toBeUndefined();
    expect(plain.WATCHDOG_USEC).toBeUndefined();
    expect(plain.WATCHDOG_PID).toBeUndefined();
    const notified = childEnv(nEnvFile);
    expect(notified.NOTIFY_SOCKET).toBeDefined();
    expect(notified.NOTIFY_SOCKET).not.toBe(sockPath);

    // SIGHUP: RELOADING=1 (with the CLOCK_MONOTONIC time of its start), then READY=1.
    const before = process.hrtime.bigint() / 1000n;
    process.kill(d.pid, 'SIGHUP');
    const reloading = await waitFor('RELOADING', 1, 'RELOADING=1');
    const after = process.hrtime.bigint() / 1000n;
    const mono = BigInt(reloading.fields.MONOTONIC_USEC!);
    expect(mono >= before && mono <= after).toBe(true);
    expect(reloading.pid).toBe(d.pid);
    const again = await waitFor('READY', 2, 'READY=1 after the reload');
    expect(heard.indexOf(again)).toBeGreaterThan(heard.indexOf(reloading));
    expect(again.fields.MAINPID).toBe(String(d.pid));
    expect(((await again.probe!) as [{ statename: string }])[0].statename).toBe('RUNNING');

    // Shutdown: STOPPING=1, and nothing after it says READY.
    const code = await d.stop();
    expect(code).toBe(0);
    const stopping = await waitFor('STOPPING', 1, 'STOPPING=1');
    expect(stopping.pid).toBe(d.pid);
    expect(count('STOPPING')).toBe(1);
    expect(heard.slice(heard.indexOf(stopping)).some((h) => 'READY' in h.fields)).toBe(false);
  });

  it('daemonized (no -n): the copy that stays sends MAINPID before its launcher exits, then READY=1', async () => {
    const dir = tmpDir('fv-sdnotify-');
    sockPath = path.join(dir, 'systemd-notify.sock');
    daemonSock = path.join(dir, 'supervisor.sock');
    listening = core.openNotify(sockPath);
    const conf = writeConfig(dir, `[supervisord]\n\n[program:plain]\ncommand=/bin/sleep 1000\nstartsecs=0\n`);
    const [node, pre] = fastvisordCommand();
    // The launcher returns once the copy is up; its exit status says so.
    const r = spawnSync(node, [...pre, '-c', conf], { cwd: dir, env: { ...process.env, NOTIFY_SOCKET: sockPath }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    const pid = Number(readFileSync(path.join(dir, 'supervisord.pid'), 'utf8'));
    track(pid);
    expect(pid).not.toBe(r.pid);
    // MAINPID alone came first: sent before the status pipe's 'ok', so it sat
    // in our socket's queue before the launcher exited (spawnSync kept this
    // thread from reading it until now).
    const ready = await waitFor('READY', 1, 'READY=1 from the copy');
    expect(heard[0]?.fields).toEqual({ MAINPID: String(pid) });
    expect(heard[0]?.pid).toBe(pid);
    expect(ready.fields.MAINPID).toBe(String(pid));
    expect(ready.pid).toBe(pid);
    process.kill(pid, 'SIGTERM');
    await waitFor('STOPPING', 1, 'STOPPING=1');
    await pollUntil(() => !isAlive(pid), { timeout: 20_000, what: 'the daemon to exit' });
  });
});
