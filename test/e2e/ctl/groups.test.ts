// SPDX-License-Identifier: MIT
// reread, avail, add, remove and update after the config file changed: both
// supervisorctls see the same running config and the same file for each run.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CtlPair, DAEMONS, normalize, startDaemon, type RunningDaemon } from '../../helpers/ctl-harness.js';
import { pollUntil } from '../../helpers/poll.js';
import { killTracked } from '../../helpers/procs.js';
import { removeTmpDirs } from '../../helpers/tmp.js';

// stopwaitsecs=1: a process stopped right after its spawn may miss SIGTERM (supervisord's
// handler is still installed between fork and exec) and wait out stopwaitsecs for SIGKILL.
const sleeper = (name: string, extra = ''): string =>
  `[program:${name}]\ncommand=/bin/sleep 1000\nstartsecs=0\nstopwaitsecs=1\n${extra}`;

// Stopped from the start: stopping a process takes a tick of supervisord's loop, or more.
const OLD = sleeper('old', 'autostart=false\n');

const BASE = [
  sleeper('web'),
  OLD,
  '[group:grp]\nprograms=a,b',
  sleeper('a'),
  sleeper('b', 'autostart=false\n'),
].join('\n');

describe.each(DAEMONS)('config changes against $name', (spec) => {
  let d: RunningDaemon;
  let pair: CtlPair;
  let header: string;

  beforeAll(async () => {
    d = await startDaemon(spec, { programs: BASE });
    pair = new CtlPair();
    // Everything but the programs, as the harness wrote it.
    const text = readFileSync(d.conf, 'utf8');
    header = text.slice(0, text.indexOf('[program:'));
  });

  afterAll(async () => {
    pair?.close();
    await d?.stop();
    killTracked();
    removeTmpDirs();
  });

  type Changes = [string[], string[], string[]];

  /** Makes the daemon run `programs` (as update would), with everything in it started as configured. */
  async function run(programs: string): Promise<void> {
    writeFileSync(d.conf, header + programs + '\n');
    const [[added, changed, removed]] = (await d.rpc('supervisor.reloadConfig')) as [Changes];
    // In parallel: each stop waits for a tick of supervisord's one-second loop.
    await Promise.all(
      [...removed, ...changed].map(async (g) => {
        await d.rpc('supervisor.stopProcessGroup', g);
        await d.rpc('supervisor.removeProcessGroup', g);
      }),
    );
    for (const g of [...changed, ...added]) await d.rpc('supervisor.addProcessGroup', g);
    // Until every new process has left STARTING, a stop could catch one before its exec.
    await pollUntil(
      async () => ((await d.rpc('supervisor.getAllProcessInfo')) as Array<{ state: number }>).every((i) => i.state !== 10),
      { what: 'processes to leave STARTING' },
    );
  }

  /** The daemon runs `running`; the file says `file`; with `reread`, the daemon has read it too (for add). */
  function given(running: string, file: string, reread = false): () => Promise<void> {
    return async () => {
      await run(running);
      writeFileSync(d.conf, header + file + '\n');
      if (reread) await d.rpc('supervisor.reloadConfig');
    };
  }

  async function same(line: string, reset: () => Promise<void>): Promise<string> {
    const { py, ts } = await pair.both({ argv: ['-c', d.conf, ...line.split(' ')] }, reset);
    expect(normalize(ts)).toEqual(normalize(py));
    return py.stdout;
  }

  const ADDED = BASE + '\n' + sleeper('new');
  const CHANGED = BASE.replace('[program:web]\ncommand=/bin/sleep 1000', '[program:web]\ncommand=/bin/sleep 999');
  const REMOVED = BASE.replace(OLD, '');
  const GROUP_GROWN = BASE.replace('programs=a,b', 'programs=a,b,c') + '\n' + sleeper('c');
  const EVERYTHING = CHANGED.replace(OLD, '').replace('programs=a,b', 'programs=a,b,c') + '\n' + sleeper('c') + sleeper('new');

  it('nothing changed', async () => {
    expect(await same('reread', given(BASE, BASE))).toBe('No config updates to processes\n');
    expect(await same('update', given(BASE, BASE))).toBe('');
    await same('avail', given(BASE, BASE));
  });

  it('a program added', async () => {
    expect(await same('reread', given(BASE, ADDED))).toBe('new: available\n');
    await same('avail', given(BASE, ADDED));
    expect(await same('add new', given(BASE, ADDED))).toBe('ERROR: no such process/group: new\n');
    expect(await same('add new', given(BASE, ADDED, true))).toBe('new: added process group\n');
    await same('add new web nope', given(BASE, ADDED, true));
    expect(await same('update', given(BASE, ADDED))).toBe('new: added process group\n');
    await same('update new', given(BASE, ADDED));
    await same('update web', given(BASE, ADDED));
  });

  it('a program changed', async () => {
    expect(await same('reread', given(BASE, CHANGED))).toBe('web: changed\n');
    expect(await same('update', given(BASE, CHANGED))).toBe('web: stopped\nweb: updated process group\n');
    await same('update all', given(BASE, CHANGED));
    await same('update web grp', given(BASE, CHANGED));
    await same('update grp nope', given(BASE, CHANGED));
  });

  it('a program removed', async () => {
    expect(await same('reread', given(BASE, REMOVED))).toBe('old: disappeared\n');
    await same('avail', given(BASE, REMOVED));
    expect(await same('update', given(BASE, REMOVED))).toBe('old: stopped\nold: removed process group\n');
    expect(await same('remove old', given(BASE, REMOVED))).toBe('old: removed process group\n');
    await same('remove old web', given(BASE, REMOVED));
  });

  it('a group grown, and everything at once', async () => {
    expect(await same('reread', given(BASE, GROUP_GROWN))).toBe('grp: changed\n');
    await same('update grp', given(BASE, GROUP_GROWN));
    await same('reread', given(BASE, EVERYTHING));
    await same('update', given(BASE, EVERYTHING));
    await same('update new old', given(BASE, EVERYTHING));
    await same('status', async () => undefined);
  });
});
