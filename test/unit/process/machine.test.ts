// SPDX-License-Identifier: MIT
// The process state machine against process.py's rules, driven through a
// FakeClock: what it logs, emits, spawns and kills, in order. No processes.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

import { FakeClock, type Timer } from '../../../src/process/clock.js';
import {
  backoffInUse,
  backoffNote,
  backoffWait,
  decodeWaitStatus,
  defaultBackoff,
  FOREVER,
  humanDuration,
  initialStatus,
  interpretProcessInfo,
  processInfo,
  signame,
  step,
  transitions,
  type BackoffOptions,
  type Effect,
  type InfoForDescription,
  type MachineConfig,
  type MachineEvent,
  type ProcessStatus,
} from '../../../src/process/machine.js';
import { ProcessState, SupervisorState } from '../../../src/process/states.js';
import { python } from '../../helpers/python.js';

const SIGHUP = 1;
const SIGKILL = 9;
const SIGTERM = 15;
const SIGSEGV = 11;

// supervisord's defaults (options.py), for a program called web.
const defaults: MachineConfig = {
  name: 'web',
  autostart: true,
  autorestart: 'unexpected',
  startsecs: 1,
  startretries: 3,
  exitcodes: [0],
  stopsignal: SIGTERM,
  stopwaitsecs: 10,
  stopasgroup: false,
  killasgroup: false,
};

type SpawnOutcome = { pid: number } | { error: string };
const levels = { critical: 'CRIT', warn: 'WARN', info: 'INFO', debug: 'DEBG' } as const;

/**
 * What subprocess.ts will be, minus native: carries out effects in order,
 * feeds the spawn's result after the step, arms one timer on the FakeClock.
 * Everything observable goes into `lines`, rendered like the main log and the
 * event payloads.
 */
class Harness {
  readonly clock = new FakeClock();
  readonly config: MachineConfig;
  status: ProcessStatus = initialStatus;
  lines: string[] = [];
  spawnTimes: number[] = [];
  /** results for the next spawns; after them, pids 42, 43, … */
  outcomes: SpawnOutcome[] = [];
  /** make every kill effect fail like this */
  killFailure: { code: string; message: string } | null = null;
  /** the random number every step gets (backoff_jitter) */
  random = 0;
  private nextPid = 42;
  private timer: Timer | null = null;
  private queue: MachineEvent[] = [];
  private busy = false;

  constructor(config: Partial<MachineConfig> = {}) {
    this.config = { ...defaults, ...config };
  }

  get state(): ProcessState {
    return this.status.state;
  }

  /** Feed one event; returns the error of its own step (kill()/signal()'s string). */
  send(event: MachineEvent): string | null {
    this.queue.push(event);
    if (this.busy) return null;
    this.busy = true;
    let error: string | null | undefined;
    while (this.queue.length > 0) {
      const next = this.queue.shift()!;
      const result = step(this.config, this.status, next, this.clock.now(), this.random);
      this.status = result.status;
      if (error === undefined) error = result.error;
      for (const effect of result.effects) this.apply(effect);
    }
    this.busy = false;
    return error ?? null;
  }

  private apply(effect: Effect): void {
    switch (effect.kind) {
      case 'spawn': {
        this.lines.push('spawn');
        this.spawnTimes.push(this.clock.now());
        const outcome = this.outcomes.shift() ?? { pid: this.nextPid++ };
        this.queue.push('pid' in outcome ? { kind: 'spawned', pid: outcome.pid } : { kind: 'spawnFailed', message: outcome.error });
        break;
      }
      case 'kill':
        this.lines.push(`kill ${effect.group ? '-' : ''}${effect.pid} ${signame(effect.signal)}`);
        if (this.killFailure) this.queue.push({ kind: 'killFailed', purpose: effect.purpose, ...this.killFailure });
        break;
      case 'startTimer':
        this.timer?.cancel();
        this.timer = this.clock.setTimer(effect.at, () => this.send({ kind: 'tick' }));
        break;
      case 'cancelTimer':
        this.timer?.cancel();
        this.timer = null;
        break;
      case 'emit':
        this.lines.push(`${effect.event} from_state:${effect.from_state}${effect.extra.map(([k, v]) => ` ${k}:${v}`).join('')}`);
        break;
      case 'log':
        this.lines.push(`${levels[effect.level]} ${effect.message}`);
        break;
      case 'awaitDependencies':
        this.lines.push(`awaitDependencies pull:${effect.pull}`);
        break;
    }
  }

  start(): string | null {
    return this.send({ kind: 'start' });
  }
  stop(): string | null {
    return this.send({ kind: 'stop' });
  }
  exit(code: number, pid = this.status.pid): void {
    this.send({ kind: 'exited', pid, code, signal: null });
  }
  die(signal: number, pid = this.status.pid): void {
    this.send({ kind: 'exited', pid, code: null, signal });
  }
  advance(ms: number): this {
    this.clock.advance(ms);
    return this;
  }
  /** The lines since the last take. */
  take(): string[] {
    const out = this.lines;
    this.lines = [];
    return out;
  }
  info(): ReturnType<typeof processInfo> {
    return processInfo(this.config, this.status, this.clock.now(), this.clock.wall());
  }
  /** getProcessInfo's description as Subprocess.describe() puts it together: supervisord's, then the backoff note. */
  description(): string {
    const base = this.info().description;
    const note = backoffNote(this.config, this.status, this.clock.now());
    if (!note) return base;
    return base ? `${base}; ${note}` : note;
  }
  /** Advance to the armed timer, if any. */
  toTimer(): this {
    const at = this.clock.nextAt();
    if (at !== null) this.advance(at - this.clock.now());
    return this;
  }
  /** Started and past startsecs, lines cleared. */
  running(): this {
    this.start();
    this.advance(this.config.startsecs * 1000);
    expect(this.state).toBe(ProcessState.RUNNING);
    this.take();
    return this;
  }
}

const GAVE_UP = 'INFO gave up: web entered FATAL state, too many start retries too quickly';
const SUCCESS = 'INFO success: web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)';

describe('start (spawn, transition)', () => {
  it('STOPPED -> STARTING when autostart=true, on the first transition pass', () => {
    const h = new Harness();
    h.send({ kind: 'tick' });
    expect(h.take()).toEqual([
      'PROCESS_STATE_STARTING from_state:STOPPED tries:0',
      'spawn',
      "INFO spawned: 'web' with pid 42",
    ]);
    expect(h.state).toBe(ProcessState.STARTING);
    expect(h.status.pid).toBe(42);
    expect(h.clock.nextAt()).toBe(1000);
  });

  it('STOPPED stays STOPPED when autostart=false', () => {
    const h = new Harness({ autostart: false });
    h.send({ kind: 'tick' });
    expect(h.take()).toEqual([]);
    expect(h.info().description).toBe('Not started');
  });

  it('autostart happens once: a process stopped by hand is not started again by transition()', () => {
    const h = new Harness().running();
    h.stop();
    h.die(SIGTERM);
    h.take();
    h.send({ kind: 'tick' });
    expect(h.take()).toEqual([]);
    expect(h.state).toBe(ProcessState.STOPPED);
  });

  it('STOPPED -> STARTING on start (startProcess)', () => {
    const h = new Harness({ autostart: false });
    expect(h.start()).toBeNull();
    expect(h.take()).toEqual([
      'PROCESS_STATE_STARTING from_state:STOPPED tries:0',
      'spawn',
      "INFO spawned: 'web' with pid 42",
    ]);
  });

  it('STARTING -> RUNNING when the process has stayed up for startsecs, not before', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.take();
    h.advance(999);
    expect(h.state).toBe(ProcessState.STARTING);
    h.advance(1);
    expect(h.take()).toEqual(['PROCESS_STATE_RUNNING from_state:STARTING pid:42', SUCCESS]);
    expect(h.clock.pending()).toBe(0);
  });

  it('the wall clock stepping back an hour, then forward a day, while STARTING: RUNNING after startsecs all the same', () => {
    // Decisions are made on the monotonic clock (supervisord needs its clock-rollback
    // check for this); only reports use wall time.
    const h = new Harness({ autostart: false });
    h.start();
    h.take();
    h.advance(500);
    h.clock.stepWall(-3_600_000);
    h.advance(499);
    h.clock.stepWall(86_400_000);
    expect(h.state).toBe(ProcessState.STARTING);
    h.advance(1);
    expect(h.take()).toEqual(['PROCESS_STATE_RUNNING from_state:STARTING pid:42', SUCCESS]);
  });

  it('the machine and its process decisions never read the wall clock', () => {
    for (const file of ['machine.ts', 'subprocess.ts', 'supervisor.ts', 'group.ts', 'schedule.ts']) {
      const text = readFileSync(new URL(`../../../src/process/${file}`, import.meta.url), 'utf8');
      expect([file, text.match(/Date\.now\(\)|new Date\(\)|performance\.timeOrigin/g)]).toEqual([file, null]);
    }
  });

  it('STARTING -> RUNNING at once when startsecs=0', () => {
    const h = new Harness({ autostart: false, startsecs: 0 });
    h.start();
    expect(h.take()).toEqual([
      'PROCESS_STATE_STARTING from_state:STOPPED tries:0',
      'spawn',
      "INFO spawned: 'web' with pid 42",
      'PROCESS_STATE_RUNNING from_state:STARTING pid:42',
      'INFO success: web entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)',
    ]);
  });

  it('startsecs counts from spawn(), so uptime is pid 42, uptime 0:01:05 after 65 s', () => {
    const h = new Harness().running();
    h.advance(64_000);
    expect(h.info()).toMatchObject({ state: ProcessState.RUNNING, statename: 'RUNNING', pid: 42, description: 'pid 42, uptime 0:01:05' });
  });

  it("start of a RUNNING process only warns: process 'web' already running", () => {
    const h = new Harness().running();
    h.start();
    expect(h.take()).toEqual(["WARN process 'web' already running"]);
    expect(h.state).toBe(ProcessState.RUNNING);
  });
});

