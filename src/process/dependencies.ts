// SPDX-License-Identifier: MIT
// depends_on (fastvisor), the pure half: which processes depend on which, and
// for one dependency in its current state whether it holds, may still come,
// can be started for its dependent, or has failed. No timers, no processes:
// dependency-gate.ts feeds it views of the live processes and acts on the
// answers. config/dependencies.ts has already refused unknown names, cycles
// and `healthy` without a health check.
import type { DependencyCondition, ResolvedDependency } from '../config/model.js';
import { ProcessState, processStateName } from './states.js';

/** A process as `group:name`, the graph's node key. */
export const processKey = (group: string, name: string): string => `${group}:${name}`;

/** What the rules need to know about a dependency right now. */
export interface DependencyView {
  name: string;
  state: ProcessState;
  /** its health check's verdict; null without a health check */
  health: 'off' | 'starting' | 'healthy' | 'unhealthy' | null;
  /** EXITED: whether its exit status is in its exitcodes */
  exitedAsExpected: boolean;
}

/**
 * met: holds now. pending: may still come (starting, backing off, stopping).
 * startable: down (STOPPED, EXITED, FATAL), and would hold if started: a start
 * by hand pulls it in; for a start that only waits, EXITED and FATAL are
 * failures (nothing will bring them back) and STOPPED waits for someone.
 * failed: cannot come at all (UNKNOWN).
 */
export type Verdict = 'met' | 'pending' | 'startable' | 'failed';

export interface Judgement {
  verdict: Verdict;
  /** for people: `db to be healthy (health starting)`, `migrate to exit (RUNNING)` */
  what: string;
}

const wanted: Record<DependencyCondition, string> = { running: 'to be running', healthy: 'to be healthy', exited: 'to exit' };

/**
 * One dependency, as it stands. `view` undefined: the process is not in the
 * running configuration (its group was not added yet): pending.
 */
export function judgeDependency(condition: DependencyCondition, name: string, view: DependencyView | undefined): Judgement {
  const what = (detail: string): string => `${name} ${wanted[condition]} (${detail})`;
  if (!view) return { verdict: 'pending', what: what('not in the running configuration') };
  const state = processStateName(view.state);
  switch (view.state) {
    case ProcessState.RUNNING:
      if (condition === 'running') return { verdict: 'met', what: what(state) };
      if (condition === 'healthy') {
        return view.health === 'healthy' ? { verdict: 'met', what: what('healthy') } : { verdict: 'pending', what: what(`health ${view.health ?? 'off'}`) };
      }
      return { verdict: 'pending', what: what(state) };
    case ProcessState.STARTING:
    case ProcessState.BACKOFF:
    case ProcessState.STOPPING:
      return { verdict: 'pending', what: what(state) };
    case ProcessState.EXITED:
      if (condition === 'exited') {
        return view.exitedAsExpected
          ? { verdict: 'met', what: what('exited as expected') }
          : { verdict: 'startable', what: what('exited with an unexpected status') };
      }
      return { verdict: 'startable', what: what(state) };
    case ProcessState.STOPPED:
    case ProcessState.FATAL:
      return { verdict: 'startable', what: what(state) };
    case ProcessState.UNKNOWN:
    default:
      return { verdict: 'failed', what: what(state) };
  }
}

/** The message a dependent fails with when a dependency cannot come up. */
export function failureMessage(dep: ResolvedDependency, name: string, view: DependencyView | undefined): string {
  if (view && view.state === ProcessState.EXITED) {
    return `dependency ${name} exited${dep.condition === 'exited' ? ' with an unexpected status' : ''} (depends_on ${dep.text})`;
  }
  return `dependency ${name} is ${view ? processStateName(view.state) : 'missing'} (depends_on ${dep.text})`;
}

export interface GraphNode {
  key: string;
  dependencies: readonly ResolvedDependency[];
}

/** Edges both ways between the processes of the running configuration. */
export class DependencyGraph {
  private readonly deps = new Map<string, Array<{ key: string; dep: ResolvedDependency }>>();
  private readonly dependents = new Map<string, Set<string>>();

  constructor(nodes: Iterable<GraphNode>) {
    for (const n of nodes) {
      if (!n.dependencies.length) continue;
      const edges: Array<{ key: string; dep: ResolvedDependency }> = [];
      for (const dep of n.dependencies) {
        for (const p of dep.processes) {
          const key = processKey(p.group, p.name);
          edges.push({ key, dep });
          let set = this.dependents.get(key);
          if (!set) this.dependents.set(key, (set = new Set()));
          set.add(n.key);
        }
      }
      this.deps.set(n.key, edges);
    }
  }

  /** False when no process has depends_on: then nothing may change anywhere. */
  get empty(): boolean {
    return this.deps.size === 0;
  }

  /** Every process key depends on, with the entry that names it. */
  dependenciesOf(key: string): ReadonlyArray<{ key: string; dep: ResolvedDependency }> {
    return this.deps.get(key) ?? [];
  }

  /** The processes that depend on key directly. */
  dependentsOf(key: string): ReadonlySet<string> {
    return this.dependents.get(key) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
