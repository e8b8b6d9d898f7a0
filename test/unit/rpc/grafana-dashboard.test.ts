// SPDX-License-Identifier: MIT
// examples/grafana/fastvisor.json asks only for metrics /metrics exports: every
// metric name in every PromQL expression (panels and variables) is one of
// rpc/metrics.ts' METRIC_NAMES (a histogram's _bucket/_sum/_count included).
// test/e2e/http/metrics.test.ts runs the same expressions on a real Prometheus.
import { describe, expect, it } from 'vitest';

import { METRIC_NAMES } from '../../../src/rpc/metrics.js';
import { dashboardExpressions } from '../../helpers/grafana.js';

/** Metric names in an expression: identifiers before a selector or range, not functions, labels or keywords. */
function metricNames(expr: string): string[] {
  // Label matchers and strings out first: {a="x", b=~"y"} -> {}
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\b(?:by|without)\s*\([^)]*\)/g, '');
  const out: string[] = [];
  for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\(|\{|\[|\)|,|$|\s|>|<|=|!)/g)) {
    if (m[2] === '(') continue; // a function or aggregation
    const word = m[1]!;
    if (['and', 'or', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'vector'].includes(word)) continue;
    out.push(word);
  }
  return out;
}

describe('the Grafana dashboard', () => {
  const exprs = dashboardExpressions();

  it('has panels for states, restarts, CPU, memory, log bytes and drops', () => {
    const all = exprs.join('\n');
    for (const m of [
      'fastvisor_process_state',
      'fastvisor_process_restarts_total',
      'fastvisor_process_cpu_seconds_total',
      'fastvisor_process_resident_memory_bytes',
      'fastvisor_process_log_bytes_total',
      'fastvisor_process_log_dropped_bytes_total',
    ]) {
      expect(all).toContain(m);
    }
  });

  it('names only metrics that /metrics exports', () => {
    const known = new Set<string>(METRIC_NAMES);
    for (const n of METRIC_NAMES) for (const s of ['_bucket', '_sum', '_count']) known.add(n + s);
    const unknown = exprs.flatMap((e) => metricNames(e).filter((n) => !known.has(n)).map((n) => `${n} in ${e}`));
    expect(unknown).toEqual([]);
    expect(exprs.flatMap(metricNames).length).toBeGreaterThan(10);
  });
});