describe('spawn errors, BACKOFF and FATAL', () => {
  it("STARTING -> BACKOFF when spawn fails: spawnerr: can't find command 'x'", () => {
    const h = new Harness({ autostart: false });
    h.outcomes.push({ error: "can't find command 'x'" });
    h.start();
    expect(h.take()).toEqual([
      'PROCESS_STATE_STARTING from_state:STOPPED tries:0',
      'spawn',
      "INFO spawnerr: can't find command 'x'",
      'PROCESS_STATE_BACKOFF from_state:STARTING tries:1',
    ]);
    expect(h.info()).toMatchObject({
      statename: 'BACKOFF',
      spawnerr: "can't find command 'x'",
      description: "can't find command 'x'",
      pid: 0,
    });
  });

  it('STARTING -> BACKOFF when the process exits before startsecs, even with an exit code in exitcodes', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.advance(500);
    h.take();
    h.exit(0);
    expect(h.take()).toEqual(['PROCESS_STATE_BACKOFF from_state:STARTING tries:1', 'WARN exited: web (exit status 0; not expected)']);
    expect(h.info()).toMatchObject({
      spawnerr: 'Exited too quickly (process log may have details)',
      description: 'Exited too quickly (process log may have details)',
      exitstatus: 0,
      pid: 0,
    });
    expect(h.status.exitstatus).toBeNull();
  });

  it('BACKOFF -> STARTING after a delay that grows one second per try', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.advance(200).exit(1);
    h.take();
    h.advance(999);
    expect(h.state).toBe(ProcessState.BACKOFF);
    h.advance(1);
    expect(h.take()).toEqual(['PROCESS_STATE_STARTING from_state:BACKOFF tries:1', 'spawn', "INFO spawned: 'web' with pid 43"]);
    h.advance(200).exit(1);
    h.advance(1999);
    expect(h.state).toBe(ProcessState.BACKOFF);
    h.advance(1);
    expect(h.state).toBe(ProcessState.STARTING);
    expect(h.spawnTimes).toEqual([0, 1200, 3400]);
  });

  it('BACKOFF -> FATAL when the backoff count passes startretries: startretries+1 attempts', () => {
    const h = new Harness({ autostart: false });
    h.start();
    const tries: string[] = [];
    while (h.state !== ProcessState.FATAL) {
      h.exit(1);
      const at = h.clock.nextAt();
      if (at !== null) h.advance(at - h.clock.now());
      tries.push(...h.take().filter((l) => l.startsWith('PROCESS_STATE_STARTING')));
    }
    expect(h.spawnTimes).toEqual([0, 1000, 3000, 6000]);
    expect(tries).toEqual([
      'PROCESS_STATE_STARTING from_state:STOPPED tries:0',
      'PROCESS_STATE_STARTING from_state:BACKOFF tries:1',
      'PROCESS_STATE_STARTING from_state:BACKOFF tries:2',
      'PROCESS_STATE_STARTING from_state:BACKOFF tries:3',
    ]);
    expect(h.status.backoff).toBe(0);
    expect(h.clock.pending()).toBe(0);
    expect(h.info().description).toBe('Exited too quickly (process log may have details)');
  });

  it('BACKOFF -> FATAL: the last exit, then gave up: web entered FATAL state', () => {
    const h = new Harness({ autostart: false, startretries: 0 });
    h.start();
    h.take();
    h.exit(1);
    expect(h.take()).toEqual([
      'PROCESS_STATE_BACKOFF from_state:STARTING tries:1',
      'WARN exited: web (exit status 1; not expected)',
      'PROCESS_STATE_FATAL from_state:BACKOFF',
      GAVE_UP,
    ]);
    expect(h.spawnTimes).toEqual([0]);
  });

  it('BACKOFF -> FATAL after spawn errors on every try', () => {
    const h = new Harness({ autostart: false, startretries: 1 });
    h.outcomes.push({ error: "can't find command 'x'" }, { error: "can't find command 'x'" });
    h.start();
    h.advance(1000);
    expect(h.take().slice(-4)).toEqual([
      "INFO spawnerr: can't find command 'x'",
      'PROCESS_STATE_BACKOFF from_state:STARTING tries:2',
      'PROCESS_STATE_FATAL from_state:BACKOFF',
      GAVE_UP,
    ]);
    expect(h.info()).toMatchObject({ statename: 'FATAL', description: "can't find command 'x'" });
  });

  it('FATAL -> STARTING on start, with tries from 0', () => {
    const h = new Harness({ autostart: false, startretries: 0 });
    h.start();
    h.exit(1);
    h.take();
    h.start();
    expect(h.take()[0]).toBe('PROCESS_STATE_STARTING from_state:FATAL tries:0');
    expect(h.info().spawnerr).toBe('');
  });

  it('a child that fails after fork (exec, chdir, setuid) is spawned, then exit status 127 too quickly', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.exit(127);
    expect(h.take()).toEqual([
      'PROCESS_STATE_STARTING from_state:STOPPED tries:0',
      'spawn',
      "INFO spawned: 'web' with pid 42",
      'PROCESS_STATE_BACKOFF from_state:STARTING tries:1',
      'WARN exited: web (exit status 127; not expected)',
    ]);
  });
});

