// SPDX-License-Identifier: MIT
// depends_on (fastvisor), the driver: holds the starts that wait for their
// dependencies, looks again whenever a dependency changes state or health,
// and answers each waiting machine with dependenciesMet or dependencyFailed.
// A start by hand (or autostart) pulls in what is down; automatic restarts
// only wait. Also: the stop order (dependents first) and restart_dependents.
// The rules themselves are dependencies.ts; this file only applies them.
import type { MainLog } from '../log/main-log.js';
import { DependencyGraph, failureMessage, judgeDependency, type DependencyView } from './dependencies.js';
import type { MachineEvent } from './machine.js';
import { ProcessState, STOPPED_STATES, SupervisorState } from './states.js';
import type { Subprocess } from './subprocess.js';

interface Waiter {
  proc: Subprocess;
  /** a start by hand or autostart: dependencies that are down were started for it */
  pulled: Set<string>;
}

export class DependencyGate {
  private graph = new DependencyGraph([]);
  private readonly waiting = new Map<string, Waiter>();
  /** restart_dependents: dependency key -> the dependents its stop by hand stopped (they start again with it) */
  private readonly stoppedWith = new Map<string, Set<string>>();

  constructor(
    /** the live process with this key, if its group is in the running configuration */
    private readonly find: (key: string) => Subprocess | undefined,
    private readonly log: MainLog,
    private readonly mood: () => SupervisorState,
  ) {}

  /** The running configuration changed (start, add, remove): edges anew. */
  rebuild(processes: Iterable<Subprocess>): void {
    const nodes = [];
    for (const p of processes) nodes.push({ key: p.key, dependencies: p.config.fastvisor.dependencies });
    this.graph = new DependencyGraph(nodes);
    for (const [key, w] of this.waiting) if (this.find(key) !== w.proc) this.waiting.delete(key);
  }

  /** No depends_on anywhere: every answer is the supervisord one. */
  get inactive(): boolean {
    return this.graph.empty;
  }

  /**
   * The machine's awaitDependencies effect: the answer now (fed at once), or
   * null when it waits. With pull, dependencies that are down are started.
   */
  request(proc: Subprocess, pull: boolean): MachineEvent | null {
    const w: Waiter = { proc, pulled: new Set() };
    let answer = this.evaluate(w, pull);
    // A dependency started just now may have failed at once (its own
    // dependency is FATAL): look once more before waiting for changes.
    if (!answer && w.pulled.size) answer = this.evaluate(w, false);
    if (!answer) this.waiting.set(proc.key, w);
    return answer;
  }

  private evaluate(w: Waiter, pull: boolean): MachineEvent | null {
    let met = true;
    for (const { key, dep } of this.graph.dependenciesOf(w.proc.key)) {
      const d = this.find(key);
      const name = d?.name ?? key;
      const view = d && viewOf(d);
      const j = judgeDependency(dep.condition, name, view);
      if (j.verdict === 'met') continue;
      met = false;
      const failed = { kind: 'dependencyFailed', message: failureMessage(dep, name, view) } as const;
      if (j.verdict === 'failed') return failed;
      if (j.verdict !== 'startable' || !d) continue;
      if (w.pulled.has(key)) return failed; // started for this start, and down again
      if (pull) {
        w.pulled.add(key);
        this.log.info(`starting ${name}: ${w.proc.name} depends on it`);
        d.feed({ kind: 'start' });
      } else if (view?.state === ProcessState.EXITED || view?.state === ProcessState.FATAL) {
        // It gave up, or exited and did not restart itself: nothing will bring it back.
        return failed;
      }
      // STOPPED and not pulled: it waits until someone starts it.
    }
    return met ? { kind: 'dependenciesMet' } : null;
  }

