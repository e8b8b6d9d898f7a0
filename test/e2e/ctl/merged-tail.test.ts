// SPDX-License-Identifier: MIT
// fastvisorctl's merged tail (`tail -f a b`, `tail -f group:*`, `tail -f all`, --both)
// against a real fastvisor behind auth: real processes print known lines on stdout and
// stderr, written in two pieces each so a line is cut between reads; every line must
// come out once, whole, prefixed with its process's name. A program started later
// joins the stream; a reader that stops reading gets a "missed N lines" marker and the
// daemon's memory stays bounded.
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DAEMONS, runProcess, spawnStreaming, startDaemon, TS_CTL, type RunningDaemon, type Streaming } from '../../helpers/ctl-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked, track } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

// Reads commands on stdin. Every line it prints goes out in two write()s, cut after 5 bytes.
const TALKER = String.raw`
import os, sys, time
tag = sys.argv[1]
def put(fd, b):
    os.write(fd, b[:5]); os.write(fd, b[5:])
if len(sys.argv) > 2:
    put(1, ('%s hello\n' % tag).encode())
for line in sys.stdin:
    cmd = line.split()
    if not cmd:
        continue
    if cmd[0] == 'burst':
        t = tag + cmd[2] if len(cmd) > 2 else tag
        for i in range(int(cmd[1])):
            put(1, ('%s out %d %s\n' % (t, i, 'x' * (i % 60))).encode())
            put(2, ('%s err %d\n' % (t, i)).encode())
        put(1, ('%s out done\n' % t).encode())
        put(2, ('%s err done\n' % t).encode())
    elif cmd[0] == 'slow':
        os.write(1, ('%s slow-' % tag).encode()); time.sleep(0.1); os.write(1, b'line\n')
    elif cmd[0] == 'long':
        os.write(1, b'%s long ' % tag.encode() + b'z' * 40000 + b'\n')
    elif cmd[0] == 'binary':
        os.write(1, b'%s bin \xff\xfe caf\xc3\xa9\n' % tag.encode())
    elif cmd[0] == 'flood':
        n = int(cmd[1]); buf = bytearray()
        for i in range(n):
            buf += b'%s flood %09d %s\n' % (tag.encode(), i, b'y' * 80)
            if len(buf) >= 1 << 20:
                os.write(1, buf); buf = bytearray()
        buf += b'%s flood end\n' % tag.encode()
        os.write(1, buf)
`;

const AUTH = 'tailer:pw-123';

function programs(script: string): string {
  const py = `/usr/bin/python3 -u ${script}`;
  return `
[program:alpha]
command=${py} alpha
startsecs=0

[program:web]
command=${py} web%(process_num)d
process_name=web_%(process_num)d
numprocs=2
startsecs=0

[program:late]
command=${py} late hello
startsecs=0
autostart=false

[program:flood]
command=${py} flood
startsecs=0
stdout_logfile_maxbytes=0
`;
}