describe('exits (finish) and autorestart', () => {
  it('RUNNING -> EXITED (exit status 0; expected), no restart when autorestart=unexpected', () => {
    const h = new Harness().running();
    h.advance(5000).exit(0);
    expect(h.take()).toEqual(['PROCESS_STATE_EXITED from_state:RUNNING expected:1 pid:42', 'INFO exited: web (exit status 0; expected)']);
    expect(h.info()).toMatchObject({ statename: 'EXITED', exitstatus: 0, spawnerr: '', pid: 0 });
    expect(h.info().description).toMatch(/^[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M$/);
  });

  it('EXITED -> STARTING when autorestart=unexpected and exit code not in exitcodes, with no delay', () => {
    const h = new Harness().running();
    h.advance(5000).exit(3);
    expect(h.take()).toEqual([
      'PROCESS_STATE_EXITED from_state:RUNNING expected:0 pid:42',
      'WARN exited: web (exit status 3; not expected)',
      'PROCESS_STATE_STARTING from_state:EXITED tries:0',
      'spawn',
      "INFO spawned: 'web' with pid 43",
    ]);
    expect(h.spawnTimes).toEqual([0, 6000]);
  });

  it('spawnerr Bad exit code N stays until the next spawn', () => {
    const h = new Harness({ autorestart: 'false' }).running();
    h.exit(3);
    expect(h.info()).toMatchObject({ statename: 'EXITED', spawnerr: 'Bad exit code 3', exitstatus: 3 });
    h.start();
    expect(h.info()).toMatchObject({ statename: 'STARTING', spawnerr: '', exitstatus: 0 });
  });

  it('EXITED -> STARTING when autorestart=true, even for an expected exit', () => {
    const h = new Harness({ autorestart: 'true' }).running();
    h.exit(0);
    expect(h.take().slice(2, 4)).toEqual(['PROCESS_STATE_STARTING from_state:EXITED tries:0', 'spawn']);
  });

  it('EXITED stays EXITED when autorestart=false, even for an unexpected exit', () => {
    const h = new Harness({ autorestart: 'false' }).running();
    h.exit(1);
    h.send({ kind: 'tick' });
    expect(h.take()).toEqual([
      'PROCESS_STATE_EXITED from_state:RUNNING expected:0 pid:42',
      'WARN exited: web (exit status 1; not expected)',
    ]);
  });

  it('exitcodes=0,2: exit status 2 is expected', () => {
    const h = new Harness({ exitcodes: [0, 2] }).running();
    h.exit(2);
    expect(h.take()).toEqual(['PROCESS_STATE_EXITED from_state:RUNNING expected:1 pid:42', 'INFO exited: web (exit status 2; expected)']);
  });

  it('exited: web (terminated by SIGSEGV (core dumped); not expected): a signal death is exit status -1', () => {
    const h = new Harness({ autorestart: 'false' }).running();
    h.send({ kind: 'exited', pid: 42, code: null, signal: SIGSEGV, coreDumped: true });
    expect(h.take()).toEqual([
      'PROCESS_STATE_EXITED from_state:RUNNING expected:0 pid:42',
      'WARN exited: web (terminated by SIGSEGV (core dumped); not expected)',
    ]);
    expect(h.info()).toMatchObject({ exitstatus: -1, spawnerr: 'Bad exit code -1' });
  });

  it('a crash after RUNNING restarts at once with tries:0 (backoff resets on RUNNING)', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.exit(1);
    h.advance(1000);
    expect(h.status.backoff).toBe(1);
    h.advance(1000);
    expect(h.state).toBe(ProcessState.RUNNING);
    expect(h.status.backoff).toBe(0);
    h.take();
    h.exit(1);
    expect(h.take()[2]).toBe('PROCESS_STATE_STARTING from_state:EXITED tries:0');
  });

  it('startsecs=0: every exit counts as after RUNNING and restarts at once, never FATAL (#1285)', () => {
    const h = new Harness({ startsecs: 0, startretries: 0 });
    h.send({ kind: 'tick' });
    for (let i = 0; i < 5; i++) h.exit(1);
    expect(h.spawnTimes).toEqual([0, 0, 0, 0, 0, 0]);
    expect(h.state).toBe(ProcessState.RUNNING);
  });

  it('STARTING -> RUNNING -> EXITED when the exit comes at startsecs, before the tick that says so', () => {
    const config = { ...defaults, autorestart: 'false' as const };
    let s = step(config, initialStatus, { kind: 'start' }, 0).status;
    s = step(config, s, { kind: 'spawned', pid: 42 }, 0).status;
    const r = step(config, s, { kind: 'exited', pid: 42, code: 0, signal: null }, 1000);
    expect(r.effects.filter((e) => e.kind === 'emit' || e.kind === 'log')).toEqual([
      { kind: 'emit', event: 'PROCESS_STATE_RUNNING', from_state: 'STARTING', expected: true, extra: [['pid', 42]] },
      { kind: 'emit', event: 'PROCESS_STATE_EXITED', from_state: 'RUNNING', expected: true, extra: [['expected', 1], ['pid', 42]] },
      { kind: 'log', level: 'info', message: 'exited: web (exit status 0; expected)' },
    ]);
    expect(r.effects).toContainEqual({ kind: 'cancelTimer' });
  });

  it('reaped unknown pid 99 (exit status 0): an exit that is not the child changes nothing', () => {
    const h = new Harness().running();
    h.exit(0, 99);
    expect(h.take()).toEqual(['INFO reaped unknown pid 99 (exit status 0)']);
    expect(h.state).toBe(ProcessState.RUNNING);
    const stopped = new Harness({ autostart: false });
    stopped.die(SIGKILL, 7);
    expect(stopped.take()).toEqual(['INFO reaped unknown pid 7 (terminated by SIGKILL)']);
    expect(stopped.state).toBe(ProcessState.STOPPED);
  });
});