  /** A process changed state or health: its waiting dependents look again; restart_dependents acts. */
  changed(proc: Subprocess, from?: string): void {
    if (this.graph.empty) return;
    const dependents = this.graph.dependentsOf(proc.key);
    if (!dependents.size) return;
    for (const key of dependents) {
      const w = this.waiting.get(key);
      if (!w) continue;
      if (!w.proc.status.waiting) {
        this.waiting.delete(key);
        continue;
      }
      const answer = this.evaluate(w, false);
      if (!answer) continue;
      this.waiting.delete(key);
      w.proc.feed(answer);
    }
    if (!proc.config.fastvisor.restart_dependents) return;
    if (from === 'RUNNING') this.propagate(proc, dependents);
    else if (proc.state === ProcessState.STARTING && from !== undefined) this.restartStopped(proc);
  }

  // The dependency starts again after a stop by hand (`supervisorctl restart db`
  // is a stop and a start): the dependents that stop stopped come back with it.
  private restartStopped(proc: Subprocess): void {
    const keys = this.stoppedWith.get(proc.key);
    if (!keys) return;
    this.stoppedWith.delete(proc.key);
    if (this.mood() < SupervisorState.RUNNING) return;
    for (const key of keys) {
      const d = this.find(key);
      if (d && d.state === ProcessState.STOPPED) {
        this.log.info(`starting ${d.name}: ${proc.name} is starting again (restart_dependents)`);
        d.feed({ kind: 'start' });
      }
    }
  }

  // restart_dependents: the dependency left RUNNING. An exit on its own or a
  // restart restarts its dependents (they then wait for it again); a stop by
  // hand stops them, and they start again when it does. Shutdown and reload
  // order their own stops.
  private propagate(proc: Subprocess, dependents: ReadonlySet<string>): void {
    if (this.mood() < SupervisorState.RUNNING) return;
    const stopped = proc.state === ProcessState.STOPPING && !proc.status.restarting;
    for (const key of dependents) {
      const d = this.find(key);
      if (!d) continue;
      if (stopped) {
        if (d.state === ProcessState.RUNNING || d.state === ProcessState.STARTING || d.state === ProcessState.BACKOFF) {
          this.log.info(`stopping ${d.name}: ${proc.name} is stopping (restart_dependents)`);
          d.feed({ kind: 'stop' });
          let set = this.stoppedWith.get(proc.key);
          if (!set) this.stoppedWith.set(proc.key, (set = new Set()));
          set.add(key);
        }
      } else if (d.state === ProcessState.RUNNING || (d.state === ProcessState.STARTING && d.pid)) {
        d.feed({ kind: 'restart', reason: `${proc.name} restarted (restart_dependents)` });
      }
    }
  }

  /** `waiting for db to be healthy (health starting), migrate to exit (RUNNING)`; null when not waiting. */
  note(proc: Subprocess): string | null {
    if (!proc.status.waiting) return null;
    const parts: string[] = [];
    for (const { key, dep } of this.graph.dependenciesOf(proc.key)) {
      const d = this.find(key);
      const j = judgeDependency(dep.condition, d?.name ?? key, d && viewOf(d));
      if (j.verdict !== 'met') parts.push(j.what);
    }
    return parts.length ? `waiting for ${parts.join(', ')}` : 'waiting for its dependencies';
  }

  /** stop all / a group: one of `among` whose dependents in `among` still run waits. */
  holdsBack(proc: Subprocess, among: ReadonlySet<Subprocess>): boolean {
    for (const key of this.graph.dependentsOf(proc.key)) {
      const d = this.find(key);
      if (d && among.has(d) && !STOPPED_STATES.includes(d.state)) return true;
    }
    return false;
  }

  /** Shutdown, stop all: a process stops only after everything that depends on it has. */
  mayStop(proc: Subprocess): boolean {
    if (this.graph.empty) return true;
    for (const key of this.graph.dependentsOf(proc.key)) {
      const d = this.find(key);
      if (d && !STOPPED_STATES.includes(d.state)) return false;
    }
    return true;
  }
}

function viewOf(p: Subprocess): DependencyView {
  return {
    name: p.name,
    state: p.state,
    health: p.health,
    exitedAsExpected: p.state === ProcessState.EXITED && p.status.exitstatus !== null && p.config.exitcodes.includes(p.status.exitstatus),
  };
}

