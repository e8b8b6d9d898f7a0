// SPDX-License-Identifier: MIT
// GET /metrics from a real daemon running a few programs: the values against
// what the processes did (log bytes, exit status, restarts, fds), the text
// through `promtool check metrics`, then scraped by a real Prometheus server
// (basic auth, as a fleet would) and asked a PromQL question over its HTTP API.
// Also fastvisor.getProcessStats / getAllProcessStats, and `metrics = false`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';

import { detectLayout } from '../../../src/process/cgroup-plan.js';
import { REPO, startDaemon, stopAllDaemons, type Daemon } from '../../helpers/daemon-harness.js';
import { dashboardExpressions } from '../../helpers/grafana.js';
import { freePort } from '../../helpers/http-raw.js';
import { pollUntil } from '../../helpers/poll.js';
import { isAlive } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const PROMTOOL = '/usr/bin/promtool';

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
// cgroup limits need root and the memory, cpu and pids controllers (v2 offers them, or v1 mounts them).
const cgroupLayout =
  process.platform === 'linux' && process.getuid?.() === 0
    ? detectLayout(readOrNull('/proc/self/mountinfo') ?? '', readOrNull('/proc/self/cgroup') ?? '', readOrNull)
    : null;
const cgroupLimits =
  cgroupLayout !== null &&
  ['memory', 'cpu', 'pids'].every((c) => (cgroupLayout.version === 2 ? cgroupLayout.v2!.controllers.includes(c) : cgroupLayout.v1.has(c)));
const PROMETHEUS = '/usr/bin/prometheus';
const AUTH = 'Basic ' + Buffer.from('metrics:s3cret').toString('base64');

afterAll(async () => {
  await stopAllDaemons();
  removeTmpDirs();
});

function get(port: number, urlPath: string, auth?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: auth ? { Authorization: auth } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
  });
}

/** `name{labels} value` lines → sample lookup by name and a label subset. */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function daemonWithPrograms(extra = ''): Promise<{ d: Daemon; port: number }> {
  const port = await freePort();
  const d = await startDaemon(
    'fastvisor',
    `[inet_http_server]
port=127.0.0.1:${port}
username=metrics
password=s3cret
${extra}
[program:hello]
command=/bin/sh -c 'printf "hello metrics\\n"; exec /bin/sleep 1000'
startsecs=0
ready=log:^hello metrics$

[program:crash]
command=/bin/sh -c '/bin/sleep 0.2; exit 3'
startsecs=0
autorestart=true

[program:web]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)s
startsecs=0
healthcheck=cmd:true
healthcheck_interval=200ms
`,
  );
  return { d, port };
}