describe('stop (stop, kill, stop_all)', () => {
  it('RUNNING -> STOPPING -> STOPPED: stopsignal, then stopped: web (terminated by SIGTERM) as a WARN', () => {
    const h = new Harness().running();
    expect(h.stop()).toBeNull();
    expect(h.take()).toEqual([
      'DEBG killing web (pid 42) with signal SIGTERM',
      'PROCESS_STATE_STOPPING from_state:RUNNING pid:42',
      'kill 42 SIGTERM',
    ]);
    expect(h.status.killing).toBe(true);
    expect(h.info().description).toBe('');
    h.advance(300).die(SIGTERM);
    expect(h.take()).toEqual(['PROCESS_STATE_STOPPED from_state:STOPPING pid:42', 'WARN stopped: web (terminated by SIGTERM)']);
    expect(h.info()).toMatchObject({ statename: 'STOPPED', exitstatus: -1, pid: 0 });
    expect(h.status.killing).toBe(false);
    expect(h.clock.pending()).toBe(0);
  });

  it('stopped: web (exit status 0) is an INFO line when the exit status is in exitcodes', () => {
    const h = new Harness().running();
    h.stop();
    h.take();
    h.exit(0);
    expect(h.take()).toEqual(['PROCESS_STATE_STOPPED from_state:STOPPING pid:42', 'INFO stopped: web (exit status 0)']);
  });

  it("STOPPING: killing 'web' (42) with SIGKILL after stopwaitsecs", () => {
    const h = new Harness().running();
    h.stop();
    h.take();
    h.advance(9999);
    expect(h.take()).toEqual([]);
    h.advance(1);
    expect(h.take()).toEqual(["WARN killing 'web' (42) with SIGKILL", 'DEBG killing web (pid 42) with signal SIGKILL', 'kill 42 SIGKILL']);
    expect(h.state).toBe(ProcessState.STOPPING);
    h.die(SIGKILL);
    expect(h.take()).toEqual(['PROCESS_STATE_STOPPED from_state:STOPPING pid:42', 'WARN stopped: web (terminated by SIGKILL)']);
  });

  it('STOPPING: SIGKILL goes again every stopwaitsecs until the process is reaped', () => {
    const h = new Harness({ stopwaitsecs: 2 }).running();
    h.stop();
    h.take();
    h.advance(6000);
    expect(h.take().filter((l) => l.startsWith('kill'))).toEqual(['kill 42 SIGKILL', 'kill 42 SIGKILL', 'kill 42 SIGKILL']);
  });

  for (const stopwaitsecs of [0, -5]) {
    it(`STOPPING with stopwaitsecs=${stopwaitsecs}: SIGKILL at once, then at most once a second until reaped`, () => {
      const h = new Harness({ stopwaitsecs }).running();
      h.stop();
      expect(h.take().filter((l) => l.startsWith('kill') || l.startsWith('WARN'))).toEqual([
        'kill 42 SIGTERM',
        "WARN killing 'web' (42) with SIGKILL",
        'kill 42 SIGKILL',
      ]);
      h.advance(999);
      expect(h.take()).toEqual([]);
      h.advance(2001);
      expect(h.take().filter((l) => l.startsWith('kill'))).toEqual(['kill 42 SIGKILL', 'kill 42 SIGKILL', 'kill 42 SIGKILL']);
      h.die(SIGKILL);
      expect(h.state).toBe(ProcessState.STOPPED);
    });
  }

  it('stopasgroup=true sends stopsignal to the process group, and killasgroup decides for SIGKILL', () => {
    const both = new Harness({ stopasgroup: true, killasgroup: true }).running();
    both.stop();
    both.advance(10_000);
    expect(both.take().filter((l) => l.startsWith('kill') || l.startsWith('DEBG'))).toEqual([
      'DEBG killing web (pid 42) process group with signal SIGTERM',
      'kill -42 SIGTERM',
      'DEBG killing web (pid 42) process group with signal SIGKILL',
      'kill -42 SIGKILL',
    ]);
    const killOnly = new Harness({ stopasgroup: false, killasgroup: true }).running();
    killOnly.stop();
    killOnly.advance(10_000);
    expect(killOnly.take().filter((l) => l.startsWith('kill'))).toEqual(['kill 42 SIGTERM', 'kill -42 SIGKILL']);
  });

  it('STARTING -> STOPPING: a stop within startsecs never reaches RUNNING', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.advance(500);
    h.take();
    h.stop();
    expect(h.take()[1]).toBe('PROCESS_STATE_STOPPING from_state:STARTING pid:42');
    h.advance(600);
    expect(h.state).toBe(ProcessState.STOPPING);
    h.die(SIGTERM);
    expect(h.take()).toEqual(['PROCESS_STATE_STOPPED from_state:STOPPING pid:42', 'WARN stopped: web (terminated by SIGTERM)']);
  });

  it('STOPPING -> STOPPED on any exit: no EXITED and no restart, even with autorestart=true', () => {
    const h = new Harness({ autorestart: 'true' }).running();
    h.stop();
    h.take();
    h.exit(1);
    expect(h.take()).toEqual(['PROCESS_STATE_STOPPED from_state:STOPPING pid:42', 'WARN stopped: web (exit status 1)']);
    expect(h.spawnTimes).toEqual([0]);
  });

  it('BACKOFF -> STOPPED: a stop cancels the retries', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.advance(100).exit(1);
    h.take();
    expect(h.stop()).toBeNull();
    expect(h.take()).toEqual(['DEBG Attempted to kill web, which is in BACKOFF state.', 'PROCESS_STATE_STOPPED from_state:BACKOFF pid:0']);
    expect(h.clock.pending()).toBe(0);
    h.advance(60_000);
    expect(h.spawnTimes).toEqual([0]);
    expect(h.info().stop).toBe(h.info().now - 60);
  });

  it('a start after BACKOFF -> STOPPED goes on counting tries', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.exit(1);
    h.stop();
    h.take();
    h.start();
    expect(h.take()[0]).toBe('PROCESS_STATE_STARTING from_state:STOPPED tries:1');
  });

  it('process was not running: stop of a STOPPED, EXITED or FATAL process changes nothing', () => {
    const message = "attempted to kill web with sig SIGTERM but it wasn't running";
    const stopped = new Harness({ autostart: false });
    expect(stopped.stop()).toBe(message);
    expect(stopped.take()).toEqual([`DEBG ${message}`]);

    const exited = new Harness({ autorestart: 'false' }).running();
    exited.exit(0);
    exited.take();
    expect(exited.stop()).toBe(message);
    expect(exited.state).toBe(ProcessState.EXITED);

    const fatal = new Harness({ autostart: false, startretries: 0 });
    fatal.start();
    fatal.exit(1);
    expect(fatal.stop()).toBe(message);
    expect(fatal.state).toBe(ProcessState.FATAL);
  });

  it('STOPPING -> STOPPING on a second stop: killasgroup decides and stopwaitsecs starts over', () => {
    const h = new Harness({ killasgroup: true }).running();
    h.stop();
    h.advance(5000);
    h.take();
    h.stop();
    expect(h.take()).toEqual(['DEBG killing web (pid 42) process group with signal SIGTERM', 'kill -42 SIGTERM']);
    h.advance(9999);
    expect(h.take()).toEqual([]);
    h.advance(1);
    expect(h.take()).toContain('kill -42 SIGKILL');
  });

  it('waiting for web to stop, at most every 2 seconds (stop_report)', () => {
    const h = new Harness().running();
    h.send({ kind: 'stopReport' });
    h.stop();
    h.take();
    const reports: number[] = [];
    for (let t = 0; t <= 5000; t += 500) {
      h.send({ kind: 'stopReport' });
      if (h.take().includes('INFO waiting for web to stop')) reports.push(t);
      h.advance(500);
    }
    expect(reports).toEqual([0, 2500, 5000]);
  });

  it('stop_all(): RUNNING -> STOPPING, STARTING -> STOPPING, BACKOFF -> FATAL without the gave up line', () => {
    const running = new Harness().running();
    running.send({ kind: 'stopAll' });
    expect(running.state).toBe(ProcessState.STOPPING);
    running.send({ kind: 'stopAll' });
    expect(running.take().filter((l) => l.startsWith('kill'))).toEqual(['kill 42 SIGTERM']);

    const starting = new Harness();
    starting.send({ kind: 'tick' });
    starting.send({ kind: 'stopAll' });
    expect(starting.state).toBe(ProcessState.STOPPING);

    const backoff = new Harness({ autostart: false });
    backoff.start();
    backoff.exit(1);
    backoff.take();
    backoff.send({ kind: 'stopAll' });
    expect(backoff.take()).toEqual(['PROCESS_STATE_FATAL from_state:BACKOFF']);
    expect(backoff.status.backoff).toBe(0);

    for (const h of [new Harness({ autostart: false }), new Harness({ autorestart: 'false' }).running()]) {
      if (h.state === ProcessState.RUNNING) h.exit(0);
      const before = h.state;
      h.take();
      h.send({ kind: 'stopAll' });
      expect(h.take()).toEqual([]);
      expect(h.state).toBe(before);
    }
  });

  it('the stop signal finds the process gone (ESRCH): a DEBG line, and the exit comes through finish()', () => {
    const h = new Harness().running();
    h.killFailure = { code: 'ESRCH', message: '[Errno 3] No such process' };
    h.stop();
    expect(h.take().at(-1)).toBe('DEBG unable to signal web (pid 42), it probably just exited on its own: [Errno 3] No such process');
    expect(h.state).toBe(ProcessState.STOPPING);
    h.die(SIGTERM);
    expect(h.state).toBe(ProcessState.STOPPED);
  });
});

describe('signal (signalProcess)', () => {
  it('sends the signal to the pid only and changes nothing else', () => {
    const h = new Harness({ stopasgroup: true, killasgroup: true }).running();
    expect(h.send({ kind: 'signal', signal: SIGHUP })).toBeNull();
    expect(h.take()).toEqual(['DEBG sending web (pid 42) sig SIGHUP', 'kill 42 SIGHUP']);
    expect(h.state).toBe(ProcessState.RUNNING);
  });

  it("signal to a BACKOFF process: attempted to send web sig SIGHUP but it wasn't running", () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.exit(1);
    h.take();
    const message = "attempted to send web sig SIGHUP but it wasn't running";
    expect(h.send({ kind: 'signal', signal: SIGHUP })).toBe(message);
    expect(h.take()).toEqual([`DEBG ${message}`]);
  });
});

describe('UNKNOWN', () => {
  it('any -> UNKNOWN when the stop signal fails unexpectedly: unknown problem killing web (42)', () => {
    const h = new Harness().running();
    h.killFailure = { code: 'EPERM', message: 'Operation not permitted' };
    h.stop();
    expect(h.take().slice(-3)).toEqual([
      'kill 42 SIGTERM',
      'CRIT unknown problem killing web (42):Operation not permitted',
      'PROCESS_STATE_UNKNOWN from_state:STOPPING',
    ]);
    expect(h.status).toMatchObject({ state: ProcessState.UNKNOWN, killing: false, delay: null, pid: 42 });
    expect(h.clock.pending()).toBe(0);
    expect(h.info().description).toBe('');
  });

  it('any -> UNKNOWN when a signal fails unexpectedly: unknown problem sending sig web (42)', () => {
    const h = new Harness().running();
    h.killFailure = { code: 'EPERM', message: 'Operation not permitted' };
    h.send({ kind: 'signal', signal: SIGHUP });
    expect(h.take().slice(-2)).toEqual([
      'CRIT unknown problem sending sig web (42):Operation not permitted',
      'PROCESS_STATE_UNKNOWN from_state:RUNNING',
    ]);
  });

  it('UNKNOWN refuses start, stop and signal, and an exit is recorded without leaving UNKNOWN', () => {
    const h = new Harness({ autorestart: 'true' }).running();
    h.killFailure = { code: 'EPERM', message: 'Operation not permitted' };
    h.stop();
    h.take();
    expect(h.start()).toBe('web is in an unknown process state');
    expect(h.stop()).toBe('web is in an unknown process state');
    expect(h.send({ kind: 'signal', signal: SIGHUP })).toBe('web is in an unknown process state');
    h.exit(1);
    expect(h.take()).toEqual(['WARN exited: web (exit status 1; not expected)']);
    expect(h.status).toMatchObject({ state: ProcessState.UNKNOWN, pid: 0, exitstatus: 1 });
    expect(h.spawnTimes).toEqual([0]);
  });
});

