// SPDX-License-Identifier: MIT
// The fastvisor side of a trial, in its own process so its CPU and memory can
// be read from /proc: until the daemon exists, this is the whole of fastvisor
// that a benchmark can exercise — the I/O core behind src/native/index.ts,
// spawning each program with its output going to its own log file.
//
//   node --import tsx bench/peers/fastvisor-driver.ts CONFIG.json
//
// Line protocol (stdout → bench, stdin ← bench):
//   ready            core started, nothing spawned          ← go
//   spawned {json}   every program spawned (how long that took)
//   done {json}      mode 'exit': every program exited; by then the core has
//                    written all their output (process.cpuUsage, sink counters)
//   running {json}   mode 'running': every program up for startsecs
//                    ← quit (or stdin closed): stop what runs (SIGTERM to each
//                    process group, SIGKILL after 10 s), stop the core, exit
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

import { IoCore, type ExitEvent, type LogSink } from '../../src/native/index.js';
import type { ProgramSpec } from '../lib/types.js';

export interface DriverConfig {
  programs: ProgramSpec[];
  maxbytes: number;
  backups: number;
  /** undefined: the core's default */
  batchMs?: number;
  mode: 'exit' | 'running';
  startsecs: number;
  tokenVar: string;
  token: string;
  /** line format of the logs (native/line_format.h); undefined: raw */
  format?: 'timestamped' | 'json';
  /** time rotation and compression of the logs (LogRotationSpec); undefined: none */
  rotation?: { every?: number; compress?: 'gzip' | 'none' };
  /** every program's sink opens this path instead of its log (Work.collect) */
  collect?: string;
}

const cfg = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as DriverConfig;
const n = cfg.programs.length;

interface Running {
  pid: number;
  sink: LogSink;
  spawnedAt: number;
  exit?: ExitEvent;
  up: boolean;
}
const children = new Map<number, Running>();
let exited = 0;
let up = 0;
let spawnMs = 0;

function say(word: string, data?: unknown): void {
  process.stdout.write(data === undefined ? `${word}\n` : `${word} ${JSON.stringify(data)}\n`);
}

function selfReport(): Record<string, unknown> {
  const cpu = process.cpuUsage();
  const sinks = { written: 0, dropped: 0, rotations: 0 };
  for (const c of children.values()) {
    const k = c.sink.counters();
    sinks.written += k.written;
    sinks.dropped += k.dropped;
    sinks.rotations += k.rotations;
  }
  const failed = [...children.values()].filter((c) => c.exit && (c.exit.code !== 0 || c.exit.signal !== null)).length;
  return {
    cpuUser: cpu.user / 1e6,
    cpuSystem: cpu.system / 1e6,
    maxRssKB: process.resourceUsage().maxRSS,
    backend: core.backend,
    batchMs: cfg.batchMs ?? 'default',
    spawnMs,
    failed,
    ...sinks,
  };
}

const core = IoCore.start({
  batchMs: cfg.batchMs,
  onEvents(events) {
    for (const e of events) {
      if (e.kind !== 'exit') continue;
      const c = children.get(e.child);
      if (!c || c.exit) continue;
      c.exit = e;
      exited++;
      if (cfg.mode === 'exit' && exited === n) say('done', selfReport());
    }
  },
});

function spawnAll(): void {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', [cfg.tokenVar]: cfg.token };
  const t0 = performance.now();
  for (const p of cfg.programs) {
    const format = cfg.format ? { mode: cfg.format, program: p.name, process: p.name, group: p.name, stream: 'stdout' as const } : undefined;
    const sink = core.openSink(cfg.collect ?? p.log, {
      maxbytes: cfg.maxbytes,
      backups: cfg.backups,
      ...(format ? { format } : {}),
      ...(cfg.rotation ? { rotation: cfg.rotation } : {}),
    });
    const s = core.spawn({ file: p.argv[0]!, argv: p.argv, env, stdout: { sink }, stderr: 'stdout' });
    const c: Running = { pid: s.pid, sink, spawnedAt: performance.now(), up: false };
    children.set(s.child, c);
    if (cfg.mode === 'running') {
      // supervisord's startsecs: RUNNING once up that long without exiting.
      setTimeout(() => {
        if (c.exit) return;
        c.up = true;
        up++;
        if (up === n) say('running', selfReport());
      }, cfg.startsecs * 1000);
    }
  }
  spawnMs = performance.now() - t0;
  say('spawned', { ms: spawnMs });
}

let quitting = false;
async function quit(): Promise<void> {
  if (quitting) return;
  quitting = true;
  const live = () => [...children.values()].filter((c) => !c.exit);
  for (const c of live()) core.kill(c.pid, 'SIGTERM', true);
  const deadline = performance.now() + 10_000;
  while (live().length > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const stubborn = live();
  for (const c of stubborn) core.kill(c.pid, 'SIGKILL', true);
  const deadline2 = performance.now() + 5_000;
  while (live().length > 0 && performance.now() < deadline2) await new Promise((r) => setTimeout(r, 10));
  for (const c of children.values()) c.sink.close();
  core.stop();
  say('stopped', { stubborn: stubborn.length, unreaped: live().length });
  process.exit(0);
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line === 'go') spawnAll();
  else if (line === 'quit') void quit();
});
rl.on('close', () => void quit());
process.on('SIGTERM', () => void quit());

say('ready');
