// SPDX-License-Identifier: MIT
// The real supervisorctl (Debian's, Python) runs each of its commands against
// the real supervisord 4.2.5 and against fastvisor, started on the same
// config; stdout, stderr (masked: pids, uptimes, stop times, the temp dir,
// AUTO log names) and exit codes must be equal, step by step. tail -f and
// maintail -f are read for a while and then interrupted (SIGINT, as Ctrl-C);
// fg goes through a pseudo-terminal (fg_pty.py); reload and shutdown come last.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, SUPERVISORCTL, type Daemon, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { removeTmpDirs } from '../../helpers/tmp.js';
import { PYTHON } from '../../helpers/python.js';
import { BASE_CONF, heartbeat, killStrays, runPython, strays } from './rpc-helpers.js';

const FG_PTY = path.join(import.meta.dirname, 'fg_pty.py');
const ZYGOTE = path.join(import.meta.dirname, 'ctl_zygote.py');
const KINDS: DaemonKind[] = ['supervisord', 'fastvisor'];

/** fg needs a program that echoes its stdin, with both log files. */
const CONF = `${BASE_CONF}
[program:fgcat]
command=/bin/cat
startsecs=0
`;

interface Outcome {
  stdout: string;
  stderr: string;
  code: number | null;
}

interface Step {
  argv: string[];
  /** what a step does beyond running supervisorctl once */
  kind?: 'stream' | 'fg';
  /** runs (on each daemon) before the command */
  before?: (d: Daemon) => Promise<void> | void;
  /** stream: once the output holds this, `during` runs, and once it holds `then` too, SIGINT */
  until?: (out: string) => boolean;
  during?: (d: Daemon) => Promise<void>;
  then?: (out: string) => boolean;
  /** replaces the masked stdout by what may be compared (e.g. the main log, whose lines differ) */
  view?: (stdout: string) => string;
}

const daemons = new Map<DaemonKind, Daemon>();
const results: Array<{ title: string; outcome: Record<DaemonKind, Outcome>; ms: Record<DaemonKind, number> }> = [];
const heartbeats: Array<() => void> = [];
const kids = new Set<number>();
const zygotes = new Map<DaemonKind, Zygote>();

/**
 * ctl_zygote.py: supervisorctl imported once, forked for each command (one
 * process per command, as from the shell, without Python's start-up each time).
 */
class Zygote {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffered = '';
  private readonly waiting: Array<(line: string) => void> = [];

  constructor() {
    this.proc = spawn(PYTHON, [ZYGOTE], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    kids.add(this.proc.pid!);
    this.proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.buffered += d;
      for (let i = this.buffered.indexOf('\n'); i >= 0; i = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, i);
        this.buffered = this.buffered.slice(i + 1);
        this.waiting.shift()?.(line);
      }
    });
    this.proc.stderr.resume();
    this.proc.stdin.on('error', () => {});
  }

  run(argv: string[]): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`supervisorctl ${argv.join(' ')}: no answer in 40 s`)), 40_000);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Outcome);
      });
      this.proc.stdin.write(`${JSON.stringify({ argv })}\n`);
    });
  }

  close(): void {
    this.proc.stdin.end();
  }
}

// Syscalls a thread waits for input in (x86_64, aarch64): read, poll, select,
// pselect6, ppoll, futex, epoll_wait/epoll_pwait.
const WAITING: Record<string, number[]> = { x64: [0, 7, 23, 202, 232, 270, 271, 281], arm64: [22, 63, 72, 73, 98] };

/**
 * Every thread of pid sits in a waiting syscall: it has dealt with what it was
 * sent. supervisorctl catches Ctrl-C cleanly only there: landing inside a
 * handler, it ends up in http_client's handle_error ("Cannot connect").
 */
function idle(pid: number): boolean {
  const waiting = WAITING[process.arch] ?? WAITING.x64!;
  try {
    return readdirSync(`/proc/${pid}/task`).every((tid) => {
      const nr = Number(readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[0]);
      return waiting.includes(nr);
    });
  } catch {
    return false;
  }
}

