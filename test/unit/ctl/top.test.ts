// SPDX-License-Identifier: MIT
// fastvisorctl top's pieces: CPU % from two getAllProcessStats answers (the same
// child only), sorting, and the table's columns.
import { describe, expect, it } from 'vitest';

import { humanBytes, sortRows, topRows, topTable } from '../../../src/ctl/commands/top.js';

const s = (name: string, pid: number, now: number, cpu: number | undefined, mem?: number) => ({
  name,
  group: name === 'b' ? 'g' : name,
  statename: 'RUNNING',
  pid,
  now,
  restarts: 0,
  ...(cpu === undefined ? {} : { cpu_seconds: cpu }),
  ...(mem === undefined ? {} : { memory_bytes: mem }),
  stdout_bytes: 2048,
  stderr_bytes: 0,
});

describe('top', () => {
  it('CPU % over the interval, for the same child only', () => {
    const rows = topRows([s('a', 10, 100, 1), s('b', 11, 100, 5)], [s('a', 10, 102, 2), s('b', 12, 102, 0.5)]);
    expect(rows.map((r) => r.cpuPct)).toEqual([50, null]);
    expect(rows[1]!.namespec).toBe('g:b');
    expect(rows[0]!.logBytes).toBe(2048);
  });

  it('sorts by CPU, memory or name; the sorted column is marked', () => {
    const rows = topRows([s('a', 1, 0, 0), s('c', 2, 0, 0)], [s('a', 1, 1, 0.1, 5e6), s('c', 2, 1, 0.9, 1e6)]);
    expect(sortRows(rows, 'cpu').map((r) => r.namespec)).toEqual(['c', 'a']);
    expect(sortRows(rows, 'mem').map((r) => r.namespec)).toEqual(['a', 'c']);
    const table = topTable(sortRows(rows, 'mem'), 'mem');
    expect(table[0]).toMatch(/^NAME\s+STATE\s+PID\s+CPU%\s+CPU TIME\s+MEM\*/);
    expect(table[1]).toMatch(/^a\s+RUNNING\s+1\s+10\.0\s+0:00:00\.10\s+4\.8M/);
  });

  it('sizes the way top does', () => {
    expect([humanBytes(null), humanBytes(0), humanBytes(1536), humanBytes(300 * 1024 * 1024)]).toEqual(['-', '0B', '1.5K', '300M']);
  });
});
