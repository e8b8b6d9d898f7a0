// SPDX-License-Identifier: MIT
// The daemon's own log, in supervisord's line format word for word
// (loggers.py: '%(asctime)s %(levelname)s %(message)s'), so tools that grep
// supervisord.log keep working. Written through a native sink: same rotation,
// reopen and write-error handling as child logs, and never a blocking write.

// loggers.py LevelsByName.
export const LogLevel = { CRIT: 50, ERRO: 40, WARN: 30, INFO: 20, DEBG: 10, TRAC: 5, BLAT: 3 } as const;
export type LogLevelName = keyof typeof LogLevel;

const nameByNumber = new Map<number, LogLevelName>(
  Object.entries(LogLevel).map(([k, v]) => [v, k as LogLevelName]),
);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** '2026-01-01 10:00:00,123' in local time, as supervisord's asctime. */
export function asctime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`
  );
}

export function formatLine(level: number, message: string, ms: number): string {
  return `${asctime(ms)} ${nameByNumber.get(level) ?? 'INFO'} ${message}\n`;
}

/** One main-log message before formatting (a syslog sink formats it per line, as supervisord's SyslogHandler). */
export interface LogRecord {
  level: number;
  message: string;
  ms: number;
}

export interface LineSink {
  write(data: string, record: LogRecord): void;
}

export class MainLog {
  constructor(
    readonly level: number,
    private readonly sinks: LineSink[],
    private readonly now: () => number = Date.now,
  ) {}

  log(level: number, message: string): void {
    if (level < this.level) return;
    const ms = this.now();
    const line = formatLine(level, message, ms);
    const record = { level, message, ms };
    for (const s of this.sinks) s.write(line, record);
  }

  critical(message: string): void {
    this.log(LogLevel.CRIT, message);
  }
  error(message: string): void {
    this.log(LogLevel.ERRO, message);
  }
  warn(message: string): void {
    this.log(LogLevel.WARN, message);
  }
  info(message: string): void {
    this.log(LogLevel.INFO, message);
  }
  debug(message: string): void {
    this.log(LogLevel.DEBG, message);
  }
  trace(message: string): void {
    this.log(LogLevel.TRAC, message);
  }
  blather(message: string): void {
    this.log(LogLevel.BLAT, message);
  }
}
