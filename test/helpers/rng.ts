// SPDX-License-Identifier: MIT
// Seeded generators for the tests that generate inputs, so every run sees the
// same cases.

/** mulberry32 */
export function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ (t + t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A linear congruential generator (Numerical Recipes' constants). */
export function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** XML's punctuation, white space, letters and digits: what a mutation puts into an XML-RPC document. */
const XML_ALPHABET = Buffer.from('<>/&;#x!-?[]="\' \nabcdefghijklmnopqrstuvwxyz0123456789');

/** base with 1–3 random one-byte edits (replace, insert or delete), drawn from r. */
export function mutateXml(base: Buffer, r: () => number): Buffer {
  let out = base;
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * out.length);
    const c = XML_ALPHABET[Math.floor(r() * XML_ALPHABET.length)]!;
    const op = Math.floor(r() * 3);
    out =
      op === 0
        ? Buffer.concat([out.subarray(0, at), Buffer.from([c]), out.subarray(at + 1)])
        : op === 1
          ? Buffer.concat([out.subarray(0, at), Buffer.from([c]), out.subarray(at)])
          : Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
  }
  return out;
}
