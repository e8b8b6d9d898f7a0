// SPDX-License-Identifier: MIT
// GET /metrics: the daemon and every process in Prometheus' text exposition
// format 0.0.4, from the same figures as fastvisor.getAllProcessStats
// (process/stats.ts), plus the RPC counters the dispatcher records here.
// Written by hand rather than with prom-client: a registry of 500 × 20 label
// sets rebuilt per scrape costs more than the scrape budget (README "Metrics").
import type { ProcessFigures } from '../process/stats.js';
import { ProcessState, processStateName, type ProcessStateName } from '../process/states.js';
import { fastvisorVersion } from './fastvisor-ns.js';
import { SUPERVISOR_VERSION, type SupervisorControl } from './supervisor-ns.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Seconds: a getState answers in well under a millisecond, a waiting startProcess takes startsecs. */
export const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Requests and faults per method, and one latency histogram over all of them. */
export class RpcMetrics {
  readonly requests = new Map<string, number>();
  readonly faults = new Map<string, number>();
  readonly buckets = new Array<number>(RPC_BUCKETS.length).fill(0);
  count = 0;
  sum = 0;

  /** method: a known wire name, or 'unknown' (clients choose names; the label set must stay bounded) */
  record(method: string, seconds: number, fault: boolean): void {
    this.requests.set(method, (this.requests.get(method) ?? 0) + 1);
    if (fault) this.faults.set(method, (this.faults.get(method) ?? 0) + 1);
    this.count += 1;
    this.sum += seconds;
    for (let i = 0; i < RPC_BUCKETS.length; i++) if (seconds <= RPC_BUCKETS[i]!) this.buckets[i]! += 1;
  }
}

const STATE_NAMES = Object.keys(ProcessState) as ProcessStateName[];
/** Per state: the end of its state-set line when it is not the current one, and when it is. */
const STATE_TAILS = STATE_NAMES.map((s) => [s, [`,state="${s}"} 0\n`, `,state="${s}"} 1\n`]] as const);
const STREAM_TAILS = { stdout: ',stream="stdout"} ', stderr: ',stream="stderr"} ' } as const;

/** Every metric name /metrics can export (the Grafana dashboard's test checks against it). */
export const METRIC_NAMES = [
  'fastvisor_up',
  'fastvisor_build_info',
  'fastvisor_start_time_seconds',
  'fastvisor_rpc_requests_total',
  'fastvisor_rpc_faults_total',
  'fastvisor_rpc_request_duration_seconds',
  'fastvisor_event_listener_queue_depth',
  'fastvisor_event_listener_dropped_events_total',
  'fastvisor_process_state',
  'fastvisor_process_start_time_seconds',
  'fastvisor_process_restarts_total',
  'fastvisor_process_exit_status',
  'fastvisor_process_cpu_seconds_total',
  'fastvisor_process_resident_memory_bytes',
  'fastvisor_process_open_fds',
  'fastvisor_process_threads',
  'fastvisor_process_log_bytes_total',
  'fastvisor_process_log_dropped_bytes_total',
  'fastvisor_process_healthy',
  'fastvisor_process_ready',
  'fastvisor_process_oom_kills_total',
  'fastvisor_process_memory_max_bytes',
  'fastvisor_process_cpu_max_ratio',
  'fastvisor_process_pids_max',
] as const;

