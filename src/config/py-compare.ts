// SPDX-License-Identifier: MIT
// Python orders str by code point; JavaScript's `<` by UTF-16 unit, which
// differs once a surrogate pair (an emoji, say) meets U+E000..U+FFFF. Group and
// process sort order and the order included files are read in depend on it.

/** Negative, zero or positive, as Python's `<` / `==` would have it. */
export function pyCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // At the first differing unit, move surrogates (D800-DFFF) above E000-FFFF:
    // a surrogate there starts a code point beyond U+FFFF.
    if (x >= 0xd800) x += x >= 0xe000 ? -0x800 : 0x2000;
    if (y >= 0xd800) y += y >= 0xe000 ? -0x800 : 0x2000;
    return x - y;
  }
  return a.length - b.length;
}
