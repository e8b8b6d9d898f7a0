// SPDX-License-Identifier: MIT
// The reference: bench/c-loop/pump.c, a plain epoll read()/write() loop (or
// splice(2) with --splice), spawning the same programs. It does not rotate.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { pumpCommand } from '../lib/pin.js';
import { Proc, TOKEN_VAR } from '../lib/procs.js';
import type { PeerDef, PeerSession, TrialContext, Work } from '../lib/types.js';

export function cLoopPeer(name: string, splice: boolean): PeerDef {
  return {
    name,
    describe: splice
      ? 'bench/c-loop/pump.c --splice: epoll + splice(2) pipe -> file'
      : 'bench/c-loop/pump.c: epoll level-triggered, read() 256 KiB, write()',
    launch(work: Work, ctx: TrialContext): PeerSession {
      if (work.kind === 'many') throw new Error('the C loop has no notion of RUNNING');
      const spec = path.join(work.scratch, 'pump.spec');
      writeFileSync(spec, work.programs.map((p) => [p.log, ...p.argv].join('\t') + '\n').join(''));
      const args = [...(splice ? ['--splice'] : []), '--env', `${TOKEN_VAR}=${work.token}`, spec];
      const proc = new Proc(name, ...pumpCommand(ctx, ctx.bins.pump, args), {});
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
          return { via: 'all pipes EOF, all reaped', self: JSON.parse(rest) as Record<string, unknown> };
        },
        async allRunning() {
          throw new Error('the C loop has no notion of RUNNING');
        },
        async stop(timeout) {
          proc.closeStdin();
          return { clean: await proc.waitExit(timeout) };
        },
      };
    },
  };
}
