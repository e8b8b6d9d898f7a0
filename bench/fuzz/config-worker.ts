// SPDX-License-Identifier: MIT
// Child of the config fuzz: loads the cases listed in a JSON file with loadConfig, from
// index argv[3] on, and prints one JSON line per case. It is its own process so the
// parent can see a hang (no line for a while) or a crash (exit) and go on after it.
import { readFileSync, writeSync } from 'node:fs';

import { ConfigError, loadConfig } from '../../src/config/load.js';

interface Case {
  dir: string;
  env: Record<string, string>;
}

/**
 * Synchronously, whole: a worker that dies on the next case must not take this line with
 * it. stdout is a non-blocking pipe: writeSync may write part of it, or throw EAGAIN
 * while the parent is slow to read.
 */
function writeLine(text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

const cases = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Case[];
for (let i = Number(process.argv[3] ?? 0); i < cases.length; i++) {
  const c = cases[i]!;
  process.chdir(c.dir);
  let out: Record<string, unknown>;
  try {
    loadConfig({ configfile: 'supervisord.conf', env: c.env });
    out = { i, ok: true };
  } catch (err) {
    if (err instanceof ConfigError) out = { i, error: err.message };
    else out = { i, internal: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  writeLine(`${JSON.stringify(out)}\n`);
}
