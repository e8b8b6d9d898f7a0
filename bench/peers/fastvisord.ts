// SPDX-License-Identifier: MIT
// fastvisor's daemon as a peer: the same supervisord.conf the supervisord peer
// writes, run by src/cli/run-supervisord.ts bundled to plain JavaScript (no tsx
// in the measured process; see lib/build.ts), talked to over the same XML-RPC.
//
// Before/after comparisons run other checkouts of fastvisor, each bundled the
// same way from its own src/ and loading its own addon (build/Release there):
//   fastvisord-before  the checkout FASTVISOR_BEFORE (or --before DIR) names;
//                      without it the peer is not run
//   fastvisord         this repository, or the checkout FASTVISOR_AFTER (or
//                      --after DIR) names: a fixed "after" that edits to the
//                      working tree during a long run cannot change
// A checkout for either, e.g.
//   git worktree add --detach /tmp/fv-before HEAD
//   cd /tmp/fv-before && ln -s "$OLDPWD/node_modules" . && npx node-gyp rebuild
import { existsSync } from 'node:fs';
import path from 'node:path';

import { bundleDaemon } from '../lib/build.js';
import type { PeerDef } from '../lib/types.js';
import { daemonPeer } from './supervisord.js';

export const BEFORE_VAR = 'FASTVISOR_BEFORE';
export const AFTER_VAR = 'FASTVISOR_AFTER';

function dirFrom(name: string): string | undefined {
  const dir = process.env[name];
  return dir ? path.resolve(dir) : undefined;
}

/** The checkout FASTVISOR_BEFORE names, or undefined. */
export function beforeDir(): string | undefined {
  return dirFrom(BEFORE_VAR);
}

/** A case's daemon peers: fastvisord, and the daemon of the --before checkout when one is given. */
export function daemonPeers(): string[] {
  return beforeDir() ? ['fastvisord', 'fastvisord-before'] : ['fastvisord'];
}

/** The bundled daemon of a checkout, after checking it is one with a built addon. */
function checkoutDaemon(dir: string): string {
  if (!existsSync(path.join(dir, 'src', 'cli', 'run-supervisord.ts')) || !existsSync(path.join(dir, 'build', 'Release', 'fastvisor.node'))) {
    throw new Error(`${dir} is not a fastvisor checkout with a built addon (src/cli/run-supervisord.ts, build/Release/fastvisor.node)`);
  }
  return bundleDaemon(dir);
}

export function fastvisordPeer(): PeerDef {
  return daemonPeer({
    name: 'fastvisord',
    describe: () =>
      "fastvisor's daemon (src/cli/run-supervisord.ts bundled with esbuild, plain Node), on the same supervisord.conf" +
      (dirFrom(AFTER_VAR) ? `; from the checkout in $${AFTER_VAR} (${dirFrom(AFTER_VAR)})` : ''),
    command: (confPath, ctx) => {
      const dir = dirFrom(AFTER_VAR);
      return [process.execPath, [dir ? checkoutDaemon(dir) : bundleDaemon(ctx.repoRoot), '-c', confPath]];
    },
  });
}

export function fastvisordBeforePeer(): PeerDef {
  return daemonPeer({
    name: 'fastvisord-before',
    describe: () => `fastvisor's daemon from the checkout in $${BEFORE_VAR}${beforeDir() ? ` (${beforeDir()})` : ''}, bundled the same way, with that checkout's addon`,
    command: (confPath) => {
      const dir = beforeDir();
      if (!dir) throw new Error(`fastvisord-before needs ${BEFORE_VAR} (or --before DIR) to name a built fastvisor checkout`);
      return [process.execPath, [checkoutDaemon(dir), '-c', confPath]];
    },
  });
}
