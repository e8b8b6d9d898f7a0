// SPDX-License-Identifier: MIT
// Realistic configs, run unchanged under the real supervisord and fastvisor side by
// side and driven with the real supervisorctl as a new user would: status, avail,
// tail, stop/start/restart all, signal, reread + update after an edit, shutdown (or
// a listener that shuts the daemon down). Compared: every ctl output and exit code
// (pids, uptimes and times masked), the main-log lines about each program, the files
// the programs wrote, and that no process outlives its daemon.
//
// The configs: a container (nginx + php-fpm style, logs to /dev/stdout with
// maxbytes=0, user=root, the daemon's stdout a pipe); Debian's supervisord.conf with a
// conf.d include tree (a queue-worker pool with numprocs and %(process_num)02d,
// %(here)s of the included file, %(ENV_X)s, a celery-style [group:]); and two
// listeners that stop the daemon, one with kill -QUIT $PPID, one through the pidfile.
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { normalize, pythonRunner, type CtlResult, type Runner } from '../../helpers/ctl-harness.js';
import { startDaemon, stopAllDaemons, type Daemon, type DaemonKind } from '../../helpers/daemon-harness.js';
import { linesAbout, maskLog, pipedStdout } from '../../helpers/differential.js';
import { pollUntil } from '../../helpers/poll.js';
import { isAlive, killTracked } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const ROOT = process.getuid?.() === 0;
const KINDS = ['supervisord', 'fastvisor'] as const;

interface Info {
  name: string;
  group: string;
  statename: string;
  pid: number;
}

interface Scenario {
  /** the supervisord.conf text (the harness adds logfile, pidfile, childlogdir, the socket) */
  config: string;
  /** other files of the tree, relative to the config's directory */
  files?: Record<string, string>;
  /** environment of the daemon */
  env?: Record<string, string>;
  /** the daemon's stdout is a pipe (container logs to /dev/stdout) */
  pipe?: boolean;
  /** how many processes, and which states, once it has settled */
  settled: (infos: Info[]) => boolean;
  /**
   * supervisorctl commands, in order; `edit` changes the tree; `settle` waits for `settled`
   * (`settledAfterEdit` once edited); `{ respawned }` also waits until those processes run
   * with pids not seen before the previous step (a signal killed them, autorestart is on).
   */
  steps: Array<string[] | 'edit' | 'settle' | { respawned: RegExp }>;
  edit?: (dir: string) => void;
  settledAfterEdit?: (infos: Info[]) => boolean;
  /** commands whose output lines come in completion order: compared sorted */
  unordered?: RegExp;
  /** the last step ends the daemon (shutdown, or a listener kills it) */
  programs: string[];
  /** files the programs write, compared byte for byte */
  written?: string[];
}

const allRunning = (n: number) => (infos: Info[]) => infos.length === n && infos.every((i) => i.statename === 'RUNNING');
/** n processes, all RUNNING but one that is not started */
const runningBut = (n: number, idle: string) => (infos: Info[]) =>
  infos.length === n && infos.every((i) => i.statename === (i.name === idle ? 'STOPPED' : 'RUNNING'));

// An event listener in sh, as such scripts are written: READY, one event, RESULT 2 OK.
// When $WATCH's event comes, it stops the daemon: kill -QUIT $PPID, or the pidfile.
const STOPPER = `#!/bin/sh
printf 'READY\\n'
while read -r header; do
  len=\${header##*len:}
  payload=$(dd bs=1 count="$len" 2>/dev/null)
  printf 'RESULT 2\\nOK'
  case "$payload" in
    *"processname:$WATCH "*)
      if [ "$HOW" = pidfile ]; then kill -TERM "$(cat "$PIDFILE")"; else kill -QUIT $PPID; fi ;;
  esac
  printf 'READY\\n'
done
`;

