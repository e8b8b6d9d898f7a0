// SPDX-License-Identifier: MIT
// bulk: programs that write as fast as they can (64 KiB write()s), and how
// quickly, and at what CPU cost, each peer gets every byte into the files.
// Wall time runs from "go" (peer set up, nothing spawned) to the last byte
// on disk; CPU is the pump process's own utime+stime over the same window.
//
// The "-100B-lines" case: 100-byte lines, raw against stdout_logfile_format
// =json (peer fastvisor-json); its throughput counts the child's bytes, which
// the checker (lib/line-check.ts) finds by parsing every JSON line.
//
// The rotated case also runs fastvisor-gzip (stdout_logfile_compress=gzip):
// its wall time is capture's (the backups are compressed off the I/O thread,
// perhaps after it); then the bench waits for the compression to finish
// (noted) and reads every log back, backups gunzipped oldest first, then the
// live file: its sha256 must be that of the writer's own output.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { bytesOnDisk, expectedBytes } from '../lib/files.js';
import { checkDir, peerFormat } from '../lib/line-check.js';
import { compressionPending, recoverLog } from '../lib/recover.js';
import { now, procCpu, procMemory } from '../lib/measure.js';
import type { PeerDef, TrialContext, TrialResult } from '../lib/types.js';
import { GiB, MiB, makeWork, sizeName, withPeer, type CaseDef, type Scenario } from './common.js';

interface BulkCase {
  procs: number;
  bytes: number;
  maxbytes: number;
  backups: number;
  /** bytes per line (the writer's default: 64); set: the line-format case */
  line?: number;
}

function cases(quick: boolean): Map<string, BulkCase> {
  const list: BulkCase[] = quick
    ? [
        { procs: 1, bytes: 64 * MiB, maxbytes: 0, backups: 0 },
        { procs: 20, bytes: 4 * MiB, maxbytes: 0, backups: 0 },
        { procs: 50, bytes: 1 * MiB, maxbytes: 0, backups: 0 },
        { procs: 1, bytes: 64 * MiB, maxbytes: 8 * MiB, backups: 30 },
        { procs: 1, bytes: 64 * MiB, maxbytes: 0, backups: 0, line: 100 },
      ]
    : [
        { procs: 1, bytes: GiB, maxbytes: 0, backups: 0 },
        { procs: 100, bytes: 10 * MiB, maxbytes: 0, backups: 0 },
        { procs: 500, bytes: 2 * MiB, maxbytes: 0, backups: 0 },
        // 50MB as supervisord reads it (50 * 1024 * 1024); 30 backups keep all 21 files.
        { procs: 1, bytes: GiB, maxbytes: 50 * MiB, backups: 30 },
        { procs: 1, bytes: GiB, maxbytes: 0, backups: 0, line: 100 },
      ];
  const m = new Map<string, BulkCase>();
  for (const c of list) m.set(`${c.procs}x${sizeName(c.bytes)}${c.maxbytes ? `-rot${sizeName(c.maxbytes)}` : ''}${c.line ? `-${c.line}B-lines` : ''}`, c);
  return m;
}

/** More than a json record adds to a line (time, names, pid, quotes: ~120 bytes). */
const LINE_OVERHEAD_MAX = 160;

/**
 * Writes and deletes as many bytes as the trial will, before the peer starts.
 * On this VM the first write into guest memory that has not been touched for
 * a while costs several times more (the host faults it in): without this, the
 * first trial of a run measured 0.45 GB/s where the same peer then did 1.3-1.5.
 * Deleting the file hands the now-warm pages back for the trial's page cache.
 */
function warmPageCache(ctx: TrialContext, bytes: number): void {
  const file = path.join(ctx.tmp, 'warm-up');
  const fd = openSync(file, 'w');
  try {
    execFileSync(ctx.bins.writer, ['bytes', String(bytes)], { stdio: ['ignore', fd, 'inherit'] });
  } finally {
    closeSync(fd);
    unlinkSync(file);
  }
}

