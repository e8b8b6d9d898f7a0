// SPDX-License-Identifier: MIT
// fastvisor as a peer: runs bench/peers/fastvisor-driver.ts, bundled to plain
// JS, in a fresh Node process (the I/O core through src/native/index.ts) and measures that process.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { bundleDriver } from '../lib/build.js';
import { pumpCommand } from '../lib/pin.js';
import { Proc, TOKEN_VAR } from '../lib/procs.js';
import type { PeerDef, PeerSession, TrialContext, Work } from '../lib/types.js';
import type { DriverConfig } from './fastvisor-driver.js';

export function fastvisorPeer(name: string, batchMs?: number, format?: 'timestamped' | 'json', compress?: 'gzip'): PeerDef {
  return {
    name,
    describe: compress
      ? `fastvisor I/O core compressing every backup (stdout_logfile_compress=${compress}; the work's rotate_every when it sets one)`
      : format
      ? `fastvisor I/O core writing ${format} lines (stdout_logfile_format=${format})`
      : batchMs === undefined
        ? 'fastvisor I/O core (src/native) at its default batchMs (DEFAULT_CAPTURE_LAG_MS in src/native/index.ts), driven by bench/peers/fastvisor-driver.ts'
        : `fastvisor I/O core with batchMs=${batchMs} (coalescing off)`,
    launch(work: Work, ctx: TrialContext): PeerSession {
      const cfg: DriverConfig = {
        programs: work.programs,
        maxbytes: work.maxbytes,
        backups: work.backups,
        batchMs,
        mode: work.kind === 'many' ? 'running' : 'exit',
        startsecs: work.startsecs,
        tokenVar: TOKEN_VAR,
        token: work.token,
        ...(format ? { format } : {}),
        ...(compress ? { rotation: { compress, ...(work.rotateEverySec ? { every: work.rotateEverySec } : {}) } } : {}),
        ...(work.collect ? { collect: work.collect } : {}),
      };
      const cfgPath = path.join(work.scratch, 'driver.json');
      writeFileSync(cfgPath, JSON.stringify(cfg));
      const driver = bundleDriver(ctx.repoRoot);
      const proc = new Proc('fastvisor driver', ...pumpCommand(ctx, process.execPath, [driver, cfgPath]), {
        cwd: ctx.repoRoot,
      });
      return {
        pid: proc.pid,
        async ready(timeout) {
          await proc.expect('ready', timeout);
        },
        async go() {
          proc.send('go');
          await proc.expect('spawned', 120_000);
        },
        async finished(timeout) {
          const rest = await proc.expect('done', timeout);
          return { via: 'exit events', self: JSON.parse(rest) as Record<string, unknown> };
        },
        async allRunning(timeout) {
          return JSON.parse(await proc.expect('running', timeout)) as Record<string, unknown>;
        },
        async stop(timeout) {
          proc.send('quit');
          proc.closeStdin();
          return { clean: await proc.waitExit(timeout) };
        },
      };
    },
  };
}
