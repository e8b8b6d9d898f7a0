// SPDX-License-Identifier: MIT
// The I/O thread's syslog writer (native/syslog.cc), once per backend: a read
// of child output becomes the messages supervisord's SyslogHandler makes of
// it (checked against the real handler, its syslog call stubbed), a full
// socket holds messages back and sends them all, in order, once it is read
// again, and a missing one drops and counts them, one fault per episode.
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SYSLOG_SINK, type SinkFaultEvent, type SinkRecoveredEvent } from '../../src/native/index.js';
import { BACKENDS, CoreHarness } from '../helpers/core.js';
import { pollUntil } from '../helpers/poll.js';
import { killTracked } from '../helpers/procs.js';
import { python } from '../helpers/python.js';
import { listenSyslog, stopSyslogListeners, withoutTime } from '../helpers/syslog-listener.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

// supervisord's SyslogHandler with its syslog.syslog() replaced by a list:
// what it would hand to syslog(3) for each chunk, as bytes up to a NUL (a C
// string ends there).
const SUPERVISORD_SYSLOG = `
import json, sys
from supervisor import loggers
sent = []
h = loggers.SyslogHandler()
h.setFormat('prog %(message)s')
h._syslog = lambda m: sent.append(m.encode('utf-8').split(b'\\0')[0].hex())
for chunk in json.load(sys.stdin):
    h.emit(loggers.LogRecord(loggers.LevelsByName.INFO, bytes.fromhex(chunk)))
print(json.dumps(sent))
`;

const CHUNKS = [
  'one\ntwo\n',
  '\n\n\n',
  'partial',
  'tail\n\n',
  '\nlead',
  'a\n\nb',
  'crlf\r\n',
  'nul\0after\nnext',
  'tabs\tand  spaces  \n',
  'h\u00e9llo w\u00f6rld \u2603\n',
].map((s) => Buffer.from(s));

afterEach(() => {
  stopSyslogListeners();
  killTracked();
});
afterAll(removeTmpDirs);

describe.each(BACKENDS)('syslog writer (%s backend)', (backend) => {
  let h: CoreHarness;
  beforeAll(() => {
    h = new CoreHarness(backend);
  });
  afterAll(() => h.stop());

  const faults = (): Array<SinkFaultEvent | SinkRecoveredEvent> =>
    h.events.filter((e): e is SinkFaultEvent | SinkRecoveredEvent => (e.kind === 'sink-fault' || e.kind === 'sink-recovered') && e.sink === SYSLOG_SINK);

  it("a read's lines as supervisord's SyslogHandler sends them, from JS and from a child", async () => {
    const sock = path.join(tmpDir('fv-syslog-native-'), 'log.sock');
    const log = await listenSyslog(sock);
    h.core.configureSyslog({ path: sock, ident: 'supervisord' });
    for (const c of CHUNKS) h.core.syslog(c, 'prog');
    h.core.syslog(Buffer.alloc(0), 'prog'); // an empty read sends nothing
    const expected = python<string[]>(SUPERVISORD_SYSLOG, CHUNKS.map((c) => c.toString('hex'))).map(
      (hex) => `<14>TS supervisord: ${Buffer.from(hex, 'hex').toString('latin1')}`,
    );
    await pollUntil(() => log.datagrams().length >= expected.length, { what: `${expected.length} datagrams` });
    expect(log.datagrams().map(withoutTime)).toEqual(expected);
    // A child's channel with syslog on: the same, from the I/O thread.
    const s = h.sh("printf 'from\\nthe child\\n'", { stdout: { syslog: 'kid' }, stderr: { mode: 'null' } });
    await h.waitExit(s.child);
    await pollUntil(() => log.datagrams().length >= expected.length + 2, { what: "the child's lines" });
    expect(log.datagrams().slice(expected.length).map(withoutTime)).toEqual([
      '<14>TS supervisord: kid from',
      '<14>TS supervisord: kid the child',
    ]);
    // The header: priority, glibc's "%h %e %T", the tag.
    expect(log.datagrams()[0]!.toString()).toMatch(/^<14>[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d supervisord: prog one$/);
  });

  it('a full socket: messages wait and all go out in order once it is read; nothing dropped', async () => {
    const sock = path.join(tmpDir('fv-syslog-native-'), 'log.sock');
    const log = await listenSyslog(sock, { paused: true });
    h.core.configureSyslog({ path: sock, ident: 'supervisord' });
    const before = h.core.syslogCounters();
    // Far more than the socket's queue (net.unix.max_dgram_qlen, 10 by default).
    const N = 500;
    for (let i = 0; i < N; i++) h.core.syslog(`message ${i}\n`);
    log.resume();
    await pollUntil(() => log.datagrams().length >= N, { what: `${N} datagrams` });
    expect(log.datagrams().map(withoutTime)).toEqual(Array.from({ length: N }, (_, i) => `<14>TS supervisord: message ${i}\n`));
    const after = h.core.syslogCounters();
    expect(after.dropped - before.dropped).toBe(0);
    expect(after.sent - before.sent).toBe(N);
  });

  it('a missing socket: messages dropped and counted, one fault, one recovery with the count', async () => {
    const sock = path.join(tmpDir('fv-syslog-native-'), 'log.sock');
    h.core.configureSyslog({ path: sock, ident: 'supervisord' });
    const seen = faults().length;
    const before = h.core.syslogCounters();
    for (let i = 0; i < 5; i++) h.core.syslog(`lost ${i}\n`);
    await pollUntil(() => h.core.syslogCounters().dropped - before.dropped === 5, { what: '5 drops counted' });
    await pollUntil(() => faults().length > seen, { what: 'the fault event' });
    expect(faults().slice(seen).map((e) => (e.kind === 'sink-fault' ? e.code : 'recovered'))).toEqual(['ENOENT']);
    expect(h.core.syslogCounters().faultErrno).toBeGreaterThan(0);
    const log = await listenSyslog(sock);
    // Connects are retried once a second: send until one gets through.
    await pollUntil(
      () => {
        h.core.syslog('back\n');
        return log.datagrams().length > 0;
      },
      { timeout: 5000, interval: 100, what: 'a message through' },
    );
    await pollUntil(() => faults().length > seen + 1, { what: 'the recovery event' });
    const episode = faults().slice(seen);
    expect(episode.map((e) => e.kind)).toEqual(['sink-fault', 'sink-recovered']);
    expect((episode[1] as SinkRecoveredEvent).dropped).toBeGreaterThanOrEqual(5);
    expect(h.core.syslogCounters().faultErrno).toBe(0);
  });
});