/** sha256 of what one writer of the case writes (the pattern is fixed). */
async function writerSha(ctx: TrialContext, c: BulkCase): Promise<string> {
  const hash = createHash('sha256');
  const child = spawn(ctx.bins.writer, ['bytes', String(c.bytes), ...(c.line ? [String(c.line)] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

export const bulk: Scenario = {
  name: 'bulk',
  describe: 'N programs writing B bytes each in 64 KiB write()s; go → all bytes on disk',
  cases(quick): CaseDef[] {
    return [...cases(quick)].map(([name, c]) => ({
      name,
      peers: c.line
        ? ['fastvisor', 'fastvisor-json']
        : c.maxbytes
          ? ['fastvisor', 'fastvisor-gzip', 'c-loop', 'c-splice', 'supervisord']
          : ['fastvisor', 'c-loop', 'c-splice', 'supervisord'],
      timeoutSec: 600,
      note: c.line
        ? 'raw against json lines (stdout_logfile_format=json); GB/s counts the child bytes, found by parsing every line'
        : c.maxbytes
          ? 'the C loop does not rotate: its rows here are the unrotated reference; fastvisor-gzip: every backup gzipped off the I/O thread, read back and compared (sha256) after the clock stopped'
          : undefined,
    }));
  },
  async run(caseName: string, peer: PeerDef, ctx: TrialContext, run: number): Promise<TrialResult> {
    const c = cases(ctx.quick).get(caseName);
    if (!c) throw new Error(`no bulk case ${caseName}`);
    const rotate = peer.name.startsWith('c-') ? { maxbytes: 0, backups: 0 } : { maxbytes: c.maxbytes, backups: c.backups };
    const argv = [ctx.bins.writer, 'bytes', String(c.bytes), ...(c.line ? [String(c.line)] : [])];
    const programs = Array.from({ length: c.procs }, () => ({ argv, expectedBytes: c.bytes }));
    const format = peerFormat(peer.name);
    // Stat'ing the logs of a peer that cannot report completion: often for few
    // files (the wall time's resolution), less often for many (the poll's own cost).
    const pollMs = Math.min(20, Math.max(5, c.procs / 10));
    const work = makeWork('bulk', ctx, programs, { ...rotate, pollMs });
    const expected = expectedBytes(work);
    // A formatted log holds more bytes than the child wrote (json: ~2.2 x for
    // 100-byte lines): warm what the files will take, not what was written,
    // or the excess lands on cold memory and is charged to the format.
    warmPageCache(ctx, format && c.line ? Math.ceil((expected * (c.line + LINE_OVERHEAD_MAX)) / c.line) : expected);
    return withPeer({ scenario: 'bulk', case: caseName, peer: peer.name, run }, work, peer, ctx, async (s, r) => {
      await s.ready(30_000);
      const cpu0 = procCpu(s.pid);
      const t0 = now();
      await s.go();
      r.goSec = (now() - t0) / 1000;
      const fin = await s.finished(540_000);
      let t1 = now();
      const cpu1 = procCpu(s.pid);
      const mem = procMemory(s.pid);
      if (!cpu0 || !cpu1) throw new Error(`could not read /proc/${s.pid}/stat`);
      let onDisk = bytesOnDisk(work);
      const gzip = peer.name.endsWith('-gzip');
      if (gzip) {
        // Compressed backups hold fewer bytes than they stand for: read them back.
        const tc = now();
        while (compressionPending(work.logDir) && now() - tc < 120_000) await sleep(50);
        const cpuAll = procCpu(s.pid);
        r.notes.push(
          `gzip: every backup compressed ${((now() - t1) / 1000).toFixed(2)} s after the last byte was captured${compressionPending(work.logDir) ? ' (NOT within 120 s)' : ''}; CPU with the compression: ${cpuAll ? (cpuAll.total - cpu0.total).toFixed(2) : '?'} s`,
        );
        const want = await writerSha(ctx, c);
        onDisk = 0;
        let gzBytes = 0;
        for (const p of work.programs) {
          const got = await recoverLog(p.log);
          if (got.sha256 === want) onDisk += got.bytes;
          else r.notes.push(`${p.name}: read back ${got.bytes} bytes from ${got.files} files, not what the writer wrote`);
        }
        for (const n of readdirSync(work.logDir)) if (n.endsWith('.gz')) gzBytes += statSync(path.join(work.logDir, n)).size;
        r.notes.push(`gzip: ${(gzBytes / 1e6).toFixed(1)} MB of .gz; read back = the writer's bytes (sha256) for ${onDisk === expected ? 'every' : 'NOT every'} program`);
      } else if (onDisk < expected) {
        // The peer said it was done: anything still missing is either late or lost.
        const short = expected - onDisk;
        const until = now() + 2000;
        while (onDisk < expected && now() < until) {
          await sleep(10);
          onDisk = bytesOnDisk(work);
        }
        if (onDisk >= expected) {
          t1 = now();
          r.notes.push(`${short} bytes were not yet on disk when ${peer.name} reported completion (${fin.via})`);
        }
      }
      if (format) {
        // The files hold records, not the child's bytes: parse them back (after the clock stopped).
        const check = await checkDir(work.logDir, format);
        r.notes.push(`${format}: ${check.records} lines, ${check.bad} did not parse alone, ${onDisk} bytes in the files`);
        onDisk = check.payloadBytes;
      }
      r.wallSec = (t1 - t0) / 1000;
      r.expectedBytes = expected;
      r.bytesOnDisk = onDisk;
      r.lostBytes = expected - onDisk;
      r.throughputGBs = onDisk / r.wallSec / 1e9;
      r.cpuSec = cpu1.total - cpu0.total;
      r.peakRssKB = mem?.peakKB;
      r.via = fin.via;
      r.self = fin.self;
    });
  },
};
