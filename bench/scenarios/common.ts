// SPDX-License-Identifier: MIT
// What every scenario shares: building a Work in the trial's temp directory,
// and running one peer on it with the clean-up that must happen however the
// trial ends — the peer stopped (by pid on timeout), strays carrying the
// trial's token counted and killed by pid, the logs deleted.
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { clearLogs } from '../lib/files.js';
import { now } from '../lib/measure.js';
import { programArgv } from '../lib/pin.js';
import { atExit, killStrays, killStraysSync, newToken, pidsWithToken } from '../lib/procs.js';
import type { PeerDef, PeerSession, ProgramSpec, ScenarioName, TrialContext, TrialResult, Work } from '../lib/types.js';

export interface CaseDef {
  name: string;
  /** peer names, in the order they run */
  peers: string[];
  /** the runner kills a trial that takes longer */
  timeoutSec: number;
  /** shown under the table */
  note?: string;
}

export interface Scenario {
  name: ScenarioName;
  describe: string;
  cases(quick: boolean): CaseDef[];
  run(caseName: string, peer: PeerDef, ctx: TrialContext, run: number): Promise<TrialResult>;
}

export function makeWork(
  kind: ScenarioName,
  ctx: TrialContext,
  programs: Array<Omit<ProgramSpec, 'name' | 'log'>>,
  opts: { maxbytes?: number; backups?: number; startsecs?: number; pollMs?: number; rotateEverySec?: number } = {},
): Work {
  const logDir = path.join(ctx.tmp, 'logs');
  const scratch = path.join(ctx.tmp, 'peer');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(scratch, { recursive: true });
  return {
    kind,
    programs: programs.map((p, i) => ({ ...p, argv: programArgv(ctx, p.argv), name: `w${i}`, log: path.join(logDir, `w${i}.log`) })),
    logDir,
    maxbytes: opts.maxbytes ?? 0,
    backups: opts.backups ?? 0,
    ...(opts.rotateEverySec ? { rotateEverySec: opts.rotateEverySec } : {}),
    startsecs: opts.startsecs ?? 0,
    token: newToken(),
    scratch,
    pollMs: opts.pollMs ?? 20,
  };
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Human size for case names: 1GiB, 10MiB, 50MB (decimal sizes are named as such). */
export function sizeName(bytes: number): string {
  if (bytes % GiB === 0) return `${bytes / GiB}GiB`;
  if (bytes % MiB === 0) return `${bytes / MiB}MiB`;
  return `${bytes}B`;
}

/**
 * Launches the peer on the work, runs body with the session, then stops the
 * peer and counts what outlived it. The result's leftover is how many of the
 * trial's processes were still alive after the peer's own orderly stop.
 */
export async function withPeer(
  base: Pick<TrialResult, 'scenario' | 'case' | 'peer' | 'run'>,
  work: Work,
  peer: PeerDef,
  ctx: TrialContext,
  body: (s: PeerSession, result: TrialResult) => Promise<void>,
): Promise<TrialResult> {
  const result: TrialResult = { ...base, ok: false, leftover: 0, notes: [] };
  const unhook = atExit(() => killStraysSync(work.token));
  let session: PeerSession | undefined;
  try {
    session = peer.launch(work, ctx);
    await body(session, result);
    result.ok = true;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    if (session) {
      try {
        const t = now();
        const stop = await session.stop(60_000);
        result.stopSec = (now() - t) / 1000;
        if (!stop.clean) result.notes.push(`${peer.name} did not exit on its own after the stop request; killed by pid`);
      } catch (err) {
        result.notes.push(`stop failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const left = pidsWithToken(work.token);
    result.leftover = left.length;
    if (left.length) {
      result.notes.push(`${left.length} of its programs outlived ${peer.name} (pids ${left.slice(0, 10).join(' ')}); killed by pid`);
      await killStrays(work.token);
    }
    unhook();
    clearLogs(work);
  }
  return result;
}
