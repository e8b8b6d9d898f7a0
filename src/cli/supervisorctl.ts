// SPDX-License-Identifier: MIT
// supervisorctl / fastvisorctl: options, then one command (exit status from it) or
// the interactive shell (exit status 0), as supervisorctl.py main() does.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Controller } from '../ctl/controller.js';
import { KeyboardInterrupt, uncaughtLine } from '../ctl/errors.js';
import type { CtlIo } from '../ctl/io.js';
import { helpText, HelpRequested, parseOptions, UsageError } from '../ctl/options.js';

/** What main() returns when Ctrl-C ended a one-shot command: the bin dies of SIGINT then. */
export const INTERRUPTED = 130;

export function defaultIo(): CtlIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // On first use: making process.stdin sets up a stream (a pipe, a TTY) that a
    // one-shot command without a password prompt never reads.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
    progname: process.argv[1] ?? 'supervisorctl',
  };
}

export async function main(argv: readonly string[] = process.argv.slice(2), io: CtlIo = defaultIo()): Promise<number> {
  let options;
  try {
    options = parseOptions(argv, io);
  } catch (e) {
    if (e instanceof HelpRequested) {
      io.stdout.write(helpText(io.progname));
      return 0;
    }
    if (e instanceof UsageError) {
      io.stderr.write(`Error: ${e.message}\nFor help, use ${io.progname} -h\n`);
      return 2;
    }
    throw e;
  }
  const ctl = new Controller(options, io);
  try {
    if (options.args.length > 0) {
      await ctl.onecmd(options.args.join(' '));
      return ctl.exitstatus;
    }
    const { runShell } = await import('../ctl/shell.js');
    await runShell(ctl);
    return 0;
  } catch (e) {
    if (e instanceof KeyboardInterrupt) return INTERRUPTED;
    throw e;
  } finally {
    ctl.closeConnections();
    ctl.input.close();
  }
}

/**
 * Resolves once everything written to `stream` so far has left the process, or cannot:
 * process.exit() drops what a pipe has not taken yet (stdout and stderr on a pipe are
 * asynchronous), as `status | (sleep 1; wc -l)` showed. Writes are ordered, so the
 * callback of an empty write comes after every earlier chunk's.
 */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) return resolve();
    stream.write('', () => resolve());
  });
}

function outputDrained(): Promise<unknown> {
  return Promise.all([drained(process.stdout), drained(process.stderr)]);
}

/** The bin: run, then leave with the status (or die of SIGINT, as Python's KeyboardInterrupt does). */
export async function run(): Promise<void> {
  // `supervisorctl status | head -1`: a closed pipe ends us quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  // Nowhere left to say it: a closed stderr must not become an uncaught exception.
  process.stderr.on('error', () => undefined);
  let code: number;
  try {
    code = await main();
  } catch (e) {
    // Never a stack trace: one line, as onecmd() would print it, and the generic status.
    process.stdout.write(uncaughtLine(e) + '\n');
    code = 1;
  }
  // Exit once the output is out, not when the loop empties: an abandoned RPC (Ctrl-C in
  // the shell) must not hold the process open.
  await outputDrained();
  if (code === INTERRUPTED) {
    process.removeAllListeners('SIGINT');
    process.kill(process.pid, 'SIGINT');
  }
  process.exit(code);
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) void run();
