// SPDX-License-Identifier: MIT
// npm run fuzz [-- [--runs N] [--idle S] [--seed N] [--only config,mutated,deep,huge,conns,big] [--configs N] [--bodies N] [--daemon BUNDLE.cjs]]
//
// First, N generated config files (default 10 000; config-fuzz.ts) read by fastvisor and by
// supervisord 4.2.5's own parser, and a sample of the refused ones through the daemon's
// command line. Then:
// Hostile XML-RPC traffic against a real fastvisor daemon (src/ bundled with esbuild,
// plain Node, as the bench runs it) on a unix socket and a loopback port: 10 000 mutated
// bodies, deep nesting, a 100 MB string, 1000 connections each holding part of a body,
// forty near-2 MB bodies. Meanwhile a normal getState is timed; the daemon's RSS is read
// before, at its peak, right after and after an idle spell. Everything comes from a
// seeded generator; each run is a fresh daemon, and the table ends with the medians.
// FUZZ_NODE_ARGS adds Node options to the daemon's command line (e.g. an --import that
// logs process.memoryUsage(), to see where the memory is).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';


import { MAX_BODY_BYTES, serializeMethodCall } from '../../src/rpc/codec.js';
import { freePort, type Addr } from '../../test/helpers/http-raw.js';
import { rng } from '../../test/helpers/rng.js';
import { bundleDaemon } from '../lib/build.js';
import { median, now, percentile, procMemory } from '../lib/measure.js';
import { fuzzConfigs } from './config-fuzz.js';
import { mutatedBody, nearLimitBody, nestedBody, unclosedNesting, wideBody, type Rand } from './attacks.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Options {
  runs: number;
  idleS: number;
  seed: number;
  /** these phases only (mutated, deep, huge, conns, big); all when empty */
  only: string[];
  /** a daemon bundle to run instead of bundling src/ (to compare two builds) */
  daemon: string | null;
  /** generated config files for the config phase */
  configs: number;
  /** mutated XML-RPC bodies for the mutated phase */
  bodies: number;
}

const DAEMON_PHASES = ['mutated', 'deep', 'huge', 'conns', 'big'];

function parseArgs(argv: string[]): Options {
  const o: Options = { runs: 1, idleS: 20, seed: 1, only: [], daemon: null, configs: 10_000, bodies: 10_000 };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const v = (): number => Number(inline ?? argv[++i]);
    if (k === '--runs') o.runs = Math.max(1, v());
    else if (k === '--idle') o.idleS = Math.max(0, v());
    else if (k === '--seed') o.seed = v();
    else if (k === '--only') o.only = (inline ?? argv[++i] ?? '').split(',').filter(Boolean);
    else if (k === '--configs') o.configs = Math.max(1, v());
    else if (k === '--bodies') o.bodies = Math.max(1, v());
    else if (k === '--daemon') o.daemon = path.resolve(inline ?? argv[++i] ?? '');
    else if (k === '--help' || k === '-h') {
      console.log('npm run fuzz [-- [--runs N] [--idle S] [--seed N] [--only config,mutated,deep,huge,conns,big] [--configs N] [--bodies N] [--daemon BUNDLE.cjs]]');
      process.exit(0);
    } else throw new Error(`unknown option ${k}`);
  }
  if (![o.runs, o.idleS, o.seed, o.configs, o.bodies].every(Number.isFinite)) throw new Error('--runs, --idle, --seed, --configs and --bodies take numbers');
  return o;
}

// ---- the daemon -----------------------------------------------------------------

interface Daemon {
  proc: ChildProcess;
  /** its programs' pids, to kill should it leave any behind */
  programs: number[];
  pid: number;
  dir: string;
  unix: Addr;
  inet: Addr;
}

