// SPDX-License-Identifier: MIT
// fastvisor's daemon as a peer: the same supervisord.conf the supervisord peer
// writes, run by src/cli/run-supervisord.ts bundled to plain JavaScript (no tsx
// in the measured process; see lib/build.ts), talked to over the same XML-RPC.
import { bundleDaemon } from '../lib/build.js';
import type { PeerDef } from '../lib/types.js';
import { daemonPeer } from './supervisord.js';

export function fastvisordPeer(): PeerDef {
  return daemonPeer({
    name: 'fastvisord',
    describe: "fastvisor's daemon (src/cli/run-supervisord.ts bundled with esbuild, plain Node), on the same supervisord.conf",
    command: (confPath, ctx) => [process.execPath, [bundleDaemon(ctx.repoRoot), '-c', confPath]],
  });
}