const SCENARIOS: Record<string, Scenario> = {
  container: {
    pipe: true,
    config: `
[supervisord]
nodaemon=true
${ROOT ? 'user=root' : ''}

[program:nginx]
command=/bin/sh -c 'echo "nginx: ready for connections"; trap "echo nginx: reloading" HUP; trap "exit 0" TERM; while :; do sleep 0.1; done'
autorestart=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
stderr_logfile=/dev/stderr
stderr_logfile_maxbytes=0

[program:php-fpm]
command=/bin/sh -c 'echo "php-fpm: fpm is running" >&2; exec sleep 300'
autorestart=true
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
`,
    settled: allRunning(2),
    steps: [
      ['status'],
      ['avail'],
      ['tail', 'nginx'],
      ['tail', 'nginx', 'stderr'],
      ['tail', 'php-fpm'],
      ['stop', 'all'],
      ['status'],
      ['start', 'all'],
      ['restart', 'all'],
      // Its trap runs after the loop's sleep: well before the shutdown at the end.
      ['signal', 'HUP', 'nginx'],
      'edit',
      ['reread'],
      ['update'],
      'settle',
      ['status'],
      ['shutdown'],
    ],
    edit: (dir) => {
      const conf = path.join(dir, 'supervisord.conf');
      writeFileSync(conf, readFileSync(conf, 'utf8').replace('fpm is running', 'fpm is running again'));
    },
    settledAfterEdit: allRunning(2),
    unordered: /^(stop|start|restart) all$/,
    programs: ['nginx', 'php-fpm'],
  },

  debian: {
    env: { APP_ENV: 'production' },
    config: `
; supervisor config file (as Debian ships it, paths under the test's directory)

[unix_http_server]
file=%(here)s/supervisor.sock   ; (the path to the socket file)
chmod=0700                       ; sockef file mode (default 0700)

[supervisord]
logfile=%(here)s/supervisord.log ; (main log file;default $CWD/supervisord.log)
pidfile=%(here)s/supervisord.pid ; (supervisord pidfile;default supervisord.pid)
childlogdir=%(here)s/childlogs            ; ('AUTO' child log dir, default $TEMP)

; the below section must remain in the config file for RPC
; (supervisorctl/web interface) to work, additional interfaces may be
; added by defining them in separate rpcinterface: sections
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/supervisor.sock ; use a unix:// URL  for a unix socket

; The [include] section can just contain the "files" setting.  This
; setting can list multiple files (separated by whitespace or
; newlines).  It can also contain wildcards.  The filenames are
; interpreted as relative to this file.  Included files *cannot*
; include files themselves.

[include]
files = conf.d/*.conf
`,
    files: {
      'conf.d/queue.conf': `[program:queue]
process_name=%(program_name)s_%(process_num)02d
command=/bin/sh -c 'echo "worker %(process_num)02d of %(program_name)s in %(ENV_APP_ENV)s at $PWD"; exec sleep 300'
directory=%(here)s
numprocs=3
autostart=true
autorestart=true
stopasgroup=true
killasgroup=true
stopwaitsecs=5
redirect_stderr=true
stdout_logfile=%(here)s/../logs/%(program_name)s_%(process_num)02d.log
`,
      'conf.d/celery.conf': `[program:celery_worker]
command=/bin/sh -c 'echo "celery@worker ready." >&2; exec sleep 300'
stdout_logfile=%(here)s/../logs/celery_worker.out
environment=C_FORCE_ROOT="true",APP_ENV="%(ENV_APP_ENV)s"
priority=998

[program:celery_beat]
command=/bin/sh -c 'echo "beat: Starting..."; exec sleep 300'
stdout_logfile=%(here)s/../logs/celery_beat.out
stderr_logfile=%(here)s/../logs/celery_beat.err
priority=999

[group:celery]
programs=celery_worker,celery_beat
`,
    },
    settled: allRunning(5),
    steps: [
      ['status'],
      ['avail'],
      ['tail', 'queue:queue_00'],
      ['tail', 'queue:queue_02'],
      ['tail', 'celery:celery_worker', 'stderr'],
      ['tail', 'celery:celery_beat', 'stderr'],
      ['stop', 'all'],
      ['start', 'all'],
      ['restart', 'celery:*'],
      ['signal', 'USR1', 'queue:*'],
      { respawned: /^queue_/ },
      'edit',
      ['reread'],
      ['update'],
      'settle',
      ['status'],
      ['tail', 'queue:queue_03'],
      ['tail', 'cron'],
      ['shutdown'],
    ],
    edit: (dir) => {
      const q = path.join(dir, 'conf.d/queue.conf');
      writeFileSync(q, readFileSync(q, 'utf8').replace('numprocs=3', 'numprocs=4'));
      writeFileSync(path.join(dir, 'conf.d/cron.conf'), "[program:cron]\ncommand=/bin/sh -c 'echo cron started; exec sleep 300'\nstdout_logfile=%(here)s/../logs/cron.log\n");
    },
    settledAfterEdit: allRunning(7),
    unordered: /^(stop all|start all|restart celery:\*|signal USR1 queue:\*|update)$/,
    programs: ['queue_00', 'queue_01', 'queue_02', 'queue_03', 'celery_worker', 'celery_beat', 'cron'],
    written: ['logs/queue_00.log', 'logs/queue_01.log', 'logs/queue_02.log', 'logs/queue_03.log', 'logs/celery_beat.out', 'logs/celery_beat.err', 'logs/cron.log'],
  },

  'listener-ppid': {
    config: `
[program:app]
command=/bin/sleep 300

[program:migrate]
command=/bin/sh -c 'sleep 0.5; echo migrated; exit 0'
autostart=false
autorestart=false
startsecs=0
stdout_logfile=%(here)s/migrate.log

[eventlistener:stop-when-done]
command=%(here)s/stopper.sh
events=PROCESS_STATE_EXITED
environment=WATCH="migrate",HOW="ppid"
stderr_logfile=%(here)s/stopper.err
`,
    files: { 'stopper.sh': STOPPER },
    settled: runningBut(3, 'migrate'),
    steps: [['status'], ['start', 'migrate']],
    programs: ['app', 'migrate', 'stop-when-done'],
    written: ['migrate.log', 'stopper.err'],
  },

  'listener-pidfile': {
    config: `
[program:app]
command=/bin/sleep 300

[program:crashy]
command=/bin/sh -c 'echo "fatal: no database" >&2; exit 1'
autostart=false
startretries=0
startsecs=10
stderr_logfile=%(here)s/crashy.err

[eventlistener:watchdog]
command=%(here)s/stopper.sh
events=PROCESS_STATE_FATAL
environment=WATCH="crashy",HOW="pidfile",PIDFILE="%(here)s/supervisord.pid"
`,
    files: { 'stopper.sh': STOPPER },
    settled: runningBut(3, 'crashy'),
    steps: [['status'], ['start', 'crashy']],
    programs: ['app', 'crashy', 'watchdog'],
    written: ['crashy.err'],
  },
};

