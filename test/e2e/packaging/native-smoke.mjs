// SPDX-License-Identifier: MIT
// A self-contained smoke check of an installed fastvisor's native addon, for
// places where vitest cannot run (an arm64 Node under qemu-user): loads the
// addon through the package's own loader (node-gyp-build: the prebuild for
// this arch), spawns a child through it with stdout captured to a log file,
// waits for its exit (the I/O thread reaps it) and prints one JSON line.
// Plain JS on purpose: it runs with nothing but the installed package.
// Does not use reapOrphans: qemu-user rejects PR_SET_CHILD_SUBREAPER.
//   node native-smoke.mjs <installed package dir> <scratch dir>
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [pkgDir, scratch] = process.argv.slice(2);
if (!pkgDir || !scratch) {
  console.error('usage: native-smoke.mjs <package dir> <scratch dir>');
  process.exit(2);
}
const native = await import(pathToFileURL(path.join(pkgDir, 'dist/native/index.js')).href);

const exits = [];
const core = native.IoCore.start({ backend: 'default', onEvents: (events) => exits.push(...events.filter((e) => e.kind === 'exit')) });
const logFile = path.join(scratch, 'child.log');
const sink = core.openSink(logFile);
const child = core.spawn({
  file: '/bin/sh',
  argv: ['sh', '-c', 'echo "hello from $0"; echo "to stderr" >&2; exit 7', 'smoke'],
  env: { PATH: '/usr/bin:/bin' },
  stdout: { sink },
  stderr: 'stdout',
});

const deadline = Date.now() + 20_000;
while (!exits.some((e) => e.child === child.child) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 20));
}
const exit = exits.find((e) => e.child === child.child);
// The exit event can come before the last bytes reach the file: wait for them.
let log = '';
while (Date.now() < deadline) {
  log = readFileSync(logFile, 'utf8');
  if (log.includes('to stderr')) break;
  await new Promise((r) => setTimeout(r, 20));
}
sink.close();
core.stop();
console.log(JSON.stringify({ arch: process.arch, backend: core.backend, pid: child.pid, code: exit?.code ?? null, log }));