function mask(text: string, d: Daemon): string {
  return text
    .split(d.dir)
    .join('<DIR>')
    .replace(/(-(?:stdout|stderr)---[^/\s]*?-)[a-z0-9_]{8}(\.log)/g, '$1<RANDOM>$2')
    .replace(/pid \d+, uptime (?:\d+ days?, )?\d+:\d\d:\d\d/g, 'pid <PID>, uptime <UPTIME>')
    .replace(/[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M/g, '<STOPTIME>');
}

function killGroup(pid: number, sig: NodeJS.Signals = 'SIGKILL'): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, sig);
    } catch {
      // gone
    }
  }
}

/** supervisorctl -c CONF argv…; a stream is read until `until` holds, then gets SIGINT. */
function ctl(d: Daemon, step: Step): Promise<Outcome> {
  if (step.kind !== 'stream') return zygotes.get(d.kind)!.run(['-c', d.conf, ...step.argv]);
  const child = spawn(SUPERVISORCTL, ['-c', d.conf, ...step.argv], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  kids.add(pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const killer = setTimeout(() => killGroup(pid), 40_000);
  return (async () => {
    if (step.kind === 'stream') {
      const what = (): string => `${step.argv.join(' ')} on ${d.kind} to show more than ${JSON.stringify(stdout)}`;
      await pollUntil(() => step.until!(stdout), { timeout: 15_000, what: what() });
      if (step.during) {
        await step.during(d);
        await pollUntil(() => step.then!(stdout), { timeout: 15_000, what: what() });
      }
      await pollUntil(() => idle(pid), { timeout: 15_000, what: `${step.argv.join(' ')} on ${d.kind} to wait in select()` });
      // Ctrl-C: one SIGINT to supervisorctl (a second one would interrupt its handler).
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // gone
      }
    }
    const code = await closed;
    clearTimeout(killer);
    kids.delete(pid);
    return { stdout, stderr, code };
  })();
}

async function fg(d: Daemon, step: Step): Promise<Outcome> {
  const line = `typed ${randomBytes(4).toString('hex')}`;
  const run = runPython([FG_PTY, d.conf, d.sock, step.argv[1]!, line], { timeoutMs: 60_000 });
  kids.add(run.pid);
  const r = await run.done;
  kids.delete(run.pid);
  if (r.code !== 0) return { stdout: r.stdout, stderr: r.stderr, code: r.code };
  const o = JSON.parse(r.stdout) as { output: string; status: number; banner: boolean; echoed: boolean };
  // The typed line differs per run; what the terminal showed around it must not.
  return { stdout: `${o.output.split(line).join('<TYPED>')}\n[banner ${o.banner}, echoed ${o.echoed}]`, stderr: '', code: o.status };
}

async function run(step: Step): Promise<void> {
  const outcome = {} as Record<DaemonKind, Outcome>;
  const ms = {} as Record<DaemonKind, number>;
  await Promise.all(
    KINDS.map(async (kind) => {
      const t0 = Date.now();
      const d = daemons.get(kind)!;
      await settle(d);
      await step.before?.(d);
      const o = step.kind === 'fg' ? await fg(d, step) : await ctl(d, step);
      const stdout = mask(o.stdout, d);
      outcome[kind] = { stdout: step.view ? step.view(stdout) : stdout, stderr: mask(o.stderr, d), code: o.code };
      ms[kind] = Date.now() - t0;
    }),
  );
  results.push({ title: step.argv.join(' '), outcome, ms });
}

/**
 * Until every process with a pid has exec'd its program. supervisord's child
 * runs Python between fork and exec with the daemon's signal handlers: a
 * SIGTERM landing there is swallowed and the stop waits stopwaitsecs (10 s)
 * for its SIGKILL. Only the real supervisord needs it; both get it.
 */
async function settle(d: Daemon): Promise<void> {
  let exe: string;
  try {
    exe = readlinkSync(`/proc/${d.pid}/exe`);
  } catch {
    return; // the daemon is gone
  }
  await pollUntil(
    async () => {
      let infos: Array<{ pid: number }>;
      try {
        infos = (await d.rpc('supervisor.getAllProcessInfo')) as Array<{ pid: number }>;
      } catch {
        return true; // shutting down or restarting: nothing to wait for
      }
      return infos.every((i) => {
        if (!i.pid) return true;
        try {
          return readlinkSync(`/proc/${i.pid}/exe`) !== exe;
        } catch {
          return true;
        }
      });
    },
    { timeout: 10_000, what: `${d.kind}'s children to exec` },
  );
}

async function states(d: Daemon): Promise<Record<string, string>> {
  const infos = (await d.rpc('supervisor.getAllProcessInfo')) as Array<{ group: string; name: string; statename: string }>;
  return Object.fromEntries(infos.map((i) => [`${i.group}:${i.name}`, i.statename]));
}

function waitStates(want: Record<string, string>): (d: Daemon) => Promise<void> {
  return async (d) => {
    await pollUntil(
      async () => {
        const s = await states(d);
        return Object.entries(want).every(([k, v]) => s[k] === v);
      },
      { timeout: 15_000, what: `${d.kind}: ${JSON.stringify(want)}` },
    );
  };
}

const upAgain = async (d: Daemon): Promise<void> => {
  await pollUntil(
    async () => {
      try {
        const s = await states(d);
        return s['cat:cat'] === 'RUNNING' && s['grp:g1'] === 'RUNNING';
      } catch {
        return false;
      }
    },
    { timeout: 30_000, what: `${d.kind} back after reload` },
  );
};

/**
 * A stop that waits reports each process as it stops, and which of two SIGTERMed
 * processes is reaped first is up to the kernel: the stopped lines are compared
 * as a set, in place; everything else keeps its order.
 */
const stopsAsSet = (s: string): string => {
  const lines = s.split('\n');
  const stopped = lines.filter((l) => l.endsWith(': stopped')).sort();
  return lines.map((l) => (l.endsWith(': stopped') ? stopped.shift()! : l)).join('\n');
};

/** The main logs' lines differ between the daemons: compare their shape only. */
const firstLine = (s: string): string => s.split('\n')[0]!;
const byteCount = (s: string): string => `<${Buffer.byteLength(s)} bytes, ends with a newline: ${s.endsWith('\n')}>`;

const EDITED = (base: string): string =>
  base.replace(/^\[program:multi\]\n(?:.+\n)*/m, '').replace('command=/bin/sleep 1002', 'command=/bin/sleep 1003') +
  '\n[program:added]\ncommand=/bin/sleep 1000\nstartsecs=0\n\n[program:added2]\ncommand=/bin/sleep 1000\nstartsecs=0\nautostart=false\npriority=1\n';

const STEPS: Step[] = [
  { argv: ['status'], before: waitStates({ 'cat:cat': 'RUNNING', 'echo:echo': 'RUNNING', 'grp:g1': 'RUNNING', 'grp:g2': 'RUNNING', 'fgcat:fgcat': 'RUNNING' }) },
  { argv: ['status', 'cat'] },
  { argv: ['status', 'cat', 'slow'] },
  { argv: ['status', 'grp:*'] },
  { argv: ['status', 'nope'] },
  { argv: ['status', 'nope:*'] },
  { argv: ['status', 'grp:nope'] },
  // start
  { argv: ['start', 'slow'] },
  { argv: ['start', 'slow'] },
  { argv: ['start'] },
  { argv: ['start', 'nope'] },
  { argv: ['start', 'nope:*'] },
  { argv: ['start', 'fail'] },
  { argv: ['start', 'nofile'] },
  { argv: ['start', 'notexec', 'isdir'] },
  { argv: ['start', 'grp:*'] },
  { argv: ['start', 'multi:*'] },
  // stop
  { argv: ['stop', 'slow'] },
  { argv: ['stop', 'slow'] },
  { argv: ['stop'] },
  { argv: ['stop', 'nope'] },
  { argv: ['stop', 'nope:*'] },
  { argv: ['stop', 'grp:*'], view: stopsAsSet },
  { argv: ['stop', 'grp:*'] },
  { argv: ['start', 'grp:*'] },
  { argv: ['status'] },
  // restart
  { argv: ['restart', 'slow'] },
  { argv: ['restart', 'grp:*'], view: stopsAsSet },
  { argv: ['restart'] },
  { argv: ['restart', 'nope'] },
  { argv: ['stop', 'all'], view: stopsAsSet },
  { argv: ['status'] },
  { argv: ['start', 'all'] },
  { argv: ['restart', 'all'], view: stopsAsSet },
  { argv: ['status'], before: waitStates({ 'fail:fail': 'FATAL', 'once:once': 'EXITED' }) },
  // signal
  { argv: ['signal', 'CONT', 'cat'] },
  { argv: ['signal', 'CONT', 'grp:*'] },
  { argv: ['signal', 'CONT', 'all'] },
  { argv: ['signal', 'CONT', 'cat', 'grp:g1'] },
  { argv: ['signal', 'FOO', 'cat'] },
  { argv: ['signal', 'CONT', 'once'] },
  { argv: ['signal', 'CONT', 'nope'] },
  { argv: ['signal', 'CONT'] },
  { argv: ['signal'] },
  // pid
  { argv: ['pid'], view: (s) => s.replace(/^\d+$/m, '<PID>') },
  { argv: ['pid', 'cat'], view: (s) => s.replace(/^[1-9]\d*$/gm, '<PID>') },
  { argv: ['pid', 'all'], view: (s) => s.replace(/^[1-9]\d*$/gm, '<PID>') },
  { argv: ['pid', 'once'] },
  { argv: ['pid', 'nope'] },
  { argv: ['avail'] },
  { argv: ['avail', 'x'] },
  // tail
  { argv: ['tail', 'echo'] },
  { argv: ['tail', '-5', 'echo'] },
  { argv: ['tail', 'echo', 'stderr'] },
  { argv: ['tail', '-3', 'echo', 'stderr'] },
  { argv: ['tail', 'echo', 'STDERR'] },
  { argv: ['tail', 'redir'] },
  { argv: ['tail', 'cat', 'stderr'] },
  { argv: ['tail', 'nope'] },
  { argv: ['tail', 'echo', 'bogus'] },
  { argv: ['tail', '-x', 'echo'] },
  { argv: ['tail'] },
  { argv: ['tail', 'a', 'b', 'c', 'd'] },
  { argv: ['tail', '-f', 'echo'], kind: 'stream', until: (o) => o.includes('hello world\n') },
  { argv: ['tail', '-f', 'echo', 'stderr'], kind: 'stream', until: (o) => o.includes('oops\n') },
  {
    argv: ['tail', '-f', 'cat'],
    kind: 'stream',
    until: (o) => o.includes('<==\n'),
    // what the program writes while the tail follows it shows up
    during: async (d) => void (await d.rpc('supervisor.sendProcessStdin', 'cat', 'followed\n')),
    then: (o) => o.includes('followed\n'),
  },
  { argv: ['clear', 'echo'] },
  { argv: ['tail', 'echo'] },
  { argv: ['tail', 'echo', 'stderr'] },
  { argv: ['clear', 'nope'] },
  { argv: ['clear', 'echo', 'redir'] },
  { argv: ['clear', 'all'] },
  { argv: ['clear'] },
  // maintail: the main logs' lines differ; the byte arithmetic and the frame do not
  { argv: ['maintail', '-100'], view: byteCount },
  { argv: ['maintail'], view: (s) => `${byteCount(s)} ${/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ /m.test(s)}` },
  { argv: ['maintail', '-x'] },
  { argv: ['maintail', '-f'], kind: 'stream', until: (o) => /<==\n.*\n/.test(o), view: firstLine },
  // reread, add, remove, update
  { argv: ['reread'] },
  { argv: ['update'] },
  {
    argv: ['reread'],
    before: (d) => writeFileSync(d.conf, EDITED(CONF).replace(/%\(here\)s/g, d.dir)),
  },
  { argv: ['avail'] },
  { argv: ['add', 'added'] },
  { argv: ['add', 'added'] },
  { argv: ['add', 'nope'] },
  { argv: ['add'] },
  { argv: ['remove', 'added'], before: waitStates({ 'added:added': 'RUNNING' }) },
  { argv: ['stop', 'added'] },
  { argv: ['remove', 'added'] },
  { argv: ['remove', 'nope'] },
  { argv: ['remove'] },
  { argv: ['update', 'nope'] },
  { argv: ['update'] },
  { argv: ['reread'] },
  { argv: ['update', 'all'] },
  { argv: ['status'], before: waitStates({ 'grp:g1': 'RUNNING', 'added:added': 'RUNNING' }) },
  {
    argv: ['reread'],
    before: (d) => writeFileSync(d.conf, `${CONF.replace(/%\(here\)s/g, d.dir)}\n[program:bad]\nstartsecs=0\n`),
  },
  { argv: ['update'] },
  { argv: ['reread'], before: (d) => writeFileSync(d.conf, CONF.replace(/%\(here\)s/g, d.dir)) },
  { argv: ['update', 'grp', 'multi'] },
  { argv: ['version'] },
  { argv: ['version', 'x'] },
  // fg
  { argv: ['fg', 'fgcat'], kind: 'fg' },
  { argv: ['fg'] },
  { argv: ['fg', 'once'] },
  { argv: ['fg', 'nope'] },
  { argv: ['fg', 'a', 'b'] },
  { argv: ['bogus'] },
  // reload and shutdown last
  { argv: ['reload'] },
  { argv: ['status'], before: upAgain },
  { argv: ['shutdown', 'x'] },
  { argv: ['shutdown'] },
  { argv: ['status'], before: (d) => pollUntil(() => d.proc.exitCode !== null, { timeout: 30_000, what: `${d.kind} to exit` }).then(() => {}) },
  { argv: ['shutdown'] },
  { argv: ['version'] },
];

beforeAll(async () => {
  for (const kind of await Promise.all(KINDS.map((k) => startDaemon(k, CONF)))) daemons.set(kind.kind, kind);
  for (const kind of KINDS) zygotes.set(kind, new Zygote());
  for (const d of daemons.values()) heartbeats.push(heartbeat(d.sock));
  for (const step of STEPS) await run(step);
  // FV_CTL_DUMP=file writes every step's outcome there, for reading a failure.
  if (process.env.FV_CTL_DUMP) writeFileSync(process.env.FV_CTL_DUMP, JSON.stringify(results, null, 1));
}, 240_000);

afterAll(async () => {
  for (const stop of heartbeats) stop();
  for (const z of zygotes.values()) z.close();
  for (const pid of kids) killGroup(pid);
  await stopAllDaemons();
  for (const d of daemons.values()) killStrays(d.sock);
  removeTmpDirs();
});

describe('the real supervisorctl against supervisord and fastvisor', () => {
  it('ran every step on both', () => {
    expect(results.map((r) => r.title)).toEqual(STEPS.map((s) => s.argv.join(' ')));
  });

  it('prints the same and exits the same, step by step', () => {
    const diffs: string[] = [];
    for (const { title, outcome } of results) {
      const [a, b] = [outcome.supervisord, outcome.fastvisor];
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        diffs.push(`supervisorctl ${title}\n  supervisord: ${JSON.stringify(a)}\n  fastvisor:   ${JSON.stringify(b)}`);
      }
    }
    expect(diffs.join('\n')).toBe('');
  });

  it('exit codes are the LSB ones supervisorctl documents', () => {
    const code = (title: string): number | null | undefined => results.find((r) => r.title === title)?.outcome.fastvisor.code;
    expect(code('status nope')).toBe(4);
    expect(code('start')).toBe(2);
    expect(code('start fail')).toBe(7);
    expect(code('pid once')).toBe(7);
    expect(code('stop')).toBe(1);
  });

  it('both daemons are gone after shutdown, exit status 0, leaving no process behind', () => {
    for (const d of daemons.values()) {
      expect({ kind: d.kind, code: d.proc.exitCode, left: strays(d.sock) }, d.stdout().slice(-3000)).toEqual({ kind: d.kind, code: 0, left: [] });
    }
  });
});