describe("supervisord's mood", () => {
  it('no EXITED -> STARTING once supervisord is shutting down', () => {
    const h = new Harness().running();
    h.send({ kind: 'mood', mood: SupervisorState.SHUTDOWN });
    h.exit(1);
    expect(h.state).toBe(ProcessState.EXITED);
    expect(h.spawnTimes).toEqual([0]);
  });

  it('no BACKOFF -> STARTING while restarting; stop_all then gives up', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.exit(1);
    h.send({ kind: 'mood', mood: SupervisorState.RESTARTING });
    expect(h.clock.pending()).toBe(0);
    h.advance(10_000);
    expect(h.state).toBe(ProcessState.BACKOFF);
    h.send({ kind: 'stopAll' });
    expect(h.state).toBe(ProcessState.FATAL);
  });

  it('no autostart while shutting down', () => {
    const h = new Harness();
    h.send({ kind: 'mood', mood: SupervisorState.SHUTDOWN });
    expect(h.state).toBe(ProcessState.STOPPED);
  });
});

describe('the table', () => {
  it('has a cell for every state and event', () => {
    const kinds = ['start', 'stop', 'signal', 'stopAll', 'mood', 'stopReport', 'spawned', 'spawnFailed', 'exited', 'killFailed', 'tick', 'dependenciesMet', 'dependencyFailed', 'ready', 'restart'];
    for (const state of Object.values(ProcessState)) expect(Object.keys(transitions[state]).sort()).toEqual([...kinds].sort());
  });

  it('spawned and spawnFailed outside STARTING change nothing (spawn answers within its own step)', () => {
    const h = new Harness().running();
    h.send({ kind: 'spawned', pid: 77 });
    h.send({ kind: 'spawnFailed', message: 'x' });
    expect(h.take()).toEqual([]);
    expect(h.status.pid).toBe(42);
  });
});

describe('getProcessInfo description (_interpretProcessInfo)', () => {
  const T = 1_764_000_000; // a Monday afternoon, 2025-11-24 16:00 UTC
  const base = { name: 'web', pid: 0, spawnerr: '', start: 0, stop: 0, now: T };
  const infos: InfoForDescription[] = [
    { ...base, state: ProcessState.RUNNING, pid: 42, start: T - 65 },
    { ...base, state: ProcessState.RUNNING, pid: 42, start: T - (86400 + 7384) },
    { ...base, state: ProcessState.RUNNING, pid: 42, start: T - 3 * 86400 },
    { ...base, state: ProcessState.RUNNING, pid: 42, start: T + 30 },
    { ...base, state: ProcessState.BACKOFF, spawnerr: 'Exited too quickly (process log may have details)' },
    { ...base, state: ProcessState.FATAL },
    { ...base, state: ProcessState.STOPPED },
    { ...base, state: ProcessState.STOPPED, start: T - 100, stop: 0 },
    { ...base, state: ProcessState.EXITED, start: T - 100, stop: T - 5 },
    { ...base, state: ProcessState.EXITED, start: T - 100, stop: T - 16 * 3600 },
    { ...base, state: ProcessState.STOPPED, start: T - 100, stop: T - 4 * 3600 },
    { ...base, state: ProcessState.STARTING, pid: 42 },
    { ...base, state: ProcessState.STOPPING, pid: 42 },
    { ...base, state: ProcessState.UNKNOWN, pid: 42 },
  ];
  const zones = ['UTC', 'America/New_York', 'Asia/Kolkata'];
  const expected = python<string[][]>(
    `import json, os, sys, time
from supervisor.rpcinterface import SupervisorNamespaceRPCInterface as R
data = json.load(sys.stdin)
out = []
for tz in data["zones"]:
    os.environ["TZ"] = tz
    time.tzset()
    out.append([R._interpretProcessInfo(None, i) for i in data["infos"]])
print(json.dumps(out))`,
    { zones, infos },
  );
  const savedTZ = process.env.TZ;
  afterEach(() => {
    if (savedTZ === undefined) delete process.env.TZ;
    else process.env.TZ = savedTZ;
  });

  it.each(zones.map((tz, i) => [tz, i] as const))('matches supervisord in %s', (tz, i) => {
    process.env.TZ = tz;
    expect(infos.map(interpretProcessInfo)).toEqual(expected[i]);
  });

  it('uptime stays right when the wall clock steps; start moves with it', () => {
    const h = new Harness().running();
    h.advance(9000);
    const before = h.info();
    h.clock.stepWall(-3_600_000);
    const after = h.info();
    expect(after.description).toBe(before.description);
    expect(after.description).toBe('pid 42, uptime 0:00:10');
    expect(after.start).toBe(before.start - 3600);
  });

  it('a process never started: Not started, start and stop 0, exitstatus 0, spawnerr empty', () => {
    const h = new Harness({ autostart: false });
    expect(h.info()).toEqual({
      start: 0,
      stop: 0,
      now: Math.trunc(h.clock.wall() / 1000),
      state: ProcessState.STOPPED,
      statename: 'STOPPED',
      spawnerr: '',
      exitstatus: 0,
      pid: 0,
      description: 'Not started',
    });
  });
});

describe('signal names and wait statuses (options.py)', () => {
  it.runIf(process.platform === 'linux')('signame matches supervisord for 0..65', () => {
    const numbers = Array.from({ length: 66 }, (_, i) => i);
    const want = python<string[]>(
      'import json, sys\nfrom supervisor.options import signame\nprint(json.dumps([signame(n) for n in json.load(sys.stdin)]))',
      numbers,
    );
    expect(numbers.map(signame)).toEqual(want);
  });

  it('decode_wait_status: exit status N, terminated by SIG…, core dumped', () => {
    expect(decodeWaitStatus({ code: 3, signal: null })).toEqual([3, 'exit status 3']);
    expect(decodeWaitStatus({ code: null, signal: SIGTERM })).toEqual([-1, 'terminated by SIGTERM']);
    expect(decodeWaitStatus({ code: null, signal: 6, coreDumped: true })).toEqual([-1, 'terminated by SIGABRT (core dumped)']);
  });
});

// fastvisor's backoff options. Every test here sets at least one; with none
// set, the tests above (and machine-vs-supervisord.test.ts) hold.
const fv = (o: Partial<BackoffOptions>): BackoffOptions => ({ ...defaultBackoff, ...o });
const gaps = (ts: number[]): number[] => ts.slice(1).map((t, i) => t - ts[i]!);

/** Fail n starts in a row, each at once (too quickly), following the timer in between. */
function failStarts(h: Harness, n: number): void {
  for (let i = 0; i < n; i++) {
    if (h.state !== ProcessState.STARTING) h.toTimer();
    expect(h.state).toBe(ProcessState.STARTING);
    h.exit(1);
  }
}

