// SPDX-License-Identifier: MIT
// Poll a condition until it holds or a deadline passes: tests never sleep and hope.
// A probe that reads a file the daemon has not made yet, or that a rotation
// has just renamed away (no file between the rename and the new open), finds
// "not yet", not a failure: ENOENT counts as a false probe until the deadline.
export async function pollUntil<T>(
  probe: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  opts: { timeout?: number; interval?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeout ?? 10_000);
  for (;;) {
    let v: T | undefined | false | null;
    try {
      v = await probe();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || Date.now() > deadline) throw err;
      v = undefined;
    }
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeout ?? 10_000} ms waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.interval ?? 10));
  }
}
