// SPDX-License-Identifier: MIT
// fastvisorctl writes all of its output before it exits, whatever stdout is: a
// pipe to a reader that starts late (more than the 64 KiB a pipe holds), a file,
// and errors on stderr. Python's supervisorctl blocks on a full pipe; so must we.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DAEMONS, TS_CTL, startDaemon, type RunningDaemon } from '../../helpers/ctl-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked, track } from '../../helpers/procs.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

// 1200 stopped processes with long names: ~110 KB of `status`, nothing to spawn.
const NUMPROCS = 1200;
// One program that writes ~1.2 MB to its log and exits: `tail -2000000` prints all of it.
const LOG_LINES = 150_000;
const PROGRAMS = `
[program:many]
command=/bin/sleep 1000
process_name=%(program_name)s_with_a_name_long_enough_to_fill_a_pipe_%(process_num)04d
numprocs=${NUMPROCS}
autostart=false

[program:chatty]
command=/usr/bin/seq 1 ${LOG_LINES}
startsecs=0
autorestart=false
`;

// The reader takes the first line as soon as it comes, then stops reading for a second:
// the writer is surely up and past its first write, and finds the pipe full. It prints
// how many lines came after the first.
const SLOW_READER = '| (IFS= read -r first; sleep 1; wc -l)';
const afterFirst = (lines: number): string => String(lines - 1);

let daemon: RunningDaemon;

beforeAll(async () => {
  daemon = await startDaemon(DAEMONS.find((d) => d.name === 'fastvisor')!, { programs: PROGRAMS });
  // chatty has run to its end: its log is complete.
  await pollUntil(
    async () => ((await daemon.rpc('supervisor.getProcessInfo', 'chatty')) as { statename: string }).statename === 'EXITED',
    { timeout: 20_000, interval: 50, what: 'chatty to exit' },
  );
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  killTracked();
  removeTmpDirs();
});

/** `sh -c "<ctl> <args> <redirect>"`: stdout and stderr of the shell, and its status. */
function shell(args: string, redirect: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const [node, pre] = TS_CTL;
  const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  const cmd = `${[node, ...pre, '-c', daemon.conf].map(q).join(' ')} ${args} ${redirect}`;
  return new Promise((resolve, reject) => {
    const p = spawn('/bin/sh', ['-c', cmd], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    track(p.pid!);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

describe('every line reaches a slow reader', () => {
  it('status: every line through a pipe whose reader pauses, five times', async () => {
    const runs = await Promise.all(Array.from({ length: 5 }, () => shell('status', SLOW_READER)));
    for (const r of runs) expect(r.stdout.trim()).toBe(afterFirst(NUMPROCS + 1));
  });

  it('tail -2000000: all of a 1 MB log through a slow pipe, and into a file', async () => {
    // The log ends in a newline and tail adds one (self.output): one empty line more.
    const runs = await Promise.all(Array.from({ length: 3 }, () => shell('tail -2000000 chatty', SLOW_READER)));
    for (const r of runs) expect(r.stdout.trim()).toBe(afterFirst(LOG_LINES + 1));
    const file = path.join(tmpDir(), 'tail.out');
    const r = await shell('tail -2000000 chatty', `> '${file}'`);
    expect(r.code).toBe(0);
    const seq = Array.from({ length: LOG_LINES }, (_, i) => `${i + 1}\n`).join('');
    expect(readFileSync(file, 'utf8') === `${seq}\n`).toBe(true);
  });

  it('stderr too: status --json sends its messages there, one per unknown name', async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `no_such_program_with_a_long_name_${i}`).join(' ');
    const runs = await Promise.all(
      Array.from({ length: 3 }, () => shell(`status --json ${names}`, `2>&1 >/dev/null ${SLOW_READER}`)),
    );
    for (const r of runs) expect(r.stdout.trim()).toBe(afterFirst(3000));
  });

  it('the interactive shell: its first status, the two it reads, and the newline at EOF, five times', async () => {
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => shell("<<'EOF'", `${SLOW_READER}\nstatus\nstatus\nEOF`)),
    );
    // Prompts (no newline from a pipe) share the first line of each status.
    for (const r of runs) expect(r.stdout.trim()).toBe(afterFirst(3 * (NUMPROCS + 1) + 1));
  });
});
