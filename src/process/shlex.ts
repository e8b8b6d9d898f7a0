// SPDX-License-Identifier: MIT
// Python's shlex.split() (POSIX mode, no comments): how supervisord's
// process.py get_execv_args() turns command= into argv. Errors carry
// Python's messages, which supervisord puts into "can't parse command".

export class ShlexError extends Error {}

export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let token = '';
  let inToken = false; // a token has started (even if empty, as with '')
  let i = 0;
  const ws = ' \t\r\n';
  while (i < s.length) {
    const c = s[i]!;
    if (ws.includes(c)) {
      if (inToken) {
        out.push(token);
        token = '';
        inToken = false;
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new ShlexError('No escaped character');
      token += s[i + 1];
      inToken = true;
      i += 2;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ShlexError('No closing quotation');
      token += s.slice(i + 1, end);
      inToken = true;
      i = end + 1;
    } else if (c === '"') {
      inToken = true;
      i++;
      for (;;) {
        if (i >= s.length) throw new ShlexError('No closing quotation');
        const d = s[i]!;
        if (d === '"') {
          i++;
          break;
        }
        // Inside double quotes a backslash escapes only '"' and '\'.
        if (d === '\\' && i + 1 < s.length && (s[i + 1] === '"' || s[i + 1] === '\\')) {
          token += s[i + 1];
          i += 2;
        } else if (d === '\\' && i + 1 >= s.length) {
          throw new ShlexError('No escaped character');
        } else {
          token += d;
          i++;
        }
      }
    } else {
      token += c;
      inToken = true;
      i++;
    }
  }
  if (inToken) out.push(token);
  return out;
}
