// SPDX-License-Identifier: MIT
// rpc/metrics.ts' pieces that need no daemon: label escaping and the RPC
// latency histogram (cumulative buckets). The whole text is checked against a
// real daemon, promtool and Prometheus in test/e2e/http/metrics.test.ts.
import { describe, expect, it } from 'vitest';

import type { ProcessFigures } from '../../../src/process/stats.js';
import { ProcessState } from '../../../src/process/states.js';
import { escapeLabel, METRIC_NAMES, renderProcesses, RPC_BUCKETS, RpcMetrics } from '../../../src/rpc/metrics.js';

function figures(name: string, over: Partial<ProcessFigures> = {}): ProcessFigures {
  return {
    name,
    group: 'g',
    state: ProcessState.RUNNING,
    statename: 'RUNNING',
    pid: 42,
    startTime: 1_700_000_000.5,
    uptime: 3,
    restarts: 1,
    exitStatus: null,
    cpuSeconds: 0.25,
    memoryBytes: 4096,
    memorySource: 'rss',
    openFds: 4,
    threads: 1,
    log: { stdout: { written: 14, dropped: 0 }, stderr: null },
    health: null,
    ready: null,
    oomKills: null,
    limits: { memoryMaxBytes: null, cpuMaxRatio: null, pidsMax: null },
    ...over,
  };
}

describe('exposition format', () => {
  it('label values escape backslash, double quote and line feed', () => {
    expect(escapeLabel('plain')).toBe('plain');
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it('RPC calls: counts per method, faults, cumulative latency buckets', () => {
    const m = new RpcMetrics();
    m.record('supervisor.getState', 0.0002, false);
    m.record('supervisor.getState', 0.003, false);
    m.record('unknown', 20, true);
    expect(Object.fromEntries(m.requests)).toEqual({ 'supervisor.getState': 2, unknown: 1 });
    expect(Object.fromEntries(m.faults)).toEqual({ unknown: 1 });
    expect(m.count).toBe(3);
    expect(m.buckets[RPC_BUCKETS.indexOf(0.0005)]).toBe(1);
    expect(m.buckets[RPC_BUCKETS.indexOf(0.005)]).toBe(2);
    expect(m.buckets.at(-1)).toBe(2);
  });
});

describe('per-process families', () => {
  const text = (() => {
    const out: string[] = [];
    renderProcesses(out, [
      figures('plain'),
      figures('lim"ited', {
        statename: 'BACKOFF',
        state: ProcessState.BACKOFF,
        ready: 0,
        oomKills: 2,
        limits: { memoryMaxBytes: 67108864, cpuMaxRatio: 0.5, pidsMax: 20 },
      }),
      figures('notify', { ready: 1 }),
    ]);
    return out.join('\n') + '\n';
  })();
  const lines = text.split('\n');

  it('a state set per process, each family once, in order', () => {
    expect(lines.filter((l) => l.startsWith('fastvisor_process_state{name="plain"'))).toHaveLength(Object.keys(ProcessState).length);
    expect(lines).toContain('fastvisor_process_state{name="plain",group="g",state="RUNNING"} 1');
    expect(lines).toContain('fastvisor_process_state{name="lim\\"ited",group="g",state="BACKOFF"} 1');
    expect(lines).toContain('fastvisor_process_state{name="lim\\"ited",group="g",state="RUNNING"} 0');
    expect(lines).toContain('fastvisor_process_log_bytes_total{name="plain",group="g",stream="stdout"} 14');
    const types = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);
    expect(new Set(types).size).toBe(types.length);
    for (const t of types) expect(METRIC_NAMES).toContain(t);
  });

  it('readiness, OOM kills and cgroup limits only where they apply', () => {
    expect(lines).toContain('fastvisor_process_ready{name="lim\\"ited",group="g"} 0');
    expect(lines).toContain('fastvisor_process_ready{name="notify",group="g"} 1');
    expect(lines).toContain('# TYPE fastvisor_process_oom_kills_total counter');
    expect(lines).toContain('fastvisor_process_oom_kills_total{name="lim\\"ited",group="g"} 2');
    expect(lines).toContain('fastvisor_process_memory_max_bytes{name="lim\\"ited",group="g"} 67108864');
    expect(lines).toContain('fastvisor_process_cpu_max_ratio{name="lim\\"ited",group="g"} 0.5');
    expect(lines).toContain('fastvisor_process_pids_max{name="lim\\"ited",group="g"} 20');
    for (const n of ['ready', 'oom_kills_total', 'memory_max_bytes', 'cpu_max_ratio', 'pids_max']) {
      expect(lines.filter((l) => l.startsWith(`fastvisor_process_${n}{name="plain"`))).toEqual([]);
    }
  });
});