interface Outcome {
  dir: string;
  ctl: Array<{ step: string; result: CtlResult }>;
  log: string[];
  files: Record<string, string>;
  exitCode: number | null;
  pids: number[];
  stdout: string;
}

const outcomes: Record<string, Partial<Record<DaemonKind, Outcome>>> = {};
const runners: Runner[] = [];
const closers: Array<() => void> = [];

async function infosOf(d: Daemon): Promise<Info[]> {
  return (await d.rpc('supervisor.getAllProcessInfo')) as unknown as Info[];
}

function mask(r: CtlResult, dir: string, sorted: boolean): CtlResult {
  const n = normalize(r, [[new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g'), '@DIR@']]);
  if (!sorted) return n;
  return { ...n, stdout: n.stdout.split('\n').filter(Boolean).sort().join('\n') };
}

async function play(name: string, s: Scenario, kind: DaemonKind): Promise<Outcome> {
  const dir = tmpDir(`fv-rw-${kind}-`);
  for (const [rel, text] of Object.entries(s.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
    if (rel.endsWith('.sh')) chmodSync(path.join(dir, rel), 0o755);
  }
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  mkdirSync(path.join(dir, 'childlogs'), { recursive: true });
  const results: Outcome['ctl'] = [];
  const piped = s.pipe ? pipedStdout(dir) : null;
  if (piped) closers.push(piped.close);
  const d = await startDaemon(kind, s.config, { dir, env: s.env, ...(piped ? { wrap: piped.wrap } : {}) });
  let seen: Info[] = [];
  const settle = async (ok: (i: Info[]) => boolean, what: string) =>
    pollUntil(async () => ok((seen = await infosOf(d))), {
      timeout: 20_000,
      interval: 50,
      get what() {
        return `${kind} ${name}: ${what} (${seen.map((i) => `${i.name} ${i.statename}`).join(', ')}; ctl said ${JSON.stringify(results.slice(-3))})`;
      },
    });
  await settle(s.settled, 'settled');
  const ctl = pythonRunner();
  runners.push(ctl);
  const pids = new Set<number>();
  const notePids = async () => {
    try {
      for (const i of await infosOf(d)) if (i.pid) pids.add(i.pid);
    } catch {
      // the daemon is gone (a listener stopped it)
    }
  };
  await notePids();
  let edited = false;
  // the pids known before the latest ctl step
  let before: number[] = [];
  for (const step of s.steps) {
    if (step === 'edit') {
      s.edit!(dir);
      edited = true;
      continue;
    }
    if (step === 'settle') {
      await settle(edited ? s.settledAfterEdit! : s.settled, 'settled again');
      await notePids();
      continue;
    }
    if (typeof step === 'object' && !Array.isArray(step)) {
      const old = new Set(before);
      const fresh = (infos: Info[]) => infos.every((i) => !step.respawned.test(i.name) || (i.statename === 'RUNNING' && !old.has(i.pid)));
      await settle((infos) => (edited ? s.settledAfterEdit! : s.settled)(infos) && fresh(infos), 'respawned');
      await notePids();
      continue;
    }
    before = [...pids];
    const r = await ctl.run({ argv: ['-c', d.conf, ...step], cwd: dir });
    const label = step.join(' ');
    results.push({ step: label, result: mask(r, dir, s.unordered?.test(label) ?? false) });
    await notePids();
  }
  // The last step ends the daemon: shutdown, or the listener's kill.
  const exitCode = await new Promise<number | null>((resolve) => {
    if (d.proc.exitCode !== null || d.proc.signalCode !== null) resolve(d.proc.exitCode);
    else d.proc.once('exit', (code) => resolve(code));
  });
  await d.stop();
  const files: Record<string, string> = {};
  for (const rel of s.written ?? []) files[rel] = readFileSync(path.join(dir, rel), 'utf8').replaceAll(dir, '@DIR@');
  return { dir, ctl: results, log: maskLog(d.mainLog(), dir), files, exitCode, pids: [...pids], stdout: piped ? piped.read() : '' };
}

beforeAll(async () => {
  // Two scenarios at a time (four daemons): the machine has two cores.
  const names = Object.keys(SCENARIOS);
  for (let i = 0; i < names.length; i += 2) {
    await Promise.all(
      names.slice(i, i + 2).flatMap((name) =>
        KINDS.map(async (kind) => {
          (outcomes[name] ??= {})[kind] = await play(name, SCENARIOS[name]!, kind);
        }),
      ),
    );
  }
}, 120_000);

afterAll(async () => {
  await stopAllDaemons();
  for (const r of runners) r.close();
  for (const close of closers) close();
  killTracked();
  removeTmpDirs();
});

/** Every file under dir, relative, but the daemon's own; AUTO child logs with their random part masked. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${e}` : e;
      if (statSync(path.join(dir, r)).isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk('');
  return out
    .filter((f) => !/^(supervisord\.(log|pid|conf)|supervisor\.sock|stdout\.fifo)$/.test(f))
    .map((f) => f.replace(/---supervisor-[\w-]+\.log$/, '---supervisor-XXXXXXXX.log'))
    .sort();
}

describe.each(Object.keys(SCENARIOS))('real-world config "%s" under both daemons', (name) => {
  const sd = () => outcomes[name]!.supervisord!;
  const fv = () => outcomes[name]!.fastvisor!;

  it('the real supervisorctl prints the same, command by command, with the same exit codes', () => {
    expect(fv().ctl).toEqual(sd().ctl);
  });

  it('the main logs tell the same story, program by program', () => {
    for (const p of SCENARIOS[name]!.programs) expect(linesAbout(fv().log, p), p).toEqual(linesAbout(sd().log, p));
    // The first shutdown report comes at once, naming everything in supervisord's order.
    const firstDie = (log: string[]) => log.find((l) => l.endsWith(' to die'));
    expect(firstDie(fv().log)).toBe(firstDie(sd().log));
    expect(firstDie(fv().log)).toMatch(/^INFO waiting for .+ to die$/);
  });

  it('the programs wrote the same files, with the same bytes', () => {
    expect(fv().files).toEqual(sd().files);
    expect(tree(fv().dir)).toEqual(tree(sd().dir));
  });

  it('the daemon ends the same way, and nothing outlives it', () => {
    expect(fv().exitCode).toBe(sd().exitCode);
    for (const kind of KINDS) {
      const o = outcomes[name]![kind]!;
      expect(o.pids.length, kind).toBeGreaterThan(0);
      expect(o.pids.filter(isAlive), kind).toEqual([]);
    }
  });
});

describe('what the scenarios are about', () => {
  it('container: the logs went to the daemon\'s stdout; tail says it cannot read them; user=root logs uid 0', () => {
    for (const kind of KINDS) {
      const o = outcomes.container![kind]!;
      expect(o.stdout, kind).toContain('nginx: ready for connections');
      expect(o.stdout, kind).toContain('nginx: reloading');
      expect(o.stdout, kind).toContain('php-fpm: fpm is running again');
      const tail = o.ctl.find((c) => c.step === 'tail nginx')!.result;
      expect(tail, kind).toEqual({ stdout: 'nginx: ERROR (unknown error reading log)\n', stderr: '', code: 1 });
      if (ROOT) expect(o.log, kind).toContain('INFO Set uid to user 0 succeeded');
    }
  });

  it('debian: the pool, %(here)s of the included file and %(ENV_X)s expand the same', () => {
    const o = fv();
    function fv() {
      return outcomes.debian!.fastvisor!;
    }
    expect(o.files['logs/queue_02.log']).toContain('worker 02 of queue in production at @DIR@/conf.d\n');
    expect(o.ctl.find((c) => c.step === 'reread')!.result.stdout).toBe('cron: available\nqueue: changed\n');
  });

  it('listeners: the daemon stopped on the signal sent by the listener', () => {
    for (const kind of KINDS) {
      expect(outcomes['listener-ppid']![kind]!.log, kind).toContain('WARN received SIGQUIT indicating exit request');
      expect(outcomes['listener-pidfile']![kind]!.log, kind).toContain('WARN received SIGTERM indicating exit request');
    }
  });
});