async function startDaemon(bundle: string): Promise<Daemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fv-fuzz-'));
  const port = await freePort();
  const sock = path.join(dir, 'supervisor.sock');
  const conf = path.join(dir, 'supervisord.conf');
  const programs = [0, 1, 2].map((i) => `[program:p${i}]\ncommand=/bin/sleep 1000\nstartsecs=0\n`).join('\n');
  writeFileSync(
    conf,
    `[supervisord]\nnodaemon=true\nsilent=true\nlogfile=${dir}/supervisord.log\npidfile=${dir}/supervisord.pid\nchildlogdir=${dir}\n\n` +
      `[unix_http_server]\nfile=${sock}\n\n[inet_http_server]\nport=127.0.0.1:${port}\n\n` +
      `[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n${programs}`,
  );
  const extra = (process.env.FUZZ_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...extra, bundle, '-n', '-c', conf], { cwd: dir, detached: true, stdio: 'ignore' });
  const d: Daemon = { proc, programs: [], pid: proc.pid!, dir, unix: { path: sock }, inet: { host: '127.0.0.1', port } };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the daemon exited at start-up (${proc.exitCode})`);
    const r = await request(d.unix, post(GET_STATE), 1000).catch(() => null);
    if (r?.status === 200) return d;
    if (Date.now() > deadline) throw new Error('the daemon did not answer getState within 20 s');
    await sleep(100);
  }
}

async function stopDaemon(d: Daemon): Promise<void> {
  const info = await request(d.unix, post(serializeMethodCall('supervisor.getAllProcessInfo', [])), 5000, true).catch(() => null);
  d.programs = [...(info?.text ?? '').matchAll(/<name>pid<\/name>\n<value><int>(\d+)<\/int>/g)].map((m) => Number(m[1])).filter((p) => p > 0);
  const exited = new Promise<void>((r) => (d.proc.exitCode !== null ? r() : d.proc.once('exit', () => r())));
  try {
    process.kill(d.pid, 'SIGTERM');
  } catch {
    // gone
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-d.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
  // It stops its programs on SIGTERM; each has its own process group, so whatever a killed
  // daemon left behind is killed by pid.
  for (const pid of d.programs) {
    try {
      // Only if that pid is still our /bin/sleep 1000, not a process that reused it.
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8') === '/bin/sleep\x001000\x00') process.kill(pid, 'SIGKILL');
    } catch {
      // stopped, as it should be
    }
  }
  rmSync(d.dir, { recursive: true, force: true });
}

function rssMB(pid: number): number {
  return (procMemory(pid)?.rssKB ?? NaN) / 1024;
}

function peakMB(pid: number): number {
  return (procMemory(pid)?.peakKB ?? NaN) / 1024;
}

// ---- a small HTTP client ----------------------------------------------------------

const GET_STATE = serializeMethodCall('supervisor.getState', []);

function post(body: Buffer, contentLength = body.length): Buffer {
  return Buffer.concat([
    Buffer.from(`POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: ${contentLength}\r\n\r\n`, 'latin1'),
    body,
  ]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function connect(addr: Addr): net.Socket {
  return 'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
}

/** What came back: a status (0: the connection ended without a whole reply), and whether it closed. */
interface Reply {
  status: number;
  bytes: number;
  closed: boolean;
  /** the body, when asked for */
  text?: string;
}

/** Reads replies off one socket: each resolves once its Content-Length has arrived. */
class ReplyReader {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: ((r: Reply) => void)[] = [];
  closed = false;

  constructor(
    readonly sock: net.Socket,
    private readonly keepText = false,
  ) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.drain();
    });
    const end = (): void => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w({ status: 0, bytes: 0, closed: true });
    };
    sock.on('close', end);
    sock.on('error', () => {});
  }

  next(): Promise<Reply> {
    if (this.closed) return Promise.resolve({ status: 0, bytes: 0, closed: true });
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.drain();
    });
  }

  private drain(): void {
    while (this.waiting.length) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const cl = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (this.buf.length < end + 4 + cl) return;
      const text = this.keepText ? this.buf.subarray(end + 4, end + 4 + cl).toString() : undefined;
      this.buf = this.buf.subarray(end + 4 + cl);
      this.waiting.shift()!({
        status: Number(head.split(' ')[1]),
        bytes: cl,
        closed: /\r\nconnection:\s*close/i.test(head),
        text,
      });
    }
  }
}

/** One request on a fresh connection. */
function request(addr: Addr, data: Buffer, timeoutMs = 30_000, keepText = false): Promise<Reply> {
  const sock = connect(addr);
  const reader = new ReplyReader(sock, keepText);
  const timer = setTimeout(() => sock.destroy(), timeoutMs);
  sock.on('connect', () => sock.write(data));
  return reader.next().finally(() => {
    clearTimeout(timer);
    sock.destroy();
  });
}

/** Requests one after another on a kept-alive connection, reconnecting when the server closes it. */
class KeepAlive {
  private sock: net.Socket | null = null;
  private reader: ReplyReader | null = null;

  constructor(private readonly addr: Addr) {}

  async send(data: Buffer): Promise<Reply> {
    if (!this.sock || !this.reader || this.reader.closed) {
      this.sock?.destroy();
      this.sock = connect(this.addr);
      this.reader = new ReplyReader(this.sock);
    }
    const reader = this.reader;
    const sock = this.sock;
    sock.write(data);
    const timer = setTimeout(() => sock.destroy(), 30_000);
    const r = await reader.next();
    clearTimeout(timer);
    if (r.closed) {
      sock.destroy();
      this.sock = null;
    }
    return r;
  }

  close(): void {
    this.sock?.destroy();
    this.sock = null;
  }
}

function count(tally: Map<string, number>, status: number): void {
  const k = status === 0 ? 'closed' : String(status);
  tally.set(k, (tally.get(k) ?? 0) + 1);
}

function tallyText(t: Map<string, number>): string {
  return [...t].sort().map(([k, v]) => `${k}×${v}`).join(' ');
}

// ---- the attacks ------------------------------------------------------------------

interface PhaseResult {
  name: string;
  seconds: number;
  replies: string;
  rssMB: number;
  /** the slowest getState that started during the phase, ms */
  maxMs: number;
}

async function mutated(d: Daemon, r: Rand, n: number): Promise<string> {
  const tally = new Map<string, number>();
  let next = 0;
  const worker = async (addr: Addr): Promise<void> => {
    const c = new KeepAlive(addr);
    // Made as sent (the same sequence for a seed): 100 000 bodies held at once would be the bench's memory, not the daemon's.
    while (next < n) {
      next++;
      count(tally, (await c.send(post(mutatedBody(r)))).status);
    }
    c.close();
  };
  await Promise.all(Array.from({ length: 16 }, (_, i) => worker(i % 2 ? d.inet : d.unix)));
  return tallyText(tally);
}

async function deep(d: Daemon): Promise<string> {
  const tally = new Map<string, number>();
  const bodies = [
    nestedBody(65, 'array'),
    nestedBody(65, 'struct'),
    nestedBody(20_000, 'array'),
    nestedBody(20_000, 'struct'),
    unclosedNesting(MAX_BODY_BYTES - 1024),
    wideBody(150_000),
  ];
  const c = new KeepAlive(d.unix);
  for (let round = 0; round < 5; round++) for (const b of bodies) count(tally, (await c.send(post(b))).status);
  c.close();
  return tallyText(tally);
}

/** A 100 MB <string> with its true Content-Length, written until the server stops reading. */
async function huge(addr: Addr): Promise<string> {
  const head = Buffer.from("<?xml version='1.0'?><methodCall><methodName>supervisor.getProcessInfo</methodName><params><param><value><string>");
  const tail = Buffer.from('</string></value></param></params></methodCall>');
  const size = 100 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 'A');
  const sock = connect(addr);
  const reader = new ReplyReader(sock);
  const reply = reader.next();
  let sent = 0;
  await new Promise<void>((resolve) => sock.once('connect', resolve).once('error', () => resolve()));
  sock.write(post(head, size));
  sent += head.length;
  while (sent < size && !reader.closed) {
    const n = Math.min(chunk.length, size - tail.length - sent);
    const more = n > 0 ? sock.write(chunk.subarray(0, n)) : sock.write(tail);
    sent += n > 0 ? n : tail.length;
    if (!more) await Promise.race([new Promise((r) => sock.once('drain', r)), new Promise((r) => sock.once('close', r))]);
  }
  const r = await Promise.race([reply, sleep(10_000).then(() => ({ status: -1, bytes: 0, closed: false }))]);
  sock.destroy();
  return `${r.status === 0 ? 'closed' : r.status} after ${(Math.min(sent, size) / 1048576).toFixed(1)} MB sent`;
}

/** 1000 connections, each sending the headers of a 1.9 MB call and its first 64 KiB, then waiting. */
async function connections(d: Daemon, n: number): Promise<{ text: string; rssHeldMB: number }> {
  const partial = Buffer.concat([post(Buffer.alloc(0), 1_900_000), Buffer.alloc(64 * 1024, 'B')]);
  const socks: { sock: net.Socket; reader: ReplyReader; reply: Promise<Reply> }[] = [];
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, j) => {
        const sock = connect((i + j) % 2 ? d.inet : d.unix);
        const reader = new ReplyReader(sock);
        socks.push({ sock, reader, reply: reader.next() });
        return new Promise<void>((resolve) => {
          sock.once('error', () => resolve());
          sock.once('connect', () => sock.write(partial, () => resolve()));
        });
      }),
    );
  }
  await sleep(2000);
  const rssHeldMB = rssMB(d.pid);
  const tally = new Map<string, number>();
  let open = 0;
  for (const s of socks) {
    if (s.reader.closed) count(tally, (await s.reply).status);
    else open++;
    s.sock.destroy();
  }
  if (open) tally.set('held open', open);
  return { text: tallyText(tally), rssHeldMB };
}

async function nearLimit(d: Daemon, n: number): Promise<string> {
  const tally = new Map<string, number>();
  const replies = await Promise.all(
    Array.from({ length: n }, (_, i) => request(i % 2 ? d.inet : d.unix, post(nearLimitBody(MAX_BODY_BYTES - 4096, i)))),
  );
  let bytes = 0;
  for (const r of replies) {
    count(tally, r.status);
    bytes += r.bytes;
  }
  return `${tallyText(tally)}, ${(bytes / 1048576).toFixed(1)} MB of replies`;
}

// ---- one run ----------------------------------------------------------------------

interface RunResult {
  startMB: number;
  peakMB: number;
  afterMB: number;
  idleMB: number;
  baseP50: number;
  p50: number;
  p99: number;
  max: number;
  probeFailures: number;
  phases: PhaseResult[];
}

/** getState every 50 ms on its own kept-alive connection while `running()`. */
interface Probe {
  ms: number[];
  /** when each call started */
  at: number[];
  failures: number;
}

async function probe(addr: Addr, running: () => boolean, into: Probe = { ms: [], at: [], failures: 0 }): Promise<Probe> {
  const c = new KeepAlive(addr);
  while (running()) {
    const t = now();
    const r = await c.send(post(GET_STATE));
    if (r.status === 200) {
      into.ms.push(now() - t);
      into.at.push(t);
    } else into.failures++;
    await sleep(50);
  }
  c.close();
  return into;
}

async function oneRun(bundle: string, opts: Options, run: number): Promise<RunResult> {
  const d = await startDaemon(bundle);
  try {
    // Let start-up garbage settle and the programs start before the first reading.
    await sleep(3000);
    const baseUntil = now() + 2000;
    const base = await probe(d.unix, () => now() < baseUntil);
    const startMB = rssMB(d.pid);
    const r = rng(opts.seed * 1000 + run);
    let attacking = true;
    const lat: Probe = { ms: [], at: [], failures: 0 };
    const during = probe(d.unix, () => attacking, lat);
    const phases: PhaseResult[] = [];
    // When each phase ran: the slowest call that started in it is its figure (known once the probe stops).
    const spans: [number, number][] = [];
    const phase = async (key: string, name: string, fn: () => Promise<string>): Promise<void> => {
      if (opts.only.length && !opts.only.includes(key)) return;
      const t = now();
      const replies = await fn();
      phases.push({ name, seconds: (now() - t) / 1000, replies, rssMB: rssMB(d.pid), maxMs: NaN });
      spans.push([t, now()]);
    };
    await phase('mutated', `${opts.bodies} mutated bodies`, () => mutated(d, r, opts.bodies));
    await phase('deep', 'deep nesting, 100k+ values', () => deep(d));
    await phase('huge', '100 MB string (unix, inet)', async () => `${await huge(d.unix)}; ${await huge(d.inet)}`);
    let held = 0;
    await phase('conns', '1000 connections × 64 KiB', async () => {
      const c = await connections(d, 1000);
      held = c.rssHeldMB;
      return `${c.text}; RSS while held ${held.toFixed(0)} MB`;
    });
    await phase('big', '40 near-2 MB bodies', () => nearLimit(d, 40));
    attacking = false;
    await during;
    phases.forEach((p, i) => {
      const [from, to] = spans[i]!;
      const inPhase = lat.ms.filter((_, j) => lat.at[j]! >= from && lat.at[j]! < to);
      if (inPhase.length) p.maxMs = Math.max(...inPhase);
    });
    const afterMB = rssMB(d.pid);
    const peak = peakMB(d.pid);
    const samples: string[] = [];
    for (let t = 0; t < opts.idleS; t += 5) {
      await sleep(Math.min(5, opts.idleS - t) * 1000);
      samples.push(rssMB(d.pid).toFixed(0));
    }
    const idleMB = rssMB(d.pid);
    const still = await request(d.unix, post(GET_STATE), 5000);
    if (still.status !== 200) throw new Error(`getState after the attack: ${still.status}`);
    console.log(`run ${run + 1}: idle RSS every 5 s: ${samples.join(' ')} MB`);
    return {
      startMB,
      peakMB: peak,
      afterMB,
      idleMB,
      baseP50: median(base.ms) ?? NaN,
      p50: median(lat.ms) ?? NaN,
      p99: percentile(lat.ms, 99) ?? NaN,
      max: Math.max(...lat.ms),
      probeFailures: lat.failures,
      phases,
    };
  } finally {
    await stopDaemon(d);
  }
}

// ---- the table --------------------------------------------------------------------

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

async function configPhase(opts: Options, bundle: string): Promise<boolean> {
  const r = await fuzzConfigs({ n: opts.configs, seed: opts.seed, cliSample: 200, cli: [process.execPath, bundle], compare: true });
  const t = (x: Record<string, number>): string => Object.entries(x).map(([k, v]) => `${k} ${v}`).join(', ');
  const compared = r.n - r.fastvisorOnly;
  console.log(`${r.n} generated config files in ${r.seconds.toFixed(1)} s (seed ${opts.seed})`);
  console.log(`  fastvisor:   ${t(r.ours)}`);
  console.log(`  supervisord: ${t(r.theirs)}`);
  console.log(
    `  of ${compared} without fastvisor-only options or huge numprocs: same error text ${r.sameText}, both accepted ${r.bothOk}, ` +
      `both refused in other words ${r.otherWords}, one accepted what the other refused ${r.disagree}`,
  );
  console.log(`  command line on ${r.cliRuns} refused ones: ${r.cliRuns - r.cliBad.length} ended "Error: ...", "For help, use PROG -h", exit 2`);
  for (const line of [...r.bad, ...r.cliBad]) console.log(`  BAD ${line}`);
  if (r.differ.length) console.log(`  first differences:\n    ${r.differ.map((d) => d.slice(0, 300)).join('\n    ')}`);
  console.log('');
  return r.bad.length === 0 && r.cliBad.length === 0;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const bundle = opts.daemon ?? bundleDaemon(repoRoot);
  let clean = true;
  if (!opts.only.length || opts.only.includes('config')) clean = await configPhase(opts, bundle);
  if (opts.only.length && !opts.only.some((p) => DAEMON_PHASES.includes(p))) {
    if (!clean) process.exitCode = 1;
    return;
  }
  const results: RunResult[] = [];
  for (let run = 0; run < opts.runs; run++) {
    const res = await oneRun(bundle, opts, run);
    results.push(res);
    console.log(
      table([
        ['phase', 'seconds', 'RSS MB', 'slowest getState ms', 'replies'],
        ...res.phases.map((p) => [p.name, p.seconds.toFixed(1), p.rssMB.toFixed(0), Number.isFinite(p.maxMs) ? p.maxMs.toFixed(0) : '-', p.replies]),
      ]),
    );
    console.log('');
  }
  const f = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const row = (label: string, x: RunResult): string[] => [
    label,
    f(x.startMB),
    f(x.peakMB),
    f(x.afterMB),
    f(x.idleMB),
    f(x.idleMB / x.startMB, 2),
    f(x.baseP50, 1),
    f(x.p50, 1),
    f(x.p99, 1),
    f(x.max, 1),
    String(x.probeFailures),
  ];
  const med = (k: keyof Omit<RunResult, 'phases'>): number => median(results.map((x) => x[k])) ?? NaN;
  const rows = results.map((x, i) => row(`run ${i + 1}`, x));
  if (results.length > 1) {
    rows.push(
      row('median', {
        startMB: med('startMB'),
        peakMB: med('peakMB'),
        afterMB: med('afterMB'),
        idleMB: med('idleMB'),
        baseP50: med('baseP50'),
        p50: med('p50'),
        p99: med('p99'),
        max: med('max'),
        probeFailures: med('probeFailures'),
        phases: [],
      }),
    );
  }
  console.log(
    table([
      ['', 'start MB', 'peak MB', 'after MB', `idle ${opts.idleS}s MB`, 'idle/start', 'getState p50 before ms', 'p50 during', 'p99 during', 'max during', 'failed'],
      ...rows,
    ]),
  );
  if (!clean) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error((err as Error)?.stack ?? String(err));
  process.exit(1);
});
