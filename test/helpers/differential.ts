// SPDX-License-Identifier: MIT
// What differential tests (the same config under the real supervisord and under
// fastvisor) share: main-log masking, the lines about one program, and a daemon
// stdout that is a real pipe, as under docker.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import path from 'node:path';

/** Main-log lines without their time stamps, with the temp dir, pids and pid numbers masked. */
export function maskLog(log: string, dir: string): string[] {
  return log
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      l
        .replace(/^\S+ \S+ /, '')
        .replaceAll(dir, '@DIR@')
        .replace(/pid \d+/g, 'pid N')
        .replace(/\(\d+\)/g, '(N)')
        .replace(/supervisord started with pid N/, 'supervisord started'),
    );
}

/**
 * The main-log lines about one program, in order. "waiting for X to die" comes every
 * 3 s of a shutdown, so how many there are is a matter of timing; "waiting for X to
 * stop" is a race in supervisord itself (is the child reaped by its first look?).
 */
export function linesAbout(lines: string[], name: string): string[] {
  const re = new RegExp(`'${name}'|: ${name}( |$)|for ${name} `);
  return lines.filter((l) => re.test(l) && !l.startsWith('INFO waiting for '));
}

/**
 * The daemon's stdout and stderr a pipe, as under docker (the harness's are unix
 * sockets: Node's stdio pipes, where supervisord cannot even open /dev/stdout). A FIFO
 * the test holds open for reading; sh redirects and execs, so the pid is the daemon's.
 * Pass `wrap` to startDaemon.
 */
export function pipedStdout(dir: string): { wrap: string[]; read: () => string; close: () => void } {
  const fifo = path.join(dir, 'stdout.fifo');
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  let text = '';
  let open = true;
  const read = (): string => {
    const buf = Buffer.alloc(65536);
    while (open) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch {
        break; // EAGAIN: nothing more now
      }
      if (n <= 0) break;
      text += buf.subarray(0, n).toString();
    }
    return text;
  };
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  return { wrap: ['/bin/sh', '-c', `exec "$@" >'${fifo}' 2>&1`, 'sh'], read, close };
}