describe('backoff (fastvisor): the waits between failed starts', () => {
  it('exponential: backoff_initial x 2^(n-1), one INFO line per scheduled attempt', () => {
    const h = new Harness({ autostart: false, startretries: FOREVER, fastvisor: fv({ backoff: 'exponential' }) });
    h.start();
    h.take();
    h.exit(1);
    expect(h.take()).toEqual([
      'PROCESS_STATE_BACKOFF from_state:STARTING tries:1',
      'WARN exited: web (exit status 1; not expected)',
      "INFO waiting 1 s before starting 'web' again (attempt 2, exponential backoff)",
    ]);
    failStarts(h, 4);
    expect(h.take().filter((l) => l.startsWith('INFO waiting'))).toEqual([
      "INFO waiting 2 s before starting 'web' again (attempt 3, exponential backoff)",
      "INFO waiting 4 s before starting 'web' again (attempt 4, exponential backoff)",
      "INFO waiting 8 s before starting 'web' again (attempt 5, exponential backoff)",
      "INFO waiting 16 s before starting 'web' again (attempt 6, exponential backoff)",
    ]);
    h.toTimer();
    expect(gaps(h.spawnTimes)).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it('linear with backoff_initial=2: 2 s, 4 s, 6 s, then FATAL after startretries, with no waiting line before it', () => {
    const h = new Harness({ autostart: false, fastvisor: fv({ backoff_initial: 2 }) });
    h.start();
    failStarts(h, 4);
    const lines = h.take();
    expect(lines.filter((l) => l.startsWith('INFO waiting'))).toEqual([
      "INFO waiting 2 s before starting 'web' again (attempt 2, linear backoff)",
      "INFO waiting 4 s before starting 'web' again (attempt 3, linear backoff)",
      "INFO waiting 6 s before starting 'web' again (attempt 4, linear backoff)",
    ]);
    expect(lines.slice(-4)).toEqual([
      'PROCESS_STATE_BACKOFF from_state:STARTING tries:4',
      'WARN exited: web (exit status 1; not expected)',
      'PROCESS_STATE_FATAL from_state:BACKOFF',
      GAVE_UP,
    ]);
    expect(gaps(h.spawnTimes)).toEqual([2000, 4000, 6000]);
  });

  it('no wait grows past backoff_max', () => {
    const h = new Harness({ autostart: false, startretries: FOREVER, fastvisor: fv({ backoff: 'exponential', backoff_initial: 0.5, backoff_max: 3 }) });
    h.start();
    failStarts(h, 7);
    h.toTimer();
    expect(gaps(h.spawnTimes)).toEqual([500, 1000, 2000, 3000, 3000, 3000, 3000]);
    const linear = new Harness({ autostart: false, startretries: FOREVER, fastvisor: fv({ backoff_max: 2.5 }) });
    linear.start();
    failStarts(linear, 4);
    linear.toTimer();
    expect(gaps(linear.spawnTimes)).toEqual([1000, 2000, 2500, 2500]);
  });

  it('backoff_jitter shortens each wait by up to that fraction: wait x (1 - jitter x random)', () => {
    const waits = [0, 0.25, 0.5, 0.999].map((r) => {
      const h = new Harness({ autostart: false, fastvisor: fv({ backoff: 'exponential', backoff_initial: 4, backoff_jitter: 0.5 }) });
      h.random = r;
      h.start();
      h.exit(1);
      return h.status.delay! - h.clock.now();
    });
    expect(waits).toEqual([4000, 3500, 3000, 4000 * (1 - 0.5 * 0.999)]);
    // Bounds for any random in [0, 1): within [(1 - jitter) x wait, wait].
    const f = fv({ backoff: 'exponential', backoff_initial: 1, backoff_max: 60, backoff_jitter: 0.3 });
    for (let n = 1; n <= 10; n++) {
      const full = Math.min(2 ** (n - 1), 60) * 1000;
      for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) {
        const w = backoffWait(f, n, 1, r);
        expect(w).toBeLessThanOrEqual(full);
        expect(w).toBeGreaterThanOrEqual(full * 0.7);
      }
    }
    // jitter 100 %: anything from the whole wait down to (almost) none.
    expect(backoffWait(fv({ backoff_jitter: 1 }), 3, 1, 0)).toBe(3000);
    expect(backoffWait(fv({ backoff_jitter: 1 }), 3, 1, 0.999)).toBeCloseTo(3, 6);
  });

  it('startretries=forever survives 20 failures, never FATAL, and RUNNING clears the count', () => {
    const h = new Harness({ autostart: false, startretries: FOREVER, fastvisor: fv({ backoff: 'exponential', backoff_initial: 0.05, backoff_max: 1 }) });
    h.start();
    failStarts(h, 20);
    const lines = h.take();
    expect(lines.some((l) => l.includes('FATAL'))).toBe(false);
    expect(h.state).toBe(ProcessState.BACKOFF);
    expect(lines).toContain('PROCESS_STATE_BACKOFF from_state:STARTING tries:20');
    expect(lines.at(-1)).toBe("INFO waiting 1 s before starting 'web' again (attempt 21, exponential backoff)");
    h.toTimer();
    expect(h.take()[0]).toBe('PROCESS_STATE_STARTING from_state:BACKOFF tries:20');
    h.advance(1000);
    expect(h.state).toBe(ProcessState.RUNNING);
    expect(h.status.backoff).toBe(0);
    expect(h.spawnTimes).toHaveLength(21);
  });

  it('spawn errors follow the same rule, forever', () => {
    const h = new Harness({ autostart: false, startretries: FOREVER, fastvisor: fv({ backoff: 'exponential' }) });
    for (let i = 0; i < 25; i++) h.outcomes.push({ error: "can't find command 'x'" });
    h.start();
    for (let i = 0; i < 24; i++) h.toTimer();
    expect(h.state).toBe(ProcessState.BACKOFF);
    expect(h.status.backoff).toBe(25);
    expect(gaps(h.spawnTimes).slice(0, 10)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300].map((s) => s * 1000));
    expect(h.take().at(-1)).toBe("INFO waiting 5 min before starting 'web' again (attempt 26, exponential backoff)");
  });

  it('startretries=-1 alone is forever (linear, capped at backoff_max); other negatives keep supervisord\'s meaning', () => {
    const forever = new Harness({ autostart: false, startretries: -1 });
    expect(backoffInUse(forever.config)).toBe(true);
    forever.start();
    failStarts(forever, 5);
    expect(forever.state).toBe(ProcessState.BACKOFF);
    expect(forever.take().filter((l) => l.startsWith('INFO waiting')).at(-1)).toBe(
      "INFO waiting 5 s before starting 'web' again (attempt 6, linear backoff)",
    );

    const minus2 = new Harness({ autostart: false, startretries: -2 });
    minus2.start();
    minus2.exit(1);
    expect(minus2.state).toBe(ProcessState.FATAL);
    expect(minus2.take().slice(-2)).toEqual(['PROCESS_STATE_FATAL from_state:BACKOFF', GAVE_UP]);
  });

  it("the defaults are supervisord's: 1 s, 2 s, 3 s … with no cap and no extra lines", () => {
    const script = (h: Harness): string[] => {
      h.start();
      failStarts(h, 4);
      h.start();
      h.advance(1500).exit(1);
      h.advance(2000).exit(1);
      return h.take();
    };
    const plain = new Harness({ autostart: false });
    const withDefaults = new Harness({ autostart: false, fastvisor: fv({}) });
    expect(backoffInUse(withDefaults.config)).toBe(false);
    expect(script(withDefaults)).toEqual(script(plain));
    expect(withDefaults.spawnTimes).toEqual(plain.spawnTimes);
    expect(withDefaults.description()).toBe(withDefaults.info().description);

    // 350 tries: the 350th wait is 350 s, as in supervisord (backoff_max only caps with the options in use).
    const many = new Harness({ autostart: false, startretries: 400, fastvisor: fv({}) });
    many.start();
    failStarts(many, 350);
    expect(many.status.delay! - many.clock.now()).toBe(350_000);
    expect(many.take().some((l) => l.startsWith('INFO waiting'))).toBe(false);
  });

  it('the description says how many tries failed, over how long, and when the next start is', () => {
    const h = new Harness({ autostart: false, startretries: FOREVER, fastvisor: fv({ backoff: 'exponential' }) });
    h.start();
    h.exit(1);
    expect(h.description()).toBe('Exited too quickly (process log may have details); failed to start once; next start in 1 s');
    failStarts(h, 1);
    expect(h.description()).toBe('Exited too quickly (process log may have details); failed to start twice in 1 s; next start in 2 s');
    h.advance(1500);
    expect(h.description()).toBe('Exited too quickly (process log may have details); failed to start twice in 1 s; next start in 0.5 s');
    failStarts(h, 6);
    expect(h.description()).toBe('Exited too quickly (process log may have details); failed to start 8 times in 2.1 min; next start in 2.1 min');
    // No start is coming while supervisord shuts down: no "next start".
    h.send({ kind: 'mood', mood: SupervisorState.SHUTDOWN });
    expect(h.description()).toBe('Exited too quickly (process log may have details); failed to start 8 times in 2.1 min');
    expect(h.clock.pending()).toBe(0);
  });
});

