// SPDX-License-Identifier: MIT
// The config phase of npm run fuzz: N generated config files (configs.ts) read by
// fastvisor's loader and by supervisord 4.2.5's own ServerOptions.realize(), each in a
// child process that is watched for hangs and crashes; then a sample of the refused
// ones through the daemon's real command line, which must end in supervisord's usage
// style ("Error: ...", "For help, use PROG -h", exit 2) and never a stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import { PYTHON } from '../../test/helpers/python.js';
import { rng } from '../../test/helpers/rng.js';
import { FASTVISOR_ONLY_OPTIONS, generatedConfig } from './configs.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface Outcome {
  ok?: true;
  error?: string;
  /** fastvisor: anything but a ConfigError escaped the loader (a bug) */
  internal?: string;
  /** supervisord: the traceback's last line */
  crash?: string;
  hang?: true;
  died?: string;
  /** supervisord: not asked, as it never finishes reading these (huge numprocs) */
  skipped?: true;
}

export interface CaseDir {
  dir: string;
  kind: string;
  env: Record<string, string>;
  /** sets a fastvisor-only option, which supervisord ignores: refusing a bad value is no disagreement */
  fastvisorOnly: boolean;
}

const FASTVISOR_ONLY = new RegExp(`^\\s*(${[...FASTVISOR_ONLY_OPTIONS].join('|')})\\s*[=:]`, 'm');

/** Writes cases [0, n) of seed `seed` under `root`. */
export function writeCases(root: string, n: number, seed: number): CaseDir[] {
  const r = rng(seed);
  const out: CaseDir[] = [];
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `c${i}`);
    mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    const g = generatedConfig(r, dir);
    for (const [rel, content] of Object.entries(g.files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    const env = { HOME: os.homedir(), PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', TMPDIR: path.join(dir, 'tmp'), ...g.env };
    const fastvisorOnly = Object.values(g.files).some((f) => FASTVISOR_ONLY.test(f.toString('latin1')));
    out.push({ dir, kind: g.kind, env, fastvisorOnly });
  }
  return out;
}

/**
 * Runs a worker over every case: one JSON line per case. A case that produces no line
 * within `hangMs` is a hang (the worker is killed by pid and restarted after it), one
 * during which the worker dies is recorded as such.
 */
async function runWorker(cmd: string, args: (start: number) => string[], n: number, hangMs: number): Promise<Outcome[]> {
  const out: Outcome[] = new Array<Outcome>(n);
  let next = 0;
  while (next < n) {
    const child = spawn(cmd, args(next), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    let timer: NodeJS.Timeout | undefined;
    let hung = false;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, hangMs);
    };
    arm();
    const exited = new Promise<string>((resolve) => child.once('exit', (code, sig) => resolve(sig ?? `exit ${code}`)));
    for await (const line of readline.createInterface({ input: child.stdout })) {
      let o: Outcome & { i: number };
      try {
        o = JSON.parse(line) as Outcome & { i: number };
      } catch {
        continue; // cut short by the worker's death: that case is the one recorded as died
      }
      const { i, ...rest } = o;
      out[i] = rest;
      next = i + 1;
      arm();
    }
    const how = await exited;
    clearTimeout(timer);
    if (next < n) {
      out[next] = hung ? { hang: true } : { died: `${how}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` };
      next++;
    }
  }
  return out;
}

export function fastvisorOutcomes(listFile: string, n: number, hangMs = 10_000): Promise<Outcome[]> {
  return runWorker(process.execPath, (s) => ['--max-old-space-size=1536', '--import', 'tsx', path.join(here, 'config-worker.ts'), listFile, String(s)], n, hangMs);
}

export function supervisordOutcomes(listFile: string, n: number, hangMs = 20_000): Promise<Outcome[]> {
  return runWorker(PYTHON, (s) => [path.join(here, 'supervisord_configs.py'), listFile, String(s)], n, hangMs);
}

/** What a refused config must print: the error, then supervisord's usage hint, nothing else. */
export function usageStyle(stderr: string, error: string): boolean {
  return stderr === `Error: ${error}\nFor help, use ${'PROG'} -h\n`;
}

/** The daemon's command line on one case: exit status and stderr (the program name masked). */
export function runCli(command: string[], c: CaseDir): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(command[0]!, [...command.slice(1), '-n', '-c', 'supervisord.conf'], {
    cwd: c.dir,
    env: c.env,
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/For help, use \S+ -h/g, 'For help, use PROG -h') };
}

