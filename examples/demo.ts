// SPDX-License-Identifier: MIT
// A tour of the native core until the daemon lands: three small programs,
// their output captured into rotated log files under examples/.demo/, exits
// reported as they happen. `npm start` runs it; Ctrl-C stops everything.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { IoCore } from '../src/native/index.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '.demo');
mkdirSync(dir, { recursive: true });

const programs = [
  { name: 'clock', script: 'while :; do date "+%T tick"; sleep 1; done' },
  { name: 'chatty', script: 'i=0; while :; do i=$((i+1)); echo "line $i: the quick brown fox"; sleep 0.01; done' },
  { name: 'flaky', script: 'echo starting; sleep 3; echo "giving up" >&2; exit 2' },
];

const names = new Map<number, string>();
const core = IoCore.start({
  onEvents(events) {
    for (const e of events) {
      if (e.kind === 'exit') console.log(`exited: ${names.get(e.child)} (pid ${e.pid}, ${e.signal ? `signal ${e.signal}` : `exit status ${e.code}`})`);
      if (e.kind === 'sink-fault') console.log(`log write error: ${e.code}`);
    }
  },
});
console.log(`fastvisor native core running on the ${core.backend} backend; logs in ${dir}`);

const sinks = programs.map((p) => core.openSink(path.join(dir, `${p.name}.log`), { maxbytes: 1 << 20, backups: 3 }));
const children = programs.map((p, i) => {
  const s = core.spawn({ file: '/bin/sh', argv: ['sh', '-c', p.script], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdout: { sink: sinks[i] }, stderr: 'stdout' });
  names.set(s.child, p.name);
  console.log(`spawned: '${p.name}' with pid ${s.pid}`);
  return s;
});

const status = setInterval(() => {
  const line = programs.map((p, i) => `${p.name}: ${sinks[i]!.counters().written} bytes`).join(', ');
  console.log(line);
}, 2000);

function shutdown(): void {
  clearInterval(status);
  for (const c of children) core.kill(c.pid, 'SIGTERM', true);
  setTimeout(() => {
    core.stop();
    process.exit(0);
  }, 200);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
