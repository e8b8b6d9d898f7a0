// SPDX-License-Identifier: MIT
// A compressing peer's logs read back the way an operator would: each
// program's backups oldest first (NAME.k, or NAME.k.gz gunzipped), then the
// live file. What comes out must be exactly what the program wrote.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';

/** The files of one log, oldest first: [path, gzipped]. */
export function logChain(log: string): Array<[string, boolean]> {
  const dir = path.dirname(log);
  const base = path.basename(log);
  const backups: Array<[number, string, boolean]> = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`${base}.`)) continue;
    const m = /^(\d+)(\.gz)?$/.exec(name.slice(base.length + 1));
    if (m) backups.push([Number(m[1]), path.join(dir, name), Boolean(m[2])]);
  }
  backups.sort((a, b) => b[0] - a[0]);
  return [...backups.map(([, f, gz]): [string, boolean] => [f, gz]), [log, false]];
}

/** Feeds every byte of the log's chain, in order, to onChunk; the byte count and its sha256. */
export async function recoverLog(log: string, onChunk?: (b: Buffer) => void): Promise<{ bytes: number; sha256: string; files: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const chain = logChain(log);
  for (const [file, gz] of chain) {
    const input = createReadStream(file);
    const stream = gz ? input.pipe(createGunzip()) : input;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      onChunk?.(chunk);
    }
  }
  return { bytes, sha256: hash.digest('hex'), files: chain.length };
}

/** Is a gzip job still due (a plain backup or a temporary beside compressed ones)? */
export function compressionPending(dir: string): boolean {
  return readdirSync(dir).some((n) => /\.\d+$/.test(n) || n.endsWith('.gz.tmp'));
}