export interface ConfigFuzzResult {
  n: number;
  seconds: number;
  ours: Record<string, number>;
  theirs: Record<string, number>;
  /** both refused with the same text / both accepted */
  sameText: number;
  bothOk: number;
  /** both refused, in other words (another problem found first, mostly) */
  otherWords: number;
  /** one accepted what the other refused (fastvisor-only options aside) */
  disagree: number;
  /** cases setting a fastvisor-only option, or that supervisord never finishes reading: left out of the comparison */
  fastvisorOnly: number;
  /** both refused, other words; or one accepted what the other refused: the first few */
  differ: string[];
  cliRuns: number;
  /** CLI runs that did not end in "Error: <the loader's text>\nFor help, ...", exit 2 */
  cliBad: string[];
  /** fastvisor hangs, deaths and internal errors, for the report */
  bad: string[];
}

function tally(xs: Outcome[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const x of xs) {
    const k = x.ok
      ? 'accepted'
      : x.error !== undefined
        ? 'refused'
        : x.internal
          ? 'INTERNAL'
          : x.crash
            ? 'traceback'
            : x.hang
              ? 'HANG'
              : x.skipped
                ? 'not asked (huge numprocs: never finishes)'
                : 'DIED';
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

export async function fuzzConfigs(opts: { n: number; seed: number; cliSample: number; cli: string[]; compare: boolean }): Promise<ConfigFuzzResult> {
  const t0 = performance.now();
  const root = mkdtempSync(path.join(os.tmpdir(), 'fv-cfgfuzz-'));
  try {
    const cases = writeCases(root, opts.n, opts.seed);
    const listFile = path.join(root, 'cases.json');
    writeFileSync(listFile, JSON.stringify(cases));
    const [ours, theirs] = await Promise.all([
      fastvisorOutcomes(listFile, opts.n),
      opts.compare ? supervisordOutcomes(listFile, opts.n) : Promise.resolve([] as Outcome[]),
    ]);
    const bad: string[] = [];
    ours.forEach((o, i) => {
      if (o.internal || o.hang || o.died) bad.push(`case ${i} (${cases[i]!.kind}): ${o.internal?.split('\n').slice(0, 3).join(' | ') ?? (o.hang ? 'hang' : o.died)}`);
    });
    let sameText = 0;
    let bothOk = 0;
    let disagree = 0;
    let otherWords = 0;
    let fastvisorOnly = 0;
    const differ: string[] = [];
    const show = (x: Outcome): string => JSON.stringify(x).slice(0, 400);
    theirs.forEach((t, i) => {
      const o = ours[i]!;
      if (cases[i]!.fastvisorOnly || t.skipped) fastvisorOnly++;
      else if (o.ok && t.ok) bothOk++;
      else if (o.error !== undefined && t.error !== undefined && o.error === t.error) sameText++;
      else {
        if (o.error !== undefined && t.error !== undefined) otherWords++;
        else disagree++;
        if (differ.length < 20) differ.push(`case ${i} (${cases[i]!.kind}): fastvisor ${show(o)}; supervisord ${show(t)}`);
      }
    });
    // A sample of the refused through the real command line, spread over the whole run.
    const refused = ours.map((o, i) => (o.error !== undefined ? i : -1)).filter((i) => i >= 0);
    const step = Math.max(1, Math.floor(refused.length / Math.max(1, opts.cliSample)));
    const cliBad: string[] = [];
    let cliRuns = 0;
    for (let k = 0; k < refused.length && cliRuns < opts.cliSample; k += step) {
      const i = refused[k]!;
      const r = runCli(opts.cli, cases[i]!);
      cliRuns++;
      if (r.status !== 2 || !usageStyle(r.stderr, ours[i]!.error!) || /\n\s+at /.test(r.stderr)) {
        cliBad.push(`case ${i}: exit ${r.status}, stderr ${JSON.stringify(r.stderr.slice(0, 300))}`);
      }
    }
    return {
      n: opts.n,
      seconds: (performance.now() - t0) / 1000,
      ours: tally(ours),
      theirs: tally(theirs),
      sameText,
      bothOk,
      otherWords,
      disagree,
      fastvisorOnly,
      differ,
      cliRuns,
      cliBad,
      bad,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
