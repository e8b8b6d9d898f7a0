// SPDX-License-Identifier: MIT
// The typed, validated, expanded configuration: what supervisord's options.py
// realize() and process_groups_from_parser() produce. Field names are the
// option names, so `grep startsecs` lands here, in process/ and in tests.

/** A logfile option after logfile_name(): a path, AUTO (childlogdir), or none. */
export type LogfileSetting = { kind: 'path'; path: string } | { kind: 'auto' } | { kind: 'none' };

export type AutoRestart = 'true' | 'false' | 'unexpected';

export interface ProcessConfig {
  /** process_name after expansion: the name getProcessInfo reports */
  name: string;
  /** the [program:x] section's x */
  program_name: string;
  command: string;
  directory: string | null;
  umask: number | null;
  priority: number;
  autostart: boolean;
  autorestart: AutoRestart;
  startsecs: number;
  startretries: number;
  /** the user= option as written; resolved to uid/gid at spawn time */
  user: string | null;
  stdout_logfile: LogfileSetting;
  stdout_logfile_maxbytes: number;
  stdout_logfile_backups: number;
  stdout_capture_maxbytes: number;
  stdout_events_enabled: boolean;
  stdout_syslog: boolean;
  stderr_logfile: LogfileSetting;
  stderr_logfile_maxbytes: number;
  stderr_logfile_backups: number;
  stderr_capture_maxbytes: number;
  stderr_events_enabled: boolean;
  stderr_syslog: boolean;
  stopsignal: number;
  stopwaitsecs: number;
  stopasgroup: boolean;
  killasgroup: boolean;
  exitcodes: number[];
  redirect_stderr: boolean;
  /** [supervisord] environment= merged under the program's environment= */
  environment: Record<string, string>;
  serverurl: string | null;
  /** the section it came from and its file, for error messages */
  section: string;
  file: string;
}

export type GroupKind = 'program' | 'group' | 'eventlistener' | 'fcgi-program';

export interface EventListenerPoolSettings {
  buffer_size: number;
  events: string[];
  result_handler: string;
}

export interface ProcessGroupConfig {
  name: string;
  kind: GroupKind;
  priority: number;
  /** sorted by priority, as options.py sorts them */
  processes: ProcessConfig[];
  pool?: EventListenerPoolSettings;
}

export interface HttpServerConfig {
  kind: 'unix' | 'inet';
  /** unix: socket path */
  file?: string;
  chmod?: number;
  chown?: { uid: number; gid: number } | null;
  /** inet: host and port */
  host?: string;
  port?: number;
  username: string | null;
  password: string | null;
}

export interface SupervisordConfig {
  logfile: string;
  logfile_maxbytes: number;
  logfile_backups: number;
  loglevel: number;
  pidfile: string;
  umask: number;
  nodaemon: boolean;
  silent: boolean;
  minfds: number;
  minprocs: number;
  nocleanup: boolean;
  childlogdir: string;
  user: string | null;
  directory: string | null;
  strip_ansi: boolean;
  environment: Record<string, string>;
  identifier: string;
}

export interface SupervisorctlConfig {
  serverurl: string;
  username: string | null;
  password: string | null;
  prompt: string;
  history_file: string | null;
}

export interface Model {
  /** the main config file, absolute */
  configfile: string;
  /** the directory of the main config file: %(here)s */
  here: string;
  supervisord: SupervisordConfig;
  /** sorted by priority */
  groups: ProcessGroupConfig[];
  servers: HttpServerConfig[];
  supervisorctl: SupervisorctlConfig | null;
  /** non-fatal findings supervisord logs at start-up (parse_warnings / parse_infos) */
  warnings: string[];
  infos: string[];
}