/** `name | text` lines (name padded), as the ctl prints them without a terminal. */
function parse(out: string): Array<{ name: string; stream?: string; sep: string; text: string; col: number }> {
  const rows = [];
  for (const line of out.split('\n')) {
    const m = /^(\S+)( +)(?:(out|err) )?([|+]) (.*)$/.exec(line);
    if (m) rows.push({ name: m[1]!, stream: m[3], sep: m[4]!, text: m[5]!, col: m[1]!.length + m[2]!.length });
  }
  return rows;
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const fastvisor = DAEMONS.find((d) => d.name === 'fastvisor')!;

describe('fastvisorctl tail with many programs', { timeout: 60_000 }, () => {
  let d: RunningDaemon;
  let script: string;
  const running: Streaming[] = [];

  beforeAll(async () => {
    const dir = tmpDir('fv-mtail-');
    script = path.join(dir, 'talker.py');
    writeFileSync(script, TALKER);
    d = await startDaemon(fastvisor, { programs: programs(script), auth: AUTH, ctlSection: 'username=tailer\npassword=pw-123\n' });
    await pollUntil(
      async () => {
        const all = (await d.rpc('supervisor.getAllProcessInfo')) as Array<{ name: string; statename: string }>;
        return all.filter((p) => p.statename === 'RUNNING').length === 4;
      },
      { what: 'alpha, web_0, web_1 and flood running' },
    );
  });
  afterAll(async () => {
    for (const s of running) s.kill();
    await d?.stop();
    killTracked();
    removeTmpDirs();
  });

  function ctl(...argv: string[]): Streaming {
    const s = spawnStreaming('ts', ['-c', d.conf, ...argv]);
    running.push(s);
    return s;
  }

  const send = (name: string, text: string): Promise<unknown> => d.rpc('supervisor.sendProcessStdin', name, text);

  it('tail -f all: every line once, whole, prefixed with its name, names aligned; stdout only', async () => {
    const t = ctl('tail', '-f', 'all');
    await t.waitFor(/^==> Press Ctrl-C to exit <==\n/, 0, 30_000);
    const from = t.stdout().length;
    const N = 300;
    await Promise.all([send('alpha', `burst ${N}\n`), send('web:web_0', `burst ${N}\n`), send('web:web_1', `burst ${N}\n`)]);
    for (const tag of ['alpha', 'web0', 'web1']) await t.waitFor(new RegExp(`\\| ${tag} out done\\n`), from, 20_000);
    const rows = parse(t.stdout().slice(from));
    if (process.env.MTAIL_DEBUG) writeFileSync('/tmp/mtail-1.txt', t.stdout());
    const expectName: Record<string, string> = { alpha: 'alpha', web0: 'web:web_0', web1: 'web:web_1' };
    for (const tag of ['alpha', 'web0', 'web1']) {
      const mine = rows.filter((r) => r.text.startsWith(`${tag} `));
      const want = [...Array.from({ length: N }, (_, i) => `${tag} out ${i} ${'x'.repeat(i % 60)}`), `${tag} out done`];
      expect(mine.map((r) => r.text)).toEqual(want);
      expect(new Set(mine.map((r) => r.name))).toEqual(new Set([expectName[tag]]));
      expect(mine.every((r) => r.sep === '|')).toBe(true);
    }
    // No stderr line, no colour codes into a pipe, one column for the text.
    expect(rows.some((r) => r.text.includes(' err '))).toBe(false);
    expect(t.stdout()).not.toContain('\x1b[');
    expect(new Set(rows.map((r) => r.col)).size).toBe(1);
    t.interrupt();
    expect((await t.exited()).code).toBe(0);
  });

  it('tail -f --both web:*: both streams of the group only, tagged out/err', async () => {
    const t = ctl('tail', '-f', '--both', 'web:*');
    await t.waitFor(/^==> Press Ctrl-C to exit <==\n/, 0, 30_000);
    const from = t.stdout().length;
    await Promise.all([send('alpha', 'burst 20 B\n'), send('web:web_0', 'burst 50 B\n'), send('web:web_1', 'burst 50 B\n')]);
    for (const tag of ['web0B', 'web1B']) {
      await t.waitFor(new RegExp(`out \\| ${tag} out done\\n`), from, 20_000);
      await t.waitFor(new RegExp(`err \\| ${tag} err done\\n`), from, 20_000);
    }
    const rows = parse(t.stdout().slice(from));
    expect(rows.every((r) => r.name.startsWith('web:'))).toBe(true);
    for (const tag of ['web0B', 'web1B']) {
      const errs = rows.filter((r) => r.stream === 'err' && r.text.startsWith(`${tag} err `)).map((r) => r.text);
      expect(errs).toEqual([...Array.from({ length: 50 }, (_, i) => `${tag} err ${i}`), `${tag} err done`]);
      expect(rows.filter((r) => r.stream === 'out' && r.text.startsWith(`${tag} out `))).toHaveLength(51);
    }
    t.interrupt();
    await t.exited();
  });

  it('a line that waits for its end is held, then printed whole', async () => {
    const t = ctl('tail', '-f', 'alpha', 'web:web_0');
    await t.waitFor(/^==> Press Ctrl-C to exit <==\n/, 0, 30_000);
    const from = t.stdout().length;
    await send('alpha', 'slow\n');
    await t.waitFor(/alpha +\| alpha slow-line\n/, from, 30_000);
    t.interrupt();
    await t.exited();
  });

  it('a line longer than 16 KiB comes in pieces, each after the first marked +; bytes pass as written', async () => {
    const t = ctl('tail', '-f', 'alpha', 'web:web_1');
    await t.waitFor(/^==> Press Ctrl-C to exit <==\n/, 0, 30_000);
    const from = t.stdout().length;
    await send('alpha', 'long\nbinary\n');
    await t.waitFor(/alpha bin /, from, 30_000);
    const rows = parse(t.stdout().slice(from)).filter((r) => r.name === 'alpha');
    const at = rows.findIndex((r) => r.text.startsWith('alpha long '));
    const pieces = rows.slice(at, at + 3);
    expect(pieces.map((r) => r.sep)).toEqual(['|', '+', '+']);
    expect(pieces.map((r) => r.text).join('')).toBe(`alpha long ${'z'.repeat(40000)}`);
    expect(pieces[0]!.text.length).toBe(16 * 1024);
    // Not UTF-8 in, the same bytes out (decoded here for the comparison).
    expect(rows[at + 3]!.text).toBe('alpha bin \ufffd\ufffd café');
    t.interrupt();
    await t.exited();
  });

  it('a program started after the tail began joins it (its log file appears later), and so does one added by update', async () => {
    const t = ctl('tail', '-f', 'all');
    await t.waitFor(/^==> Press Ctrl-C to exit <==\n/, 0, 30_000);
    await d.rpc('supervisor.startProcess', 'late');
    await t.waitFor(/^late +\| late hello$/m, 0, 15_000);
    await send('late', 'burst 3\n');
    await t.waitFor(/^late +\| late out done$/m, 0, 15_000);
    // A program added to the config and to the daemon while the tail runs: `all` takes it in.
    appendFileSync(d.conf, `\n[program:added]\ncommand=/usr/bin/python3 -u ${script} added hello\nstartsecs=0\n`);
    await d.rpc('supervisor.reloadConfig');
    await d.rpc('supervisor.addProcessGroup', 'added');
    await t.waitFor(/^added +\| added hello$/m, 0, 30_000);
    t.interrupt();
    await t.exited();
  });

  it('without -f: the last lines of each, whole, then it ends; an unknown name is an error', async () => {
    await send('alpha', 'burst 5\n');
    await pollUntil(async () => ((await d.rpc('supervisor.tailProcessStdoutLog', 'alpha', 0, 100)) as [string])[0].includes('alpha out done'));
    const r = await runProcess('ts', ['-c', d.conf, 'tail', 'alpha', 'web:*']);
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    const rows = parse(r.stdout);
    expect(rows.filter((x) => x.name === 'alpha').at(-1)?.text).toBe('alpha out done');
    expect(new Set(rows.map((x) => x.name))).toEqual(new Set(['alpha', 'web:web_0', 'web:web_1']));
    // The first bytes of the window may start inside a line: that piece is marked '+'.
    expect(rows.filter((x) => x.sep === '+').length).toBeLessThanOrEqual(3);

    const bad = await runProcess('ts', ['-c', d.conf, 'tail', '-f', 'alpha', 'nosuch:*']);
    expect(bad.stdout).toBe('nosuch:*: ERROR (no such process name)\n');
    expect(bad.code).toBe(1);
    // Names that are not all processes keep supervisorctl's reading: a name and a bad channel.
    const classic = await runProcess('ts', ['-c', d.conf, 'tail', '-f', 'alpha', 'nosuch']);
    expect(classic.stdout).toBe("Error: bad channel 'nosuch'\n");
  });

  it('the stream is behind the same auth as /logtail', async () => {
    const r = await fetch(`${d.httpUrl}/fastvisor/tail?name=all&follow=0`);
    expect(r.status).toBe(401);
    const ok = await fetch(`${d.httpUrl}/fastvisor/tail?name=alpha&follow=0`, {
      headers: { Authorization: `Basic ${Buffer.from(AUTH).toString('base64')}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^A alpha stdout\n/);
  });

  it('a reader that stops reading misses lines with a marker saying how many; the daemon stays small', async () => {
    const [cmd, pre] = TS_CTL;
    const proc = spawn(cmd, [...pre, '-c', d.conf, 'tail', '-f', 'flood', 'alpha'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    track(proc.pid!);
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString('latin1')));
    try {
      await pollUntil(() => out.includes('==> Press Ctrl-C to exit <=='), { timeout: 30_000, what: 'the tail header' });
      // Stop reading: the pipe fills, the ctl blocks in write(), the socket backs up.
      proc.stdout!.pause();
      const before = rssKiB(d.pid);
      const LINES = 1_500_000; // ~150 MB
      await send('flood', `flood ${LINES}\n`);
      let peak = before;
      await pollUntil(
        async () => {
          peak = Math.max(peak, rssKiB(d.pid));
          const tail = (await d.rpc('supervisor.tailProcessStdoutLog', 'flood', 0, 64)) as [string, number];
          return tail[0].includes('flood flood end') && tail[1] > 140_000_000;
        },
        { timeout: 60_000, interval: 50, what: 'the flood written to its log' },
      );
      proc.stdout!.resume();
      await pollUntil(() => out.includes('flood flood end'), { timeout: 60_000, what: 'the end of the flood on the reader' });
      peak = Math.max(peak, rssKiB(d.pid));
      if (process.env.MTAIL_DEBUG) writeFileSync('/tmp/mtail-slow.txt', out, 'latin1');
      const marks = [...out.matchAll(/^flood +\| ==> missed (\d+) lines \(this reader fell behind\) <==$/gm)].map((m) => Number(m[1]));
      expect(marks.length).toBeGreaterThan(0);
      const shown = [...out.matchAll(/^flood +\| flood flood (\d{9}) y+$/gm)].map((m) => Number(m[1]));
      // Never a line twice or out of order, and every line is either shown or counted.
      for (let i = 1; i < shown.length; i++) expect(shown[i]! > shown[i - 1]!).toBe(true);
      const total = shown.length + marks.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThanOrEqual(LINES);
      expect(total).toBeLessThanOrEqual(LINES + marks.length);
      // 150 MB went past a reader that took none of it: the daemon held a few MiB at most.
      expect(peak - before).toBeLessThan(48 * 1024);
      console.log(`slow reader: ${shown.length} lines shown, ${total - shown.length} missed in ${marks.length} marker(s); daemon RSS ${before} -> peak ${peak} KiB`);
    } finally {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }, 120_000);
});
