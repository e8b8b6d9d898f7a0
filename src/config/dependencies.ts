// SPDX-License-Identifier: MIT
// depends_on= resolved against the whole file: each entry becomes the
// processes it names (a program's every process, a group's, or one), checked
// for targets that do not exist, for `:healthy` on a process without a health
// check, and for cycles. Like every other config error, a bad entry stops the
// daemon at load with the section and file named; the process/ layer only
// reads ResolvedDependency.
import { pyRepr, ValueError } from './datatypes.js';
import { dependencyText } from './fastvisor-options.js';
import type { DependencySpec, ProcessConfig, ProcessGroupConfig, ResolvedDependency } from './model.js';

interface Located {
  group: ProcessGroupConfig;
  proc: ProcessConfig;
}

/** `[program:x] message (file: 'f')`: the dependent's section and file. */
function fail(proc: ProcessConfig, message: string): never {
  throw new ValueError(`[${proc.section}] depends_on: ${message} (file: ${pyRepr(proc.file)})`);
}

const key = (group: string, name: string): string => `${group}:${name}`;

/**
 * Fills `fastvisor.dependencies` of every process that has depends_on=, from
 * `groups` as loadConfig built them (in their order, which makes the first
 * error reported the same on every load). Throws a ValueError.
 */
export function resolveDependencies(groups: ProcessGroupConfig[]): void {
  const byName = new Map<string, ProcessGroupConfig>();
  // A name may (in principle) be several groups; the first is the one that counts.
  for (const g of groups) if (!byName.has(g.name)) byName.set(g.name, g);
  const byProgram = new Map<string, Located[]>();
  for (const group of groups) {
    for (const proc of group.processes) {
      const list = byProgram.get(proc.program_name) ?? [];
      list.push({ group, proc });
      byProgram.set(proc.program_name, list);
    }
  }

  const resolve = (proc: ProcessConfig, spec: DependencySpec): Located[] => {
    const text = dependencyText(spec);
    const colon = spec.target.indexOf(':');
    if (colon < 0) {
      const found = byProgram.get(spec.target);
      if (found) return found;
      const group = byName.get(spec.target);
      // A [program:a] with numprocs=0 is a program with no processes.
      if (group && group.kind !== 'group') return [];
      const hint = group ? ` (for every process of group '${spec.target}' write '${spec.target}:*')` : '';
      return fail(proc, `unknown program '${spec.target}'${hint}`);
    }
    const groupName = spec.target.slice(0, colon);
    const name = spec.target.slice(colon + 1);
    const group = byName.get(groupName);
    if (group && name === '*') return group.processes.map((p) => ({ group, proc: p }));
    const member = group?.processes.find((p) => p.name === name);
    if (group && member) return [{ group, proc: member }];
    // `db:started`: a misspelt condition of program db, unless db is a [group:db].
    if (/^[a-z]+$/i.test(name) && group?.kind !== 'group' && (byProgram.has(groupName) || group)) {
      return fail(proc, `'${text}': unknown condition '${name}' (use running, healthy or exited)`);
    }
    if (!group) return fail(proc, `'${text}': unknown group '${groupName}'`);
    return fail(proc, `'${text}': group '${groupName}' has no process '${name}'`);
  };

  const all: Located[] = groups.flatMap((group) => group.processes.map((proc) => ({ group, proc })));
  const edges = new Map<string, Located[]>();
  for (const { group, proc } of all) {
    const out: Located[] = [];
    proc.fastvisor.dependencies = proc.fastvisor.depends_on.map((spec): ResolvedDependency => {
      const targets = resolve(proc, spec);
      const text = dependencyText(spec);
      if (spec.condition === 'healthy') {
        const without = targets.find((t) => t.proc.fastvisor.healthcheck === null);
        if (without) fail(proc, `'${text}' needs a healthcheck in [${without.proc.section}]`);
      }
      out.push(...targets);
      return {
        target: spec.target,
        condition: spec.condition,
        text,
        processes: targets.map((t) => ({ group: t.group.name, name: t.proc.name })),
      };
    });
    edges.set(key(group.name, proc.name), out);
  }
  findCycle(all, edges);
}

/** Depth-first from each process in order; the first edge back onto the path is the cycle reported. */
function findCycle(all: Located[], edges: Map<string, Located[]>): void {
  const DONE = 2;
  const ON_PATH = 1;
  const state = new Map<string, number>();
  for (const start of all) {
    const startKey = key(start.group.name, start.proc.name);
    if (state.has(startKey)) continue;
    // The path, each node with the index of its next edge to follow.
    const path: Array<{ at: Located; k: string; next: number }> = [{ at: start, k: startKey, next: 0 }];
    state.set(startKey, ON_PATH);
    while (path.length) {
      const top = path[path.length - 1]!;
      const out = edges.get(top.k) ?? [];
      if (top.next >= out.length) {
        state.set(top.k, DONE);
        path.pop();
        continue;
      }
      const to = out[top.next++]!;
      const toKey = key(to.group.name, to.proc.name);
      const s = state.get(toKey);
      if (s === ON_PATH) {
        const from = path.findIndex((n) => n.k === toKey);
        const cycle = path.slice(from).map((n) => n.at.proc.name);
        fail(path[from]!.at.proc, `dependency cycle: ${[...cycle, to.proc.name].join(' -> ')}`);
      }
      if (s === undefined) {
        state.set(toKey, ON_PATH);
        path.push({ at: to, k: toKey, next: 0 });
      }
    }
  }
}
