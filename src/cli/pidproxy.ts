// SPDX-License-Identifier: MIT
// `pidproxy PIDFILE COMMAND [ARGS...]`: runs a program that daemonizes itself
// (so supervisord cannot see its real pid) and passes the signals supervisord
// sends to the pid in that program's pid file, as supervisor's pidproxy.py
// does: TERM, INT and QUIT are passed on and end the proxy; HUP, USR1 and USR2
// are passed on; the proxy exits when its own child exits.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const PASSED = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGUSR1', 'SIGUSR2', 'SIGQUIT'] as const;
const ENDING = new Set<string>(['SIGTERM', 'SIGINT', 'SIGQUIT']);

export function usage(progname: string): string {
  return `pidproxy -- run command and proxy signals to it via its pidfile.

This executable runs a command and then monitors a pidfile.  When this
executable receives a signal, it sends the same signal to the pid
in the pidfile.

Usage: ${progname} <pidfile name> <command> [<cmdarg1> ...]

`;
}

export function main(argv: string[], progname: string): void {
  const [pidfile, command, ...args] = argv;
  if (pidfile === undefined || command === undefined) {
    process.stdout.write(usage(progname));
    process.exit(1);
  }
  const child = spawn(path.resolve(command), args, { stdio: 'inherit', argv0: command });
  child.on('error', (err) => {
    process.stderr.write(`pidproxy: ${command}: ${err.message}\n`);
    process.exit(127);
  });
  // Like pidproxy.py: the proxy ends when its child does, whatever the daemon it started does.
  child.on('exit', () => process.exit(0));
  for (const sig of PASSED) {
    process.on(sig, () => {
      let pid: number;
      try {
        pid = Number.parseInt(readFileSync(pidfile, 'utf8').trim(), 10);
        if (!Number.isInteger(pid) || pid <= 0) throw new Error('not a pid');
      } catch {
        process.stdout.write(`Can't read child pidfile ${pidfile}!\n`);
        return;
      }
      try {
        process.kill(pid, sig);
      } catch {
        // gone already: nothing to pass it to
      }
      if (ENDING.has(sig)) process.exit(0);
    });
  }
}

main(process.argv.slice(2), process.argv[1] ?? 'pidproxy');