describe('restart_delay (fastvisor): the wait before an autorestart after RUNNING', () => {
  const config = (o: Partial<BackoffOptions>): Partial<MachineConfig> => ({ fastvisor: fv({ restart_delay: 5, ...o }) });

  it('RUNNING -> EXITED -> BACKOFF, then BACKOFF -> STARTING after restart_delay; tries stay 0', () => {
    const h = new Harness(config({})).running();
    h.advance(2000).exit(1);
    expect(h.take()).toEqual([
      'PROCESS_STATE_EXITED from_state:RUNNING expected:0 pid:42',
      'WARN exited: web (exit status 1; not expected)',
      'PROCESS_STATE_BACKOFF from_state:EXITED tries:0',
      "INFO waiting 5 s before restarting 'web' (restart 1, linear backoff)",
    ]);
    expect(h.state).toBe(ProcessState.BACKOFF);
    expect(h.info()).toMatchObject({ statename: 'BACKOFF', exitstatus: 1, spawnerr: 'Bad exit code 1', pid: 0 });
    expect(h.description()).toBe('Bad exit code 1; exited once; next start in 5 s');
    h.advance(4999);
    expect(h.take()).toEqual([]);
    h.advance(1);
    expect(h.take()).toEqual(['PROCESS_STATE_STARTING from_state:BACKOFF tries:0', 'spawn', "INFO spawned: 'web' with pid 43"]);
    expect(h.spawnTimes).toEqual([0, 8000]);
  });

  it('grows by the backoff rule while the process keeps dying: linear 5, 10, 15 s; exponential 5, 10, 20, 40 s', () => {
    for (const [backoff, want] of [
      ['linear', [5000, 10000, 15000, 20000]],
      ['exponential', [5000, 10000, 20000, 40000]],
    ] as const) {
      const h = new Harness(config({ backoff })).running();
      for (let i = 0; i < 4; i++) {
        h.advance(2000).exit(1);
        expect(h.state).toBe(ProcessState.BACKOFF);
        h.toTimer();
        h.advance(1000);
        expect(h.state).toBe(ProcessState.RUNNING);
      }
      // spawn -> RUNNING 1 s -> 2 s more -> exit -> wait
      expect(gaps(h.spawnTimes).map((g) => g - 3000)).toEqual(want);
    }
  });

  it('capped by backoff_max and jittered like the retries', () => {
    const h = new Harness(config({ backoff: 'exponential', backoff_max: 12, backoff_jitter: 0.5 })).running();
    h.random = 0.5;
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      h.advance(2000).exit(1);
      waits.push(h.status.delay! - h.clock.now());
      h.toTimer().advance(1000);
    }
    expect(waits).toEqual([3750, 7500, 9000, 9000]);
  });

  it('description: a run of exits, how long they took, the next start; an expected exit has no error to show', () => {
    const h = new Harness({ autorestart: 'true', ...config({ backoff: 'exponential' }) }).running();
    h.advance(2000).exit(0);
    expect(h.take()).toContain('PROCESS_STATE_BACKOFF from_state:EXITED tries:0');
    expect(h.description()).toBe('exited once; next start in 5 s');
    h.toTimer().advance(3000).exit(0);
    h.advance(4000);
    expect(h.description()).toBe('exited twice in 8 s; next start in 6 s');
    h.toTimer().advance(3000).exit(0);
    expect(h.description()).toBe('exited 3 times in 21 s; next start in 20 s');
  });

  it('backoff_reset_after RUNNING clears the count: the next exit waits restart_delay again', () => {
    for (const [runMs, want] of [
      [60_000, 5000],
      [59_999, 20000],
    ] as const) {
      const h = new Harness(config({ backoff: 'exponential', backoff_reset_after: 60 })).running();
      h.advance(2000).exit(1);
      h.toTimer().advance(1000).advance(2000).exit(1);
      // third run: RUNNING for runMs
      h.toTimer().advance(1000).advance(runMs).exit(1);
      expect(h.status.delay! - h.clock.now()).toBe(want);
      expect(h.status.restarts).toBe(want === 5000 ? 1 : 3);
    }
  });

  it('a stop by hand cancels the wait (BACKOFF -> STOPPED) and the count; a later exit waits restart_delay again', () => {
    const h = new Harness(config({ backoff: 'exponential' })).running();
    h.advance(2000).exit(1);
    h.toTimer().advance(3000).exit(1);
    expect(h.status.restarts).toBe(2);
    h.take();
    expect(h.stop()).toBeNull();
    expect(h.take()).toEqual(['DEBG Attempted to kill web, which is in BACKOFF state.', 'PROCESS_STATE_STOPPED from_state:BACKOFF pid:0']);
    expect(h.state).toBe(ProcessState.STOPPED);
    expect(h.clock.pending()).toBe(0);
    h.advance(600_000);
    expect(h.spawnTimes).toHaveLength(2);
    expect(h.info().description).not.toContain('next start');
    h.start();
    h.advance(3000).exit(1);
    expect(h.status.restarts).toBe(1);
    expect(h.status.delay! - h.clock.now()).toBe(5000);
  });

  it('a start by hand (fed to the machine; rpc answers ALREADY_STARTED in BACKOFF) spawns at once and clears the count', () => {
    const h = new Harness(config({ backoff: 'exponential' })).running();
    h.advance(2000).exit(1);
    h.toTimer().advance(3000).exit(1);
    h.take();
    const at = h.clock.now();
    h.start();
    expect(h.take()).toEqual(['PROCESS_STATE_STARTING from_state:BACKOFF tries:0', 'spawn', "INFO spawned: 'web' with pid 44"]);
    expect(h.spawnTimes.at(-1)).toBe(at);
    expect(h.clock.nextAt()).toBe(at + 1000); // startsecs, not the restart
    h.advance(3000).exit(1);
    expect(h.status.delay! - h.clock.now()).toBe(5000);
  });

  it('stop_all (shutdown) stops a waiting process, not FATAL; a failed start still gives up', () => {
    const h = new Harness(config({})).running();
    h.advance(2000).exit(1);
    h.take();
    h.send({ kind: 'mood', mood: SupervisorState.SHUTDOWN });
    expect(h.clock.pending()).toBe(0);
    expect(h.description()).toBe('Bad exit code 1; exited once');
    h.send({ kind: 'stopAll' });
    expect(h.state).toBe(ProcessState.STOPPED);
    expect(h.take()).toEqual(['DEBG Attempted to kill web, which is in BACKOFF state.', 'PROCESS_STATE_STOPPED from_state:BACKOFF pid:0']);

    const failing = new Harness({ autostart: false, ...config({}) });
    failing.start();
    failing.exit(1);
    failing.send({ kind: 'stopAll' });
    expect(failing.state).toBe(ProcessState.FATAL);
  });

  it('no wait when no restart is due: autorestart=unexpected with an expected exit stays EXITED', () => {
    const h = new Harness(config({})).running();
    h.advance(2000).exit(0);
    expect(h.state).toBe(ProcessState.EXITED);
    expect(h.clock.pending()).toBe(0);
    expect(h.take().some((l) => l.includes('waiting'))).toBe(false);
  });

  it('startsecs=0: every exit is after RUNNING, so restart_delay paces the loop supervisord would spin (#1285)', () => {
    const h = new Harness({ startsecs: 0, ...config({ restart_delay: 0.5, backoff: 'exponential', backoff_max: 4 }) });
    h.send({ kind: 'tick' });
    for (let i = 0; i < 6; i++) {
      h.exit(1);
      h.toTimer();
    }
    expect(gaps(h.spawnTimes)).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
  });

  it('humanDuration', () => {
    expect([50, 1000, 1500, 9999, 31_700, 32_000, 120_000, 150_000, 300_000, 5_400_000, 2 * 86_400_000].map(humanDuration)).toEqual([
      '0.05 s',
      '1 s',
      '1.5 s',
      '10 s',
      '31.7 s',
      '32 s',
      '2 min',
      '2.5 min',
      '5 min',
      '1.5 h',
      '2 d',
    ]);
  });
});

