// SPDX-License-Identifier: MIT
// Commands that keep running until Ctrl-C: tail -f, maintail -f, fg. Each is run
// as its own process against the same daemon, fed and interrupted the same way,
// for Python's supervisorctl and ours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CtlPair, DAEMONS, spawnStreaming, stableAgainstCtrlC, startDaemon, type RunningDaemon, type Streaming } from '../../helpers/ctl-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

const PROGRAMS = `
[program:echo]
command=/bin/cat
startsecs=0

[program:errout]
command=/bin/sh -c 'echo to-stderr >&2; exec sleep 1000'
startsecs=0

[program:web]
command=/bin/sh -c 'echo hello; exec sleep 1000'
startsecs=0

[program:slow]
command=/bin/sleep 1000
startsecs=5
autostart=false

[program:color]
command=/bin/sh -c 'printf "\\033[31mred\\033[0m plain\\n"; exec sleep 1000'
startsecs=0
`;

const KINDS = ['py', 'ts'] as const;

afterAll(() => {
  killTracked();
  removeTmpDirs();
});

describe.each(DAEMONS)('following output, against $name', (spec) => {
  let d: RunningDaemon;
  const running: Streaming[] = [];

  beforeAll(async () => {
    d = await startDaemon(spec, { programs: PROGRAMS });
  });
  afterAll(async () => {
    for (const s of running) s.kill();
    await d?.stop();
  });

  function ctl(kind: 'py' | 'ts', ...argv: string[]): Streaming {
    const s = spawnStreaming(kind, ['-c', d.conf, ...argv]);
    running.push(s);
    return s;
  }

  it('tail -f: the header, new output as it comes, an empty line on Ctrl-C, exit 0', async () => {
    const outs: unknown[] = [];
    for (const kind of KINDS) {
      const r = await stableAgainstCtrlC(kind, async () => {
        await d.rpc('supervisor.clearProcessLogs', 'echo');
        const t = ctl(kind, 'tail', '-f', 'echo');
        await t.waitFor(/^==> Press Ctrl-C to exit <==\n/);
        await d.rpc('supervisor.sendProcessStdin', 'echo', 'first line\n');
        await t.waitFor(/first line\n/);
        await d.rpc('supervisor.sendProcessStdin', 'echo', 'second line\n');
        await t.waitFor(/second line\n/);
        t.interrupt();
        return { ...(await t.exited()), stdout: t.stdout(), stderr: t.stderr() };
      });
      outs.push(r);
    }
    expect(outs[0]).toEqual({
      code: 0,
      signal: null,
      stdout: '==> Press Ctrl-C to exit <==\nfirst line\nsecond line\n\n',
      stderr: '',
    });
    expect(outs[1]).toEqual(outs[0]);
  });

  it('tail -f NAME stderr starts with what the log holds', async () => {
    const outs: unknown[] = [];
    for (const kind of KINDS) {
      const r = await stableAgainstCtrlC(kind, async () => {
        const t = ctl(kind, 'tail', '-f', 'errout', 'stderr');
        await t.waitFor(/to-stderr\n/);
        t.interrupt();
        return { ...(await t.exited()), stdout: t.stdout(), stderr: t.stderr() };
      });
      outs.push(r);
    }
    expect(outs[0]).toEqual({ code: 0, signal: null, stdout: '==> Press Ctrl-C to exit <==\nto-stderr\n\n', stderr: '' });
    expect(outs[1]).toEqual(outs[0]);
  });

  it('tail -f of an unknown process: a 404 on stderr, and it ends by itself', async () => {
    const results = [];
    for (const kind of KINDS) {
      const t = ctl(kind, 'tail', '-f', 'nope');
      results.push({ ...(await t.exited()), stdout: t.stdout(), stderr: t.stderr() });
    }
    expect(results[0]).toEqual({
      code: 0,
      signal: null,
      stdout: '==> Press Ctrl-C to exit <==\n',
      stderr: `${d.unixUrl}/logtail/nope/stdout Cannot read, status code 404\n`,
    });
    expect(results[1]).toEqual(results[0]);
  });

  it('maintail -f follows the main log', async () => {
    for (const kind of KINDS) {
      const r = await stableAgainstCtrlC(kind, async () => {
        const t = ctl(kind, 'maintail', '-f');
        await t.waitFor(/^==> Press Ctrl-C to exit <==\n(.*\n)*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]{4} /);
        const mark = t.stdout().length;
        await d.rpc('supervisor.stopProcess', 'web');
        await d.rpc('supervisor.startProcess', 'web');
        await t.waitFor(/INFO spawned: 'web' with pid \d+\n/, mark);
        t.interrupt();
        return { ...(await t.exited()), stdout: t.stdout(), stderr: t.stderr() };
      });
      expect([r.code, r.signal, r.stderr]).toEqual([0, null, '']);
      expect(r.stdout).toMatch(/\n\n$/);
    }
  });

  it('fg: output shown, typed lines sent to stdin, Ctrl-C leaves', async () => {
    const outs: string[] = [];
    for (const kind of KINDS) {
      await d.rpc('supervisor.clearProcessLogs', 'echo');
      const f = ctl(kind, 'fg', 'echo');
      await f.waitFor(/^==> Press Ctrl-C to exit <==\n/);
      // Give the log streams a moment to attach: typed text is only echoed once they have.
      await new Promise((r) => setTimeout(r, 300));
      f.write('typed by hand\n');
      await f.waitFor(/typed by hand\n/);
      f.interrupt();
      await f.waitFor(/Exiting foreground\n$/);
      outs.push(f.stdout());
      if (kind === 'ts') expect(await f.exited()).toEqual({ code: 0, signal: null });
      // 4.2.5's output threads keep its process alive after "Exiting foreground"; it is killed here.
      else f.kill();
    }
    expect(outs[0]).toBe('==> Press Ctrl-C to exit <==\ntyped by hand\nExiting foreground\n');
    expect(outs[1]).toBe(outs[0]);
  });

  it('fg: the process stops while attached', async () => {
    const outs: string[] = [];
    for (const kind of KINDS) {
      await d.rpc('supervisor.startProcess', 'echo').catch(() => undefined);
      await d.rpc('supervisor.clearProcessLogs', 'echo');
      const f = ctl(kind, 'fg', 'echo');
      await f.waitFor(/^==> Press Ctrl-C to exit <==\n/);
      await d.rpc('supervisor.stopProcess', 'echo');
      f.write('anyone there?\n');
      await f.waitFor(/Exiting foreground\n$/);
      outs.push(f.stdout());
      if (kind === 'ts') expect(await f.exited()).toEqual({ code: 0, signal: null });
      else f.kill();
    }
    expect(outs[0]).toBe('==> Press Ctrl-C to exit <==\nProcess got killed\nExiting foreground\n');
    expect(outs[1]).toBe(outs[0]);
    await d.rpc('supervisor.startProcess', 'echo');
  });

  it('Ctrl-C during a one-shot command that waits: death by SIGINT', async () => {
    for (const kind of KINDS) {
      await d.rpc('supervisor.stopProcess', 'slow').catch(() => undefined);
      const s = ctl(kind, 'start', 'slow');
      await pollUntil(async () => ((await d.rpc('supervisor.getProcessInfo', 'slow')) as { statename: string }).statename === 'STARTING', {
        what: 'slow to be STARTING',
      });
      s.interrupt();
      expect((await s.exited()).signal).toBe('SIGINT');
      expect(s.stdout()).toBe('');
    }
  });
});

describe.each(DAEMONS)('where ours does better than 4.2.5, against $name', (spec) => {
  let d: RunningDaemon;
  let pair: CtlPair;
  beforeAll(async () => {
    d = await startDaemon(spec, { programs: PROGRAMS });
    pair = new CtlPair();
  });
  afterAll(async () => {
    pair?.close();
    await d?.stop();
  });

  it('tail of coloured output: Python fails to parse the reply, ours prints it', async () => {
    const { py, ts } = await pair.both({ argv: ['-c', d.conf, 'tail', 'color'] });
    if (spec.name === 'fastvisor') {
      // fastvisor's daemon sends XML 1.0 only (ESC becomes U+FFFD): both clients print the same.
      expect(ts).toEqual({ stdout: '\uFFFD[31mred\uFFFD[0m plain\n\n', stderr: '', code: 0 });
      expect(py).toEqual(ts);
      return;
    }
    expect(py.stdout).toMatch(/^error: <class 'xml.parsers.expat.ExpatError'>, not well-formed \(invalid token\)/);
    expect(ts).toEqual({ stdout: '\x1b[31mred\x1b[0m plain\n\n', stderr: '', code: 0 });
  });
});
