// SPDX-License-Identifier: MIT
// What goes to syslog, in supervisord 4.2.5's words and bytes. Its
// SyslogHandler (loggers.py) hands each line of a message to Python's
// syslog.syslog(): facility user, priority info, the tag "supervisord" (the
// basename of its argv[0]), no pid. The native side builds and sends the
// datagrams (native/syslog.cc); this module decides what the lines are.
import { formatLine, type LineSink, type LogRecord } from './main-log.js';

/** The tag on every message: supervisord's, so syslog filters on it keep matching. */
export const SYSLOG_IDENT = 'supervisord';

/**
 * Tests (and hosts with an unusual syslog socket) name the socket here; read
 * once at daemon start. Unset or empty: the platform's (/dev/log, macOS
 * /var/run/syslog, BSD /var/run/log).
 */
export const SYSLOG_SOCKET_ENV = 'FASTVISOR_SYSLOG_SOCKET';

export function syslogSocketPath(env: NodeJS.ProcessEnv): string {
  return env[SYSLOG_SOCKET_ENV] ?? '';
}

/**
 * The main log's syslog target (logfile=syslog): SyslogHandler formats each
 * line of the message on its own ('%(asctime)s %(levelname)s %(message)s\n'
 * with message = one line of message.rstrip('\n')), one datagram each.
 */
export function syslogLineSink(send: (message: string) => void): LineSink {
  return {
    write(_line: string, r: LogRecord): void {
      for (const line of r.message.replace(/\n+$/, '').split('\n')) send(formatLine(r.level, line, r.ms));
    },
  };
}
