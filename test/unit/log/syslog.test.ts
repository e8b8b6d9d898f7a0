// SPDX-License-Identifier: MIT
// The main log's syslog target (logfile=syslog) makes the messages
// supervisord's SyslogHandler makes: one per line of a message, each in the
// main log's format with its own newline. Checked against the real handler
// (its syslog call stubbed; the time replaced on both sides).
import { describe, expect, it } from 'vitest';

import { LogLevel, MainLog } from '../../../src/log/main-log.js';
import { syslogLineSink, syslogSocketPath, SYSLOG_IDENT, SYSLOG_SOCKET_ENV } from '../../../src/log/syslog.js';
import { python } from '../../helpers/python.js';

const SUPERVISORD_MAIN_SYSLOG = `
import json, sys
from supervisor import loggers
sent = []
logger = loggers.getLogger(loggers.LevelsByName.INFO)
loggers.handle_syslog(logger, '%(asctime)s %(levelname)s %(message)s\\n')
logger.handlers[0]._syslog = lambda m: sent.append(m)
for level, msg in json.load(sys.stdin):
    logger.log(level, msg)
print(json.dumps(sent))
`;

const MESSAGES: Array<[number, string]> = [
  [LogLevel.INFO, 'spawned: \'x\' with pid 42'],
  [LogLevel.WARN, 'two\nlines'],
  [LogLevel.CRIT, 'trailing newlines\n\n'],
  [LogLevel.ERRO, '\nleading and\n\ninner blank'],
  [LogLevel.INFO, ''],
  [LogLevel.DEBG, 'below the level: not sent'],
  [LogLevel.INFO, 'h\u00e9llo \u2603'],
];

const time = (s: string): string => s.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} /, 'ASCTIME ');

describe('main log to syslog', () => {
  it("one message per line, as supervisord's SyslogHandler", () => {
    const sent: string[] = [];
    const log = new MainLog(LogLevel.INFO, [syslogLineSink((m) => sent.push(m))], () => Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    for (const [level, msg] of MESSAGES) log.log(level, msg);
    const expected = python<string[]>(SUPERVISORD_MAIN_SYSLOG, MESSAGES);
    expect(sent.map(time)).toEqual(expected.map(time));
  });

  it('the socket path comes from FASTVISOR_SYSLOG_SOCKET, else the platform default (empty)', () => {
    expect(SYSLOG_IDENT).toBe('supervisord');
    expect(syslogSocketPath({ [SYSLOG_SOCKET_ENV]: '/tmp/x.sock' })).toBe('/tmp/x.sock');
    expect(syslogSocketPath({})).toBe('');
  });
});
