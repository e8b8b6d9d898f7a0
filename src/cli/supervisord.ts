// SPDX-License-Identifier: MIT
// `supervisord` / `fastvisord`: command line, config, daemonizing, run.
//
// Daemonizing: Node cannot fork, so the launching process starts a detached
// copy of itself (a new session, stdio on /dev/null) and waits on a status
// pipe until the copy is up (HTTP servers listening, pid file written) or has
// failed; it then exits 0, or prints the copy's start-up error and exits 2,
// as `supervisord` does when it fails before daemonizing.
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';

import { ConfigError, loadConfig, searchConfigFile } from '../config/load.js';
import type { Model } from '../config/model.js';
import { Daemon } from './daemon.js';
import { helpText, parseCommandLine, SUPERVISOR_VERSION, UsageError, type CommandLineOverrides } from './supervisord-options.js';

/** fd of the status pipe in the daemonized copy */
const STATUS_FD_ENV = 'FASTVISOR_DAEMON_STATUS_FD';
/** the config file the launcher found by searching, so the copy need not search again */
const CONFIG_ENV = 'FASTVISOR_DAEMON_CONFIGFILE';

function usage(progname: string, message: string): number {
  process.stderr.write(`Error: ${message}\nFor help, use ${progname} -h\n`);
  return 2;
}

export async function main(argv: string[], progname: string): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    if (err instanceof UsageError) return usage(progname, err.message);
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(helpText(progname));
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${SUPERVISOR_VERSION}\n`);
    return 0;
  }

  const statusFd = process.env[STATUS_FD_ENV] ? Number(process.env[STATUS_FD_ENV]) : null;
  let configfile = parsed.configfile ?? (statusFd !== null ? (process.env[CONFIG_ENV] ?? null) : null);
  delete process.env[STATUS_FD_ENV];
  delete process.env[CONFIG_ENV];
  const { overrides } = parsed;
  const load = (): Model => {
    configfile ??= searchConfigFile(process.cwd(), process.argv[1]);
    return loadConfig({ configfile, env: process.env, overrides });
  };

  let model: Model;
  try {
    model = load();
  } catch (err) {
    if (err instanceof ConfigError) return report(statusFd, progname, err.message);
    throw err;
  }

  if (!model.supervisord.nodaemon && statusFd === null) return daemonize(argv, progname, configfile!);

  let daemon: Daemon;
  let first = true;
  try {
    daemon = new Daemon({
      load: () => {
        // The first model is the one just read; a reload reads the file again.
        if (first) {
          first = false;
          return model;
        }
        return load();
      },
      daemonized: statusFd !== null,
      ready: () => {
        if (statusFd !== null) {
          writeSync(statusFd, 'ok\n');
          closeSync(statusFd);
        }
      },
    });
    return await daemon.run();
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) return report(statusFd, progname, err.message);
    throw err;
  }
}

/** A start-up error: straight to stderr, or up the status pipe to the launching process. */
function report(statusFd: number | null, progname: string, message: string): number {
  if (statusFd === null) return usage(progname, message);
  try {
    writeSync(statusFd, `error ${JSON.stringify(message)}\n`);
    closeSync(statusFd);
  } catch {
    // the launcher is gone; nobody to tell
  }
  return 2;
}

function daemonize(argv: string[], progname: string, configfile: string): Promise<number> {
  const args = [...process.execArgv, process.argv[1]!, ...argv];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    // The copy gets the config file found here, so its search cannot differ.
    env: { ...process.env, [STATUS_FD_ENV]: '3', [CONFIG_ENV]: configfile },
  });
  return new Promise((resolve) => {
    let text = '';
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => (text += d));
    pipe.on('end', () => {
      const line = text.split('\n')[0] ?? '';
      if (line === 'ok') {
        child.unref();
        resolve(0);
      } else if (line.startsWith('error ')) {
        resolve(usage(progname, JSON.parse(line.slice(6)) as string));
      } else {
        child.once('exit', (code, signal) =>
          resolve(usage(progname, `the daemon exited during start-up (${signal ?? `exit status ${code}`})`)),
        );
      }
    });
  });
}

export type { CommandLineOverrides };
