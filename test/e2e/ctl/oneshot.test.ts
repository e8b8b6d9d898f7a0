// SPDX-License-Identifier: MIT
// Every supervisorctl command, one shot, through Python's supervisorctl and ours
// against the same daemon: stdout, stderr and exit status must match after
// masking pids and uptimes. Commands that change state get the same starting
// state for both runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CtlPair,
  DAEMONS,
  normalize,
  RpcFault,
  startDaemon,
  type CtlResult,
  type RunningDaemon,
} from '../../helpers/ctl-harness.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

// stopwaitsecs=1 everywhere: a process stopped right after its spawn may miss SIGTERM
// (supervisord's handler is still installed between fork and exec) and wait for SIGKILL.
const PROGRAMS = `
[program:web]
command=/bin/sh -c 'echo hello web; echo "err web" >&2; echo ünïcödé; exec sleep 1000'
stopwaitsecs=1
startsecs=0

[program:cat]
command=/bin/cat
stopwaitsecs=1
startsecs=0
autostart=false

[program:fail]
command=/bin/sh -c 'exit 3'
stopwaitsecs=1
startsecs=1
startretries=0

[program:nolog]
command=/bin/sleep 1000
stopwaitsecs=1
startsecs=0
stdout_logfile=NONE

[program:a-process-name-well-over-thirty-characters]
command=/bin/sleep 1000
stopwaitsecs=1
startsecs=0
autostart=false

[program:np]
command=/bin/sleep 1000
stopwaitsecs=1
process_name=%(program_name)s_%(process_num)s
numprocs=2
startsecs=0

[group:grp]
programs=a,b

[program:a]
command=/bin/sleep 1000
stopwaitsecs=1
startsecs=0

[program:b]
command=/bin/sleep 1000
stopwaitsecs=1
startsecs=0
autostart=false
`;

/** The state most cases start from. */
const BASE = ['web', 'grp:a', 'nolog', 'np:*'];

/** Commands that only read, or fail before changing anything. */
const READ_ONLY = [
  'status',
  'status web',
  'status all',
  'status grp:*',
  'status np:*',
  'status np:np_1',
  'status nope grp:* grp:zz zz:*',
  'status-x',
  'status web web',
  'help',
  'help status',
  'help start',
  'help stop',
  'help restart',
  'help signal',
  'help tail',
  'help maintail',
  'help pid',
  'help avail',
  'help reread',
  'help add',
  'help remove',
  'help update',
  'help clear',
  'help open',
  'help version',
  'help fg',
  'help quit',
  'help exit',
  'help reload',
  'help shutdown',
  'help nope',
  'help help',
  'help EOF',
  '?status',
  '?',
  'version',
  'version x',
  'nope',
  '!ls',
  'STATUS',
  'pid',
  'pid web',
  'pid cat',
  'pid nope',
  'pid nope web cat',
  'pid all',
  'avail',
  'avail x',
  'reread',
  'reread x',
  'tail web',
  'tail web stderr',
  'tail web STDERR',
  'tail -3 web',
  'tail -0 web',
  'tail --5 web',
  'tail -1_0 web',
  'tail -99999999999 web',
  'tail nope',
  'tail nolog',
  'tail grp:a',
  'tail',
  'tail -x web',
  'tail - web',
  'tail -ff web',
  'tail web foo',
  'tail web stdout extra',
  'tail a b c d',
  'tail -5',
  'tail -f nope',
  'tail -f web bogus',
  'maintail -x',
  'maintail x',
  'maintail a b',
  'maintail -99999999999',
  'start',
  'start nope',
  'start zz:*',
  'start grp:zz',
  'start web',
  'stop',
  'stop nope',
  'stop zz:*',
  'stop cat',
  'restart',
  'signal',
  'signal HUP',
  'signal FOO web',
  'signal HUP cat',
  'signal HUP zz:*',
  'signal HUP nope',
  'signal FOO grp:*',
  'clear',
  'clear nope',
  'clear grp:*',
  'open foo://x',
  'open',
  'open unix:///nonexistent/s.sock',
  'add',
  'add nope',
  'add web',
  'add web nope grp',
  'remove nope',
  'remove web',
  'update nope',
  'shutdown x',
  'reload x',
  'fg',
  'fg a b',
  'fg nope',
  'fg cat',
  'EOF',
  'quit',
  'exit',
  'quit now',
];