describe('fastvisor: depends_on (the machine half)', () => {
  const gated = (): Harness => new Harness({ dependsOn: true, autostart: false });

  it('a start waits in STARTING without a child, then spawns on dependenciesMet', () => {
    const h = gated();
    h.start();
    expect(h.take()).toEqual(['PROCESS_STATE_STARTING from_state:STOPPED tries:0', 'awaitDependencies pull:true']);
    expect(h.state).toBe(ProcessState.STARTING);
    expect(h.status).toMatchObject({ pid: 0, waiting: true });
    // no startsecs timer without a child
    h.advance(5000);
    expect(h.take()).toEqual([]);
    h.send({ kind: 'dependenciesMet' });
    expect(h.take()).toEqual(['spawn', "INFO spawned: 'web' with pid 42"]);
    h.advance(1000);
    expect(h.state).toBe(ProcessState.RUNNING);
    // startsecs counted from the spawn, not from the wait
    expect(h.info().start).toBe(Math.trunc((h.clock.wall() - 1000) / 1000));
  });

  it('autostart pulls; an autorestart only waits', () => {
    const h = new Harness({ dependsOn: true, autorestart: 'true' });
    h.send({ kind: 'tick' });
    expect(h.take()).toContain('awaitDependencies pull:true');
    h.send({ kind: 'dependenciesMet' });
    h.advance(1000);
    h.exit(0);
    expect(h.take()).toContain('awaitDependencies pull:false');
    expect(h.status.waiting).toBe(true);
  });

  it('a stop while waiting is STOPPED at once, with no kill; autostart does not come back', () => {
    const h = new Harness({ dependsOn: true });
    h.send({ kind: 'tick' });
    h.take();
    expect(h.stop()).toBeNull();
    expect(h.take()).toEqual(['INFO stopped: web (was waiting for its dependencies)', 'PROCESS_STATE_STOPPED from_state:STARTING pid:0']);
    expect(h.status.waiting).toBe(false);
    h.send({ kind: 'tick' });
    expect(h.take()).toEqual([]);
    // a late answer changes nothing
    h.send({ kind: 'dependenciesMet' });
    expect(h.take()).toEqual([]);
  });

  it('stopAll (shutdown) ends a wait the same way', () => {
    const h = gated();
    h.start();
    h.take();
    h.send({ kind: 'stopAll' });
    expect(h.state).toBe(ProcessState.STOPPED);
  });

  it('dependencyFailed: FATAL with the message, no tries', () => {
    const h = gated();
    h.start();
    h.take();
    h.send({ kind: 'dependencyFailed', message: 'dependency db is FATAL (depends_on db)' });
    expect(h.take()).toEqual([
      'PROCESS_STATE_FATAL from_state:STARTING',
      'INFO gave up: web entered FATAL state, dependency db is FATAL (depends_on db)',
    ]);
    expect(h.info().description).toBe('dependency db is FATAL (depends_on db)');
    // a start by hand tries again
    h.start();
    expect(h.status.waiting).toBe(true);
  });

  it('a BACKOFF retry waits for the dependencies again (without pulling)', () => {
    const h = gated();
    h.start();
    h.send({ kind: 'dependenciesMet' });
    h.exit(1);
    h.take();
    expect(h.state).toBe(ProcessState.BACKOFF);
    h.advance(1000);
    expect(h.take()).toEqual(['PROCESS_STATE_STARTING from_state:BACKOFF tries:1', 'awaitDependencies pull:false']);
  });
});

describe('fastvisor: ready=notify / ready=log: (the machine half)', () => {
  const signalled = (startsecs = 2, retries = 3): Harness =>
    new Harness({ readyBy: 'signal', startsecs, startretries: retries, autostart: false });

  it('RUNNING on ready, not on startsecs', () => {
    const h = signalled(2);
    h.start();
    h.advance(1500);
    h.take();
    expect(h.state).toBe(ProcessState.STARTING);
    h.send({ kind: 'ready', how: 'it sent READY=1' });
    expect(h.take()).toEqual(['PROCESS_STATE_RUNNING from_state:STARTING pid:42', 'INFO success: web entered RUNNING state, it sent READY=1']);
    // no timer left to fire
    h.advance(10_000);
    expect(h.take()).toEqual([]);
  });

  it('not ready within startsecs: stopped, then BACKOFF; FATAL after startretries', () => {
    const h = signalled(2, 0);
    h.start();
    h.take();
    h.advance(2000);
    expect(h.take()).toEqual([
      'WARN web was not ready within 2 seconds (startsecs)',
      'DEBG killing web (pid 42) with signal SIGTERM',
      'PROCESS_STATE_STOPPING from_state:STARTING pid:42',
      'kill 42 SIGTERM',
    ]);
    h.die(SIGTERM);
    expect(h.take()).toEqual([
      'PROCESS_STATE_BACKOFF from_state:STOPPING tries:1',
      'WARN exited: web (terminated by SIGTERM; not ready in time)',
      'PROCESS_STATE_FATAL from_state:BACKOFF',
      'INFO gave up: web entered FATAL state, too many start retries too quickly',
    ]);
    expect(h.info().description).toBe('not ready within 2 seconds (startsecs)');
  });

  it('a ready that comes while it is being stopped for lateness is ignored', () => {
    const h = signalled(1);
    h.start();
    h.advance(1000);
    h.take();
    h.send({ kind: 'ready', how: 'late' });
    expect(h.state).toBe(ProcessState.STOPPING);
  });

  it('a stop by hand of a late process ends STOPPED, not BACKOFF', () => {
    const h = signalled(1);
    h.start();
    h.advance(1000);
    h.stop();
    h.die(SIGTERM);
    expect(h.state).toBe(ProcessState.STOPPED);
  });

  it('startsecs=0: no deadline; an exit before ready is a failed start', () => {
    const h = signalled(0);
    h.start();
    h.advance(3_600_000);
    expect(h.state).toBe(ProcessState.STARTING);
    h.take();
    h.exit(0);
    expect(h.take()[0]).toBe('PROCESS_STATE_BACKOFF from_state:STARTING tries:1');
  });

  it('ready=started ignores ready events (supervisord rule)', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.send({ kind: 'ready', how: 'x' });
    expect(h.state).toBe(ProcessState.STARTING);
  });
});

describe('fastvisor: restart (health checks, watchdog, restart_dependents)', () => {
  it('RUNNING -> STOPPING -> STOPPED -> STARTING', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.advance(1000);
    h.take();
    h.send({ kind: 'restart', reason: 'health check failed 3 times (HTTP 503)' });
    expect(h.take()).toEqual([
      'WARN restarting web: health check failed 3 times (HTTP 503)',
      'DEBG killing web (pid 42) with signal SIGTERM',
      'PROCESS_STATE_STOPPING from_state:RUNNING pid:42',
      'kill 42 SIGTERM',
    ]);
    h.die(SIGTERM);
    expect(h.take()).toEqual([
      'PROCESS_STATE_STOPPED from_state:STOPPING pid:42',
      'WARN stopped: web (terminated by SIGTERM)',
      'PROCESS_STATE_STARTING from_state:STOPPED tries:0',
      'spawn',
      "INFO spawned: 'web' with pid 43",
    ]);
  });

  it('a stop by hand during the restart cancels the start', () => {
    const h = new Harness({ autostart: false });
    h.start();
    h.advance(1000);
    h.send({ kind: 'restart', reason: 'x' });
    h.stop();
    h.die(SIGTERM);
    expect(h.state).toBe(ProcessState.STOPPED);
  });

  it('no restart during shutdown, nor of a process without a child', () => {
    const h = new Harness({ autostart: false });
    h.send({ kind: 'restart', reason: 'x' });
    expect(h.take()).toEqual([]);
    h.start();
    h.advance(1000);
    h.send({ kind: 'restart', reason: 'x' });
    h.send({ kind: 'mood', mood: SupervisorState.SHUTDOWN });
    h.die(SIGTERM);
    expect(h.state).toBe(ProcessState.STOPPED);
  });
});

describe('fastvisor: an OOM kill in the PROCESS_STATE payload (programs with a cgroup)', () => {
  it('EXITED (and BACKOFF) carry oom_killed:1 after the usual fields; other exits do not', () => {
    const h = new Harness({ autostart: false, autorestart: 'false' });
    h.start();
    h.advance(1000);
    h.take();
    h.send({ kind: 'exited', pid: 42, code: null, signal: SIGKILL, cause: 'killed by the OOM killer (memory_max 64MB)', oomKilled: true });
    expect(h.take()).toEqual([
      'PROCESS_STATE_EXITED from_state:RUNNING expected:0 pid:42 oom_killed:1',
      'WARN exited: web (killed by the OOM killer (memory_max 64MB); not expected)',
    ]);
    h.start();
    h.take();
    h.send({ kind: 'exited', pid: 43, code: null, signal: SIGKILL, cause: 'killed by the OOM killer (memory_max 64MB)', oomKilled: true });
    expect(h.take()[0]).toBe('PROCESS_STATE_BACKOFF from_state:STARTING tries:1 oom_killed:1');
    h.advance(1000); // the retry
    h.advance(1000); // startsecs
    h.take();
    h.die(SIGKILL);
    expect(h.take()[0]).toBe('PROCESS_STATE_EXITED from_state:RUNNING expected:0 pid:44');
  });
});
