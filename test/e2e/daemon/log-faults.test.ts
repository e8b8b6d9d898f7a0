// SPDX-License-Identifier: MIT
// A rotating child log whose directory is removed, or whose rotation fails:
// one line when the episode starts, saying what happens to the bytes, one
// when it ends, and the log works again afterwards. (It used to log an error
// every second per channel, claim the output was dropped while it still went
// to the removed file, and never say it had recovered.)
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { tmpDir } from '../../helpers/tmp.js';

afterEach(stopAllDaemons);

// A line every 20 ms: well past maxbytes within a second.
const chatty = `/bin/sh -c "while :; do echo 0123456789012345678901234567890123456789; sleep 0.02; done"`;

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('fastvisor: child log faults', () => {
  it('a removed log directory: one line, bytes counted as dropped, one recovery line once it is back', async () => {
    const dir = tmpDir('fv-logfaults-');
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    const d = await startDaemon(
      'fastvisor',
      `[program:a]\ncommand=${chatty}\nstdout_logfile=%(here)s/logs/a.log\nstdout_logfile_maxbytes=1KB\nstdout_logfile_backups=2\nstartsecs=0\n`,
      { dir },
    );
    await pollUntil(() => d.mainLog().includes('entered RUNNING state'), { what: 'a RUNNING' });
    rmSync(logs, { recursive: true });
    const fault = `log file ${path.join(logs, 'a.log')}: cannot open it (ENOENT); output is dropped`;
    await pollUntil(() => d.mainLog().includes(fault), { timeout: 10_000, what: 'the fault logged' });
    // Three more seconds of retries: still one line.
    const settle = Date.now() + 3000;
    await pollUntil(() => Date.now() > settle, { timeout: 5000, what: '3 s' });
    expect(count(d.mainLog(), path.join(logs, 'a.log'))).toBe(1);
    mkdirSync(logs);
    await pollUntil(() => d.mainLog().includes(`log file ${path.join(logs, 'a.log')}: writable again;`), { timeout: 10_000, what: 'the recovery logged' });
    expect(d.mainLog()).toMatch(/writable again; [1-9]\d* bytes were dropped meanwhile/);
    await pollUntil(() => readFileSync(path.join(logs, 'a.log'), 'utf8').includes('0123456789'), { what: 'new output in the recreated file' });
    expect(count(d.mainLog(), path.join(logs, 'a.log'))).toBe(2);
  });

  it('a failing rotation: one warning, the bytes stay in the open file, one line when rotation works again', async () => {
    const d = await startDaemon(
      'fastvisor',
      `[program:a]\ncommand=${chatty}\nstdout_logfile=%(here)s/a.log\nstdout_logfile_maxbytes=1KB\nstdout_logfile_backups=1\nstartsecs=0\n`,
    );
    const file = path.join(d.dir, 'a.log');
    // a.log -> a.log.1 fails while a.log.1 is a non-empty directory.
    mkdirSync(path.join(d.dir, 'a.log.1', 'x'), { recursive: true });
    await pollUntil(() => d.mainLog().includes(`log file ${file}: rotation failed (EISDIR); output still goes to the open file`), {
      timeout: 10_000,
      what: 'the rotation failure logged',
    });
    await pollUntil(() => readFileSync(file).length > 4096, { timeout: 10_000, what: 'the open file growing past maxbytes' });
    expect(count(d.mainLog(), `log file ${file}`)).toBe(1);
    rmSync(path.join(d.dir, 'a.log.1'), { recursive: true });
    await pollUntil(() => d.mainLog().includes(`log file ${file}: rotation works again`), { timeout: 10_000, what: 'the recovery logged' });
    expect(count(d.mainLog(), `log file ${file}`)).toBe(2);
  });
});