describe.each(DAEMONS)('one-shot commands, Python supervisorctl vs ours, against $name', (spec) => {
  let d: RunningDaemon;
  let pair: CtlPair;

  beforeAll(async () => {
    d = await startDaemon(spec, { programs: PROGRAMS });
    pair = new CtlPair();
    // fail goes FATAL on its own; wait so every run sees the same table.
    await waitState('fail', 'FATAL');
  });

  afterAll(async () => {
    pair?.close();
    await d?.stop();
    killTracked();
    removeTmpDirs();
  });

  async function waitState(name: string, statename: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const info = (await d.rpc('supervisor.getProcessInfo', name)) as { statename: string };
      if (info.statename === statename) return;
      if (Date.now() > deadline) throw new Error(`${name} never reached ${statename}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Exactly `running` runs (namespecs or group:*), every other process is stopped
   * (fail stays FATAL); start waits for RUNNING.
   */
  async function ensure(running: string[]): Promise<void> {
    const infos = (await d.rpc('supervisor.getAllProcessInfo')) as Array<{ name: string; group: string; state: number }>;
    const wanted = (i: { name: string; group: string }): boolean =>
      running.some((r) => r === `${i.group}:*` || r === `${i.group}:${i.name}` || (r === i.name && i.group === i.name));
    // In parallel: each stop waits for a tick of supervisord's one-second loop.
    await Promise.all(
      infos.map(async (i) => {
        const spec = `${i.group}:${i.name}`;
        const isRunning = [10, 20, 30].includes(i.state);
        if (wanted(i) && !isRunning) await d.rpc('supervisor.startProcess', spec).catch(ignore(60));
        if (!wanted(i) && isRunning) await d.rpc('supervisor.stopProcess', spec).catch(ignore(70));
      }),
    );
  }

  function ignore(code: number) {
    return (e: unknown) => {
      if (!(e instanceof RpcFault && e.faultCode === code)) throw e;
    };
  }

  /**
   * `unordered`: the daemon reports `stop all` and friends in the order the processes
   * finish, which differs from run to run; the lines are compared as a set then.
   */
  async function same(
    line: string,
    opts: { reset?: () => Promise<void>; stdin?: string; unordered?: boolean } = {},
  ): Promise<CtlResult> {
    const { py, ts } = await pair.both({ argv: ['-c', d.conf, ...line.split(' ').filter(Boolean)], stdin: opts.stdin }, opts.reset);
    const sorted = (r: CtlResult): CtlResult => (opts.unordered ? { ...r, stdout: r.stdout.split('\n').sort().join('\n') } : r);
    expect(sorted(normalize(ts))).toEqual(sorted(normalize(py)));
    return py;
  }

  it.each(READ_ONLY)('%s', async (line) => {
    await same(line, { reset: () => ensure(BASE) });
  });

  it('the comparisons are not vacuous', async () => {
    await ensure(BASE);
    expect((await same('status web')).stdout).toMatch(/^web {30}RUNNING {3}pid \d+, uptime /);
    expect((await same('start web')).stdout).toBe('web: ERROR (already started)\n');
    expect((await same('status nope')).code).toBe(4);
    expect((await same('status')).code).toBe(3);
    expect((await same('tail web')).stdout).toBe('hello web\nünïcödé\n\n');
  });

  it('start, stop and restart a process', async () => {
    const started = await same('start cat', { reset: () => ensure(BASE) });
    expect(started.stdout).toBe('cat: started\n');
    expect((await same('stop cat', { reset: () => ensure([...BASE, 'cat']) })).stdout).toBe('cat: stopped\n');
    await same('restart cat', { reset: () => ensure([...BASE, 'cat']) });
    await same('restart cat', { reset: () => ensure(BASE) });
    await same('start cat web nope', { reset: () => ensure(BASE) });
    await same('stop cat web nope', { reset: () => ensure([...BASE, 'cat']) });
  });

  it('group:* and all', async () => {
    await same('start grp:*', { reset: () => ensure(BASE), unordered: true });
    await same('stop grp:*', { reset: () => ensure(BASE), unordered: true });
    await same('restart grp:* web', { reset: () => ensure(BASE), unordered: true });
    await same('stop all', { reset: () => ensure([...BASE, 'cat']), unordered: true });
    const all = await same('start all', { reset: () => ensure(['web']), unordered: true });
    expect(all.code).toBe(7); // fail: spawn error
    await same('start fail', { reset: () => waitState('fail', 'FATAL') });
  });

  it('signal, clear and pid after changes', async () => {
    // WINCH: sleep ignores it, so nothing dies and restarts between the two runs.
    await same('signal WINCH web', { reset: () => ensure(BASE) });
    await same('signal winch grp:*', { reset: () => ensure([...BASE, 'grp:b']), unordered: true });
    await same('signal SIGWINCH all', { reset: () => ensure(BASE), unordered: true });
    await same('signal 28 web cat', { reset: () => ensure(BASE) });
    await same('clear web');
    await same('clear nope web');
    await same('clear all', { unordered: true });
    await ensure(BASE);
    await same('pid all');
    await same('status');
  });

  it('ours only: status --json, with the exit statuses of status', async () => {
    await ensure(BASE);
    const plain = await pair.ts.run({ argv: ['-c', d.conf, 'status'] });
    const all = await pair.ts.run({ argv: ['-c', d.conf, 'status', '--json'] });
    expect([all.code, all.stderr]).toEqual([plain.code, '']);
    const infos = JSON.parse(all.stdout) as Array<Record<string, unknown>>;
    expect(infos.map((i) => i['namespec'])).toEqual(plain.stdout.trim().split('\n').map((l) => l.split(' ')[0]));
    expect(infos.find((i) => i['namespec'] === 'np:np_1')).toMatchObject({ name: 'np_1', group: 'np', statename: 'RUNNING', state: 20 });
    expect(infos[0]).toHaveProperty('pid');
    expect(infos[0]).toHaveProperty('description');

    const some = await pair.ts.run({ argv: ['-c', d.conf, 'status', 'web', '--json', 'nope', 'zz:*'] });
    expect(some.stderr).toBe('nope: ERROR (no such process)\nzz: ERROR (no such group)\n');
    expect(some.code).toBe(4);
    expect((JSON.parse(some.stdout) as Array<{ namespec: string }>).map((i) => i.namespec)).toEqual(['web']);

    const down = await pair.ts.run({ argv: ['-s', 'unix:///nonexistent/s.sock', 'status', '--json'] });
    expect(down).toEqual({ stdout: '', stderr: 'unix:///nonexistent/s.sock no such file\n', code: 4 });
  });

  it('confirmations with -i: shutdown and reload answered no, or not at all', async () => {
    await same('-i shutdown', { stdin: 'n\n' });
    await same('-i shutdown', { stdin: 'nope' });
    await same('-i reload', { stdin: 'N\n' });
    const eof = await same('-i shutdown', { stdin: '' });
    expect(eof.stdout).toContain("error: <class 'EOFError'>, EOF when reading a line");
  });
});