describe('GET /metrics', () => {
  it('exposes the figures of real processes, in a format promtool accepts', async () => {
    const { d, port } = await daemonWithPrograms();
    onTestFinished(async () => {
      await d.stop();
    });

    expect((await get(port, '/metrics')).status).toBe(401);

    // Wait for what the test asserts: one crash-and-restart, the web health checks in.
    const text = await pollUntil(
      async () => {
        const r = await get(port, '/metrics', AUTH);
        if (r.status !== 200) return false;
        const restarts = value(r.body, 'fastvisor_process_restarts_total', { name: 'crash' }) ?? 0;
        const healthy = value(r.body, 'fastvisor_process_healthy', { name: 'web_1' });
        const logged = value(r.body, 'fastvisor_process_log_bytes_total', { name: 'hello', stream: 'stdout' });
        return restarts >= 1 && healthy === 1 && logged === 14 && r.body;
      },
      { timeout: 15_000, what: 'a restart of crash, web healthy and hello logged' },
    );
    const r = await get(port, '/metrics', AUTH);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');

    // A state set: one 1 per process.
    for (const name of ['hello', 'web_0', 'web_1']) {
      expect(value(text, 'fastvisor_process_state', { name, state: 'RUNNING' })).toBe(1);
      expect(value(text, 'fastvisor_process_state', { name, state: 'STOPPED' })).toBe(0);
    }
    expect(samples(text).filter((s) => s.name === 'fastvisor_process_state' && s.labels.name === 'crash' && s.value === 1)).toHaveLength(1);
    expect(value(text, 'fastvisor_process_state', { name: 'web_0' })).toBeDefined();
    expect(samples(text).find((s) => s.name === 'fastvisor_process_state' && s.labels.name === 'web_0')!.labels.group).toBe('web');

    expect(value(text, 'fastvisor_process_exit_status', { name: 'crash' })).toBe(3);
    expect(value(text, 'fastvisor_process_exit_status', { name: 'hello' })).toBeUndefined();
    expect(value(text, 'fastvisor_process_restarts_total', { name: 'hello' })).toBe(0);
    expect(value(text, 'fastvisor_process_log_dropped_bytes_total', { name: 'hello', stream: 'stdout' })).toBe(0);
    expect(value(text, 'fastvisor_process_healthy', { name: 'hello' })).toBeUndefined();
    // ready=log: ready once RUNNING; no readiness for ready=started, no cgroup figures without a cgroup.
    expect(value(text, 'fastvisor_process_ready', { name: 'hello' })).toBe(1);
    expect(value(text, 'fastvisor_process_ready', { name: 'web_0' })).toBeUndefined();
    expect(value(text, 'fastvisor_process_oom_kills_total', { name: 'hello' })).toBeUndefined();
    expect(value(text, 'fastvisor_process_memory_max_bytes', { name: 'hello' })).toBeUndefined();
    expect(value(text, 'fastvisor_up', {})).toBe(1);
    expect(samples(text).find((s) => s.name === 'fastvisor_build_info')!.labels.version).toMatch(/^\d+\.\d+\.\d+/);

    // Against /proc, read here for the same pid.
    const info = (await d.rpc('supervisor.getProcessInfo', 'web:web_0')) as { pid: number; start: number };
    const fds = readdirSync(`/proc/${info.pid}/fd`).length;
    expect(value(text, 'fastvisor_process_open_fds', { name: 'web_0' })).toBe(fds);
    expect(value(text, 'fastvisor_process_threads', { name: 'web_0' })).toBe(1);
    expect(value(text, 'fastvisor_process_resident_memory_bytes', { name: 'web_0' })).toBeGreaterThan(100_000);
    expect(value(text, 'fastvisor_process_cpu_seconds_total', { name: 'web_0' })).toBeGreaterThanOrEqual(0);
    expect(Math.abs(value(text, 'fastvisor_process_start_time_seconds', { name: 'web_0' })! - info.start)).toBeLessThan(1.5);

    // The RPC calls above were counted.
    const later = (await get(port, '/metrics', AUTH)).body;
    expect(value(later, 'fastvisor_rpc_requests_total', { method: 'supervisor.getProcessInfo' })).toBeGreaterThanOrEqual(1);
    expect(value(later, 'fastvisor_rpc_request_duration_seconds_count', {})).toBeGreaterThanOrEqual(1);

    if (existsSync(PROMTOOL)) {
      const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: later, encoding: 'utf8', timeout: 20_000 });
      expect(check.stdout + check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });

  it('fastvisor.getProcessStats and getAllProcessStats give the same figures over XML-RPC', async () => {
    const { d } = await daemonWithPrograms();
    onTestFinished(async () => {
      await d.stop();
    });
    const one = await pollUntil(
      async () => {
        const s = (await d.rpc('fastvisor.getProcessStats', 'hello')) as Record<string, unknown>;
        // RUNNING comes on the ready line's tap, which may follow the bytes' arrival in the file.
        return s['stdout_bytes'] === 14 && s['statename'] === 'RUNNING' && s;
      },
      { what: 'hello to be logged and RUNNING' },
    );
    expect(one).toMatchObject({ name: 'hello', group: 'hello', statename: 'RUNNING', restarts: 0, health: 'none', memory_source: 'rss', threads: 1 });
    expect(one['memory_bytes']).toBeGreaterThan(0);
    expect(one['exitstatus']).toBeUndefined();
    const all = (await d.rpc('fastvisor.getAllProcessStats')) as Array<Record<string, unknown>>;
    expect(all.map((s) => `${s['group']}:${s['name']}`)).toEqual(['crash:crash', 'hello:hello', 'web:web_0', 'web:web_1']);
    await expect(d.rpc('fastvisor.getProcessStats', 'nope')).rejects.toMatchObject({ faultCode: 10 });

    // fastvisorctl top into a pipe: one table, over XML-RPC.
    const tsx = path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');
    const ctl = spawnSync(
      process.execPath,
      ['--import', tsx, path.join(REPO, 'src', 'cli', 'supervisorctl.ts'), '-s', `unix://${d.sock}`, 'top', '--sort', 'name', '--interval', '0.2', 'web:*', 'hello'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(ctl.stderr).toBe('');
    expect(ctl.status).toBe(0);
    const lines = ctl.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\*\s+STATE\s+PID\s+CPU%\s+CPU TIME\s+MEM\s+FDS\s+THR\s+RESTARTS\s+UPTIME\s+LOG\s+DROPPED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['hello RUNNING', 'web:web_0 RUNNING', 'web:web_1 RUNNING']);
    expect(lines[1]).toMatch(/\s14B\s+0B$/);
  });

  it.skipIf(!cgroupLimits)('cgroup limits and the OOM kill counter of a program with a cgroup', async () => {
    const root = `/fastvisor-metrics-test-${process.pid}`;
    const { d, port } = await daemonWithPrograms(
      `[supervisord]\ncgroup_root=${root}\n[program:limited]\ncommand=/bin/sleep 1000\nstartsecs=0\nmemory_max=64MB\ncpu_max=50%\npids_max=20\n`,
    );
    onTestFinished(async () => {
      await d.stop();
      const mounts = cgroupLayout!.version === 2 ? [cgroupLayout!.v2!.mount] : [...new Set([...cgroupLayout!.v1.values()].map((h) => h.mount))];
      for (const m of mounts) {
        for (const dir of [path.join(m, root, 'limited', 'limited'), path.join(m, root, 'limited'), path.join(m, root)]) {
          try {
            rmdirSync(dir);
          } catch {
            // removed by the daemon, or never made
          }
        }
      }
    });
    const text = await pollUntil(
      async () => {
        const r = await get(port, '/metrics', AUTH);
        return r.status === 200 && value(r.body, 'fastvisor_process_state', { name: 'limited', state: 'RUNNING' }) === 1 && r.body;
      },
      { timeout: 15_000, what: 'limited to run' },
    );
    expect(value(text, 'fastvisor_process_memory_max_bytes', { name: 'limited' })).toBe(64 * 1024 * 1024);
    expect(value(text, 'fastvisor_process_cpu_max_ratio', { name: 'limited' })).toBe(0.5);
    expect(value(text, 'fastvisor_process_pids_max', { name: 'limited' })).toBe(20);
    expect(value(text, 'fastvisor_process_oom_kills_total', { name: 'limited' })).toBe(0);
    expect(value(text, 'fastvisor_process_pids_max', { name: 'web_0' })).toBeUndefined();
    expect(((await d.rpc('fastvisor.getProcessStats', 'limited')) as Record<string, unknown>)['oom_kills']).toBe(0);
    if (existsSync(PROMTOOL)) {
      const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
      expect(check.stdout + check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });

  it('metrics = false: 404, behind the same auth', async () => {
    const { d, port } = await daemonWithPrograms('[supervisord]\nmetrics = false\n');
    onTestFinished(async () => {
      await d.stop();
    });
    expect((await get(port, '/metrics')).status).toBe(401);
    expect((await get(port, '/metrics', AUTH)).status).toBe(404);
    expect((await get(port, '/healthz', AUTH)).status).toBe(200);
  });

  it.skipIf(!existsSync(PROMETHEUS))('a real Prometheus server scrapes it and answers PromQL', async () => {
    const { d, port } = await daemonWithPrograms();
    onTestFinished(async () => {
      await d.stop();
    });
    const dir = tmpDir('fv-prometheus-');
    const promPort = await freePort();
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: fastvisor
    basic_auth:
      username: metrics
      password: s3cret
    static_configs:
      - targets: ['127.0.0.1:${port}']
`,
    );
    const prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prom.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
    const pid = prom.pid!;
    onTestFinished(async () => {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // gone
      }
      await pollUntil(() => !isAlive(pid) || prom.exitCode !== null || prom.signalCode !== null, { timeout: 10_000, what: 'prometheus to exit' }).catch(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      });
    });

    const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }> | null> => {
      try {
        const r = await get(promPort, `/api/v1/query?query=${encodeURIComponent(q)}`);
        if (r.status !== 200) return null;
        const j = JSON.parse(r.body) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
        return j.status === 'success' ? j.data.result : null;
      } catch {
        return null;
      }
    };
    const running = await pollUntil(
      async () => {
        if (prom.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
        const res = await query('count(fastvisor_process_state{state="RUNNING",group="web"} == 1)');
        return res && res.length === 1 && res[0]!.value[1];
      },
      { timeout: 30_000, interval: 200, what: `prometheus to scrape the daemon (${log.slice(-300)})` },
    );
    expect(running).toBe('2');
    const up = await query('up{job="fastvisor"}');
    expect(up?.[0]?.value[1]).toBe('1');
    const bytes = await pollUntil(async () => (await query('sum(fastvisor_process_log_bytes_total{name="hello"})'))?.[0]?.value[1], {
      timeout: 10_000,
      what: 'the log bytes series',
    });
    expect(bytes).toBe('14');

    // Every expression of the Grafana dashboard is PromQL this Prometheus runs.
    for (const expr of dashboardExpressions()) {
      const q = expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*').replaceAll('$group', '.*');
      expect(await query(q), q).not.toBeNull();
    }
  });
});