/** A label value: backslash, double quote and line feed escaped (exposition format). */
export function escapeLabel(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** The exposition text; daemonStart is the wall clock (ms) the daemon started at. */
export function renderMetrics(ctl: SupervisorControl, rpc: RpcMetrics | null, daemonStart: number): string {
  const sup = ctl.supervisor;
  const figures = sup.figures();
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter' | 'histogram', help: string): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };

  family('fastvisor_up', 'gauge', 'Whether the daemon answers (always 1 when this is read).');
  out.push('fastvisor_up 1');
  family('fastvisor_build_info', 'gauge', "fastvisor's version and the supervisord version it is compatible with.");
  out.push(`fastvisor_build_info{version="${escapeLabel(fastvisorVersion())}",supervisor_version="${SUPERVISOR_VERSION}"} 1`);
  family('fastvisor_start_time_seconds', 'gauge', 'When the daemon started, seconds since the epoch.');
  out.push(`fastvisor_start_time_seconds ${num(Math.round(daemonStart) / 1000)}`);

  if (rpc) {
    family('fastvisor_rpc_requests_total', 'counter', 'XML-RPC calls answered, by method (unknown names count as "unknown").');
    for (const [m, n] of rpc.requests) out.push(`fastvisor_rpc_requests_total{method="${escapeLabel(m)}"} ${n}`);
    family('fastvisor_rpc_faults_total', 'counter', 'XML-RPC calls answered with a fault, by method.');
    for (const [m, n] of rpc.faults) out.push(`fastvisor_rpc_faults_total{method="${escapeLabel(m)}"} ${n}`);
    family('fastvisor_rpc_request_duration_seconds', 'histogram', 'Time from a parsed XML-RPC call to its answer (waiting calls included).');
    RPC_BUCKETS.forEach((le, i) => out.push(`fastvisor_rpc_request_duration_seconds_bucket{le="${le}"} ${rpc.buckets[i]}`));
    out.push(`fastvisor_rpc_request_duration_seconds_bucket{le="+Inf"} ${rpc.count}`);
    out.push(`fastvisor_rpc_request_duration_seconds_sum ${num(rpc.sum)}`, `fastvisor_rpc_request_duration_seconds_count ${rpc.count}`);
  }

  const pools = sup.events.poolFigures();
  if (pools.length) {
    family('fastvisor_event_listener_queue_depth', 'gauge', "Events waiting in an event listener pool's buffer.");
    for (const p of pools) out.push(`fastvisor_event_listener_queue_depth{pool="${escapeLabel(p.pool)}"} ${p.buffered}`);
    family('fastvisor_event_listener_dropped_events_total', 'counter', "Events discarded because a pool's buffer was full (buffer_size).");
    for (const p of pools) out.push(`fastvisor_event_listener_dropped_events_total{pool="${escapeLabel(p.pool)}"} ${p.discarded}`);
  }

  renderProcesses(out, figures);
  out.push('');
  return out.join('\n');
}

// The per-process families: the bulk of a scrape (500 processes: ~12 000
// lines), so built by appending to one string, with each process's label set
// and each state-set line's tail made once.
export function renderProcesses(out: string[], figures: readonly ProcessFigures[]): void {
  const n = figures.length;
  if (!n) return;
  const labels = new Array<string>(n);
  for (let i = 0; i < n; i++) labels[i] = `{name="${escapeLabel(figures[i]!.name)}",group="${escapeLabel(figures[i]!.group)}"`;
  let text = '';
  // One family at a time: the format wants a family's samples together.
  const each = (name: string, type: 'gauge' | 'counter', help: string, value: (f: ProcessFigures) => number | null): void => {
    let headed = false;
    for (let i = 0; i < n; i++) {
      const v = value(figures[i]!);
      if (v === null) continue;
      if (!headed) text += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
      headed = true;
      text += name + labels[i] + '} ' + num(v) + '\n';
    }
  };

  text += '# HELP fastvisor_process_state The process state: 1 for the current one, 0 for the others (a state set).\n# TYPE fastvisor_process_state gauge\n';
  for (let i = 0; i < n; i++) {
    const head = 'fastvisor_process_state' + labels[i];
    const current = figures[i]!.statename;
    for (const [s, tail] of STATE_TAILS) text += head + (s === current ? tail[1] : tail[0]);
  }
  each('fastvisor_process_start_time_seconds', 'gauge', 'When the current (or last) child was spawned, seconds since the epoch.', (f) => f.startTime);
  each('fastvisor_process_restarts_total', 'counter', 'Children started after the first since the process was added.', (f) => f.restarts);
  each('fastvisor_process_exit_status', 'gauge', "The last child's exit status (-1: killed by a signal).", (f) => f.exitStatus);
  each('fastvisor_process_cpu_seconds_total', 'counter', "The running child's user and system CPU time in seconds.", (f) => f.cpuSeconds);
  each(
    'fastvisor_process_resident_memory_bytes',
    'gauge',
    "The running child's resident memory in bytes (its cgroup's memory where it has one).",
    (f) => f.memoryBytes,
  );
  each('fastvisor_process_open_fds', 'gauge', "The running child's open file descriptors.", (f) => f.openFds);
  each('fastvisor_process_threads', 'gauge', "The running child's threads.", (f) => f.threads);
  for (const [name, help, pick] of [
    ['fastvisor_process_log_bytes_total', 'Bytes written to the log file of a stream (stdout, stderr), across rotations.', 'written'],
    ['fastvisor_process_log_dropped_bytes_total', 'Bytes of a stream lost to log write errors (full disk, removed directory).', 'dropped'],
  ] as const) {
    let headed = false;
    for (let i = 0; i < n; i++) {
      const f = figures[i]!;
      for (const stream of ['stdout', 'stderr'] as const) {
        const l = f.log[stream];
        if (!l) continue;
        if (!headed) text += `# HELP ${name} ${help}\n# TYPE ${name} counter\n`;
        headed = true;
        text += name + labels[i] + STREAM_TAILS[stream] + num(l[pick]) + '\n';
      }
    }
  }
  each('fastvisor_process_healthy', 'gauge', 'Where a health check is configured: 1 while healthy, else 0.', (f) =>
    f.health === null ? null : f.health === 'healthy' ? 1 : 0,
  );
  each('fastvisor_process_ready', 'gauge', 'Where readiness is signalled (ready=notify or log:): 1 while RUNNING (ready), else 0.', (f) => f.ready);
  each(
    'fastvisor_process_oom_kills_total',
    'counter',
    "Processes of the program's cgroup killed by the OOM killer, counted when its child exits (programs with a cgroup).",
    (f) => f.oomKills,
  );
  each('fastvisor_process_memory_max_bytes', 'gauge', 'The memory_max cgroup limit in bytes, where set.', (f) => f.limits.memoryMaxBytes);
  each('fastvisor_process_cpu_max_ratio', 'gauge', 'The cpu_max cgroup limit as a fraction of one CPU (0.5: half a core), where set.', (f) => f.limits.cpuMaxRatio);
  each('fastvisor_process_pids_max', 'gauge', 'The pids_max cgroup limit (processes and threads), where set.', (f) => f.limits.pidsMax);
  out.push(text.slice(0, -1));
}
