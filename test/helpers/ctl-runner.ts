// SPDX-License-Identifier: MIT
// The TypeScript twin of ctl_runner.py: runs fastvisor's supervisorctl main() once
// per JSON request line in one Node process, with captured stdout/stderr.
// Run as: node --import tsx test/helpers/ctl-runner.ts
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';

import { main } from '../../src/cli/supervisorctl.js';

import type { CtlRequest, CtlResult } from './ctl-harness.js';

class Collector {
  private readonly chunks: Buffer[] = [];
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

async function runOnce(req: CtlRequest): Promise<CtlResult> {
  const stdout = new Collector();
  const stderr = new Collector();
  let code: number;
  try {
    code = await main(req.argv, {
      stdout,
      stderr,
      stdin: Readable.from([Buffer.from(req.stdin ?? '')]),
      env: { ...process.env, ...req.env },
      cwd: req.cwd ?? process.cwd(),
      progname: '/usr/bin/supervisorctl',
    });
  } catch (e) {
    stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    code = 1;
  }
  return { stdout: stdout.text(), stderr: stderr.text(), code };
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const result = await runOnce(JSON.parse(line) as CtlRequest);
  process.stdout.write(JSON.stringify(result) + '\n');
}
