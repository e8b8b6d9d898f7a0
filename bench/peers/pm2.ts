// SPDX-License-Identifier: MIT
// PM2 as a peer (chatty only): its God daemon in a private PM2_HOME under the
// trial's scratch directory, the programs started from an ecosystem file in
// fork mode with autorestart off, out_file = the program's log. The measured
// process is the daemon (pid from PM2_HOME/pm2.pid), which reads the pipes
// and writes the logs. Stopped with `pm2 kill` for that PM2_HOME, then by pid.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { waitForBytes } from '../lib/files.js';
import { pumpCommand } from '../lib/pin.js';
import { atExit, isAlive, killGroup, pollUntil, Proc, TOKEN_VAR } from '../lib/procs.js';
import type { PeerDef, PeerSession, TrialContext, Work } from '../lib/types.js';

export function pm2Peer(): PeerDef {
  return {
    name: 'pm2',
    describe: 'PM2 5 (npx pm2@5), fork mode, out_file per program; the God daemon is measured',
    launch(work: Work, ctx: TrialContext): PeerSession {
      const cli = ctx.pm2;
      if (!cli) throw new Error('no pm2 CLI');
      const home = path.join(work.scratch, 'pm2');
      const env = { ...process.env, PM2_HOME: home };
      const eco = path.join(work.scratch, 'ecosystem.json');
      writeFileSync(
        eco,
        JSON.stringify({
          apps: work.programs.map((p) => ({
            name: p.name,
            script: p.argv[0],
            args: p.argv.slice(1),
            interpreter: 'none',
            exec_mode: 'fork',
            autorestart: false,
            out_file: p.log,
            error_file: '/dev/null',
            pid_file: path.join(work.scratch, `${p.name}.pid`),
            env: { [TOKEN_VAR]: work.token },
          })),
        }),
      );
      const pm2 = async (args: string[], timeout: number, pin = false): Promise<string> => {
        // `pm2 ping` starts the daemon: pinning that CLI pins the daemon (it inherits the affinity).
        const [file, argv] = pin ? pumpCommand(ctx, process.execPath, [cli, ...args]) : [process.execPath, [cli, ...args]];
        const p = new Proc(`pm2 ${args[0]}`, file, argv, { env, cwd: work.scratch });
        let out = '';
        for (;;) {
          try {
            out += (await p.nextLine(timeout, `pm2 ${args[0]}`)) + '\n';
          } catch {
            break;
          }
        }
        if (!(await p.waitExit(timeout))) throw new Error(`pm2 ${args.join(' ')} hung`);
        if (p.exitStatus?.code !== 0) throw new Error(`pm2 ${args.join(' ')} failed: ${p.stderrTail}`);
        return out;
      };

      let daemon = 0;
      const session: PeerSession = {
        get pid() {
          return daemon;
        },
        async ready(timeout) {
          await pm2(['ping'], timeout, true);
          daemon = await pollUntil(
            () => {
              try {
                return Number(readFileSync(path.join(home, 'pm2.pid'), 'utf8').trim()) || undefined;
              } catch {
                return undefined;
              }
            },
            { timeout: 10_000, what: 'pm2.pid' },
          );
          const pid = daemon;
          atExit(() => killGroup(pid));
        },
        async go() {
          await pm2(['start', eco], 120_000);
        },
        async finished(timeout) {
          const allExited = async () => {
            const out = await pm2(['jlist'], 30_000);
            const json = out.split('\n').find((l) => l.startsWith('['));
            if (!json) throw new Error(`pm2 jlist said: ${out.slice(0, 200)}`);
            const list = JSON.parse(json) as Array<{ pm2_env?: { status?: string } }>;
            return list.every((a) => a.pm2_env?.status === 'stopped' || a.pm2_env?.status === 'errored');
          };
          const via = await waitForBytes(work, { timeout, allExited });
          return { via: `log sizes (${via})` };
        },
        async allRunning() {
          throw new Error('not measured for pm2');
        },
        async stop(timeout) {
          try {
            await pm2(['kill'], timeout);
          } catch {
            // fall through to the pid
          }
          let clean = true;
          try {
            await pollUntil(() => !isAlive(daemon), { timeout: 10_000, what: 'the pm2 daemon to exit' });
          } catch {
            clean = false;
          }
          if (!clean) {
            killGroup(daemon);
            await pollUntil(() => !isAlive(daemon), { timeout: 5000, what: 'the pm2 daemon to die' });
          }
          return { clean };
        },
      };
      return session;
    },
  };
}
