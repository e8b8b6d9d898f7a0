// SPDX-License-Identifier: MIT
// stopwaitsecs = 0 or negative: supervisord accepts both and kills at once.
// The daemon must SIGKILL once, wait for the exit, and stay answerable
// (it used to re-send SIGKILL in a busy loop, 160 000 log lines a second).
import { afterEach, describe, expect, it } from 'vitest';

import { startDaemon, stopAllDaemons, supervisorctl, type DaemonKind } from '../../helpers/daemon-harness.js';
import { pollUntil } from '../../helpers/poll.js';

afterEach(stopAllDaemons);

describe.each(['fastvisor', 'supervisord'] as DaemonKind[])('%s: stopwaitsecs <= 0', (kind) => {
  for (const stopwaitsecs of [0, -3]) {
    it(`stopwaitsecs=${stopwaitsecs}: stop kills at once, logs one SIGKILL, the daemon keeps answering`, async () => {
      // sh ignores TERM, so only the SIGKILL can end it.
      const d = await startDaemon(
        kind,
        `[program:a]\ncommand=/bin/sh -c "trap '' TERM; while :; do sleep 1; done"\nstartsecs=0\nstopwaitsecs=${stopwaitsecs}\n`,
      );
      await pollUntil(async () => ((await d.rpc('supervisor.getProcessInfo', 'a')) as { statename: string }).statename === 'RUNNING', {
        what: 'a RUNNING',
      });
      const r = supervisorctl(d.conf, ['stop', 'a']);
      expect(r.stdout).toContain('a: stopped');
      // The daemon answers at once afterwards, and its main log names the kill once.
      const state = (await d.rpc('supervisor.getState')) as { statename: string };
      expect(state.statename).toBe('RUNNING');
      const info = (await d.rpc('supervisor.getProcessInfo', 'a')) as { statename: string };
      expect(info.statename).toBe('STOPPED');
      const kills = d.mainLog().split('\n').filter((l) => l.includes("killing 'a'"));
      // supervisord re-sends SIGKILL on every pass of its loop until the
      // exit is reaped (dozens of lines with stopwaitsecs=0); fastvisor once.
      if (kind === 'fastvisor') expect(kills).toHaveLength(1);
      else expect(kills.length).toBeGreaterThanOrEqual(1);
      expect(kills[0]).toMatch(/WARN killing 'a' \(\d+\) with SIGKILL/);
      // SIGTERM to the daemon completes.
      expect(await d.stop()).toBe(0);
    });
  }
});
