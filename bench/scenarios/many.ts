// SPDX-License-Identifier: MIT
// many: N programs of `sleep 60` with startsecs=1. Time from launching the
// peer's process until all N are RUNNING, and the peer's peak RSS. supervisord
// is asked with getAllProcessInfo every 100 ms; the fastvisor driver (core
// only, no daemon yet) counts a program RUNNING 1 s after its spawn if it has
// not exited. Then the peer stops them itself, and the bench checks that none
// is left.
import { now, procCpu, procMemory } from '../lib/measure.js';
import type { PeerDef, TrialContext, TrialResult } from '../lib/types.js';
import { makeWork, withPeer, type CaseDef, type Scenario } from './common.js';

function count(quick: boolean): number {
  return quick ? 50 : 500;
}

export const many: Scenario = {
  name: 'many',
  describe: 'N × `sleep 60`, startsecs=1: launch → all RUNNING, peak RSS, nothing left after stop',
  cases(quick): CaseDef[] {
    return [
      {
        name: `${count(quick)}xsleep`,
        peers: ['fastvisor', 'supervisord'],
        timeoutSec: 240,
        note: 'fastvisor is the I/O core in a Node driver (no daemon yet); its RSS is that of Node (bundled plain JS, no tsx) plus the core',
      },
    ];
  },
  async run(name: string, peer: PeerDef, ctx: TrialContext, run: number): Promise<TrialResult> {
    const n = count(ctx.quick);
    if (name !== `${n}xsleep`) throw new Error(`no many case ${name}`);
    const programs = Array.from({ length: n }, () => ({ argv: ['/bin/sleep', '60'], expectedBytes: 0 }));
    const work = makeWork('many', ctx, programs, { startsecs: 1 });
    const t0 = now();
    return withPeer({ scenario: 'many', case: name, peer: peer.name, run }, work, peer, ctx, async (s, r) => {
      await s.ready(60_000);
      await s.go();
      r.self = await s.allRunning(120_000);
      const t1 = now();
      const mem = procMemory(s.pid);
      const cpu = procCpu(s.pid);
      r.wallSec = (t1 - t0) / 1000;
      r.peakRssKB = mem?.peakKB;
      r.cpuSec = cpu?.total;
      r.via = 'all RUNNING';
    });
  },
};
