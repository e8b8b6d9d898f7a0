// SPDX-License-Identifier: MIT
// The PromQL of examples/grafana/fastvisor.json, for the tests that check it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every PromQL expression of the dashboard: panel targets and query variables. */
export function dashboardExpressions(): string[] {
  const dash = JSON.parse(readFileSync(path.join(REPO, 'examples', 'grafana', 'fastvisor.json'), 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ definition?: string }> };
  };
  const out: string[] = [];
  for (const p of dash.panels) for (const t of p.targets ?? []) out.push(t.expr);
  for (const v of dash.templating.list) {
    // label_values(SELECTOR, label): the selector is PromQL
    const m = v.definition ? /^label_values\((.*),\s*\w+\)$/.exec(v.definition) : null;
    if (m) out.push(m[1]!);
  }
  return out;
}
