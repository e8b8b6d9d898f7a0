// SPDX-License-Identifier: MIT
// rpc/metrics.ts' pieces that need no daemon: label escaping and the RPC
// latency histogram (cumulative buckets). The whole text is checked against a
// real daemon, promtool and Prometheus in test/e2e/http/metrics.test.ts.
import { describe, expect, it } from 'vitest';

import { escapeLabel, RPC_BUCKETS, RpcMetrics } from '../../../src/rpc/metrics.js';

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
