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
  /** the user= option as written (expanded); its gid and groups are looked up at spawn time */
  user: string | null;
  /** user= as a uid: supervisord checks it while reading the config (name_to_uid); getAllConfigInfo's `uid` */
  uid: number | null;
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
  /** serverurl=: null when unset or AUTO (then the daemon's Model.serverurl); '' sets no SUPERVISOR_SERVER_URL */
  serverurl: string | null;
  /** the section it came from and its file, for error messages */
  section: string;
  file: string;
  /** this process's %(process_num)d, from numprocs_start up; past 2**53 the nearest double (names were expanded from the exact value) */
  process_num: number;
  numprocs: number;
  /** options supervisord does not know (README "fastvisor-only options") */
  fastvisor: FastvisorProgramOptions;
}

/** fastvisor-only [program:x] options; the defaults keep supervisord 4.2.5's behaviour. */
export interface FastvisorProgramOptions {
  /** how the wait before a retry grows: 'linear' (supervisord's 1 s, 2 s, 3 s …) or 'exponential' */
  backoff: 'linear' | 'exponential';
  /** seconds: the first wait (1) */
  backoff_initial: number;
  /** seconds: no wait grows past this (300) */
  backoff_max: number;
  /** 0-1: each wait is shortened by up to this fraction at random, spreading restarts (0) */
  backoff_jitter: number;
  /** seconds RUNNING after which the attempt count starts over (600) */
  backoff_reset_after: number;
  /** seconds before an autorestart of a process that exited after reaching RUNNING (0: at once, as supervisord) */
  restart_delay: number;
  /** dotenv files read at every spawn: [supervisord]'s first, then the program's; later wins, environment= wins over all */
  environment_file: Array<{ path: string; optional: boolean }>;
  /** five-field cron expression or @daily …; null: not scheduled */
  schedule: string | null;
  /** IANA zone for schedule; null: the daemon's local zone */
  schedule_timezone: string | null;
  /** depends_on= as written, in order; [] without it */
  depends_on: DependencySpec[];
  /** depends_on resolved by loadConfig against every section of the file (config/dependencies.ts) */
  dependencies: ResolvedDependency[];
  /** when this program restarts (exits on its own and comes back), its dependents restart after it; a stop by hand stops them */
  restart_dependents: boolean;
  /** when STARTING becomes RUNNING: after startsecs (supervisord), on sd_notify READY=1, or on a matching output line */
  ready: ReadySpec;
  /** seconds; ready=notify only: WATCHDOG=1 must come at least this often once RUNNING, or the process is restarted (0: off) */
  watchdog_sec: number;
  /** null: no health check */
  healthcheck: HealthCheckSpec | null;
  /** seconds between checks (10) */
  healthcheck_interval: number;
  /** seconds one check may take (5) */
  healthcheck_timeout: number;
  /** consecutive failures that make the process unhealthy (3) */
  healthcheck_retries: number;
  /** seconds after RUNNING during which failures do not count (0) */
  healthcheck_start_period: number;
  /** what unhealthy does: 'restart' (stop, then start again) or 'none' (report only) */
  healthcheck_action: 'restart' | 'none';
  /**
   * how lines reach the channel's log file (native/line_format.h): 'raw' (the bytes as read, supervisord),
   * 'timestamped', 'json' or 'prefixed'; null: [supervisord] child_log_format for a logfile that is the
   * daemon's own stdout/stderr, else raw
   */
  stdout_logfile_format: LineFormat | null;
  stderr_logfile_format: LineFormat | null;
  /** timestamped's stamp: 'rfc3339' (UTC, ms, Z) or 'local' (supervisord's own log's `2026-12-06 10:24:06,123`) */
  log_timestamp_format: 'rfc3339' | 'local';
  /** bytes: a longer line is written in pieces, marked partial (16 KiB) */
  log_max_line: number;
  /** *_logfile_rotate_every / _max_age / _compress; null: none set (supervisord's size rotation alone) */
  stdout_logfile_rotation: LogRotation | null;
  stderr_logfile_rotation: LogRotation | null;
  /** cgroup limits (Linux; systemd's meanings); all null and kill_mode null: no cgroup at all */
  cgroup: CgroupLimits;
  /**
   * who a stop and a kill reach: null (stopasgroup/killasgroup decide, as in
   * supervisord), 'group' (the process group, both signals), 'cgroup' (every
   * process in the program's cgroup, however it was forked)
   */
  kill_mode: 'group' | 'cgroup' | null;
}

/** Resource limits for a process's own cgroup; null: not set. */
export interface CgroupLimits {
  /** bytes: the hard limit (v2 memory.max, v1 memory.limit_in_bytes); past it, the OOM killer */
  memory_max: number | null;
  /** bytes: reclaim pressure above this (v2 memory.high, v1 memory.soft_limit_in_bytes) */
  memory_high: number | null;
  /** percent of one CPU: 50 is half a core, 200 two cores */
  cpu_max: number | null;
  /** 1-10000, 100 is the default share */
  cpu_weight: number | null;
  /** most tasks (processes and threads) at once */
  pids_max: number | null;
  /** 1-10000, 100 is the default share */
  io_weight: number | null;
}

/** One entry of depends_on=: `a`, `g:*`, `g:name`, each with an optional `:running|:healthy|:exited`. */
export type DependencyCondition = 'running' | 'healthy' | 'exited';
export interface DependencySpec {
  /** the name part as written: a program, `group:*` or `group:name` */
  target: string;
  condition: DependencyCondition;
}
/** A DependencySpec with the processes it names: every process of the program or group. */
export interface ResolvedDependency extends DependencySpec {
  /** the entry as written (`db:healthy`), for messages */
  text: string;
  processes: Array<{ group: string; name: string }>;
}

export type ReadySpec = { kind: 'started' } | { kind: 'notify' } | { kind: 'log'; pattern: string };

export type HealthCheckSpec =
  | { kind: 'cmd'; command: string }
  | { kind: 'http'; url: string }
  | { kind: 'tcp'; host: string; port: number };

/** 'group' is a [group:x]; the others are the homogeneous group of one section of that type. */
export type GroupKind = 'program' | 'group' | 'eventlistener' | 'fcgi-program';

export interface EventListenerPoolSettings {
  buffer_size: number;
  /** upper-cased EventTypes names, each once, in the order written */
  events: string[];
  /** the entry point as written; only supervisor.dispatchers:default_handler loads */
  result_handler: string;
}

/** [fcgi-program:x] socket=, after parse_fcgi_socket(); `url` is what supervisord compares on reload. */
export type FcgiSocketConfig =
  | {
      kind: 'unix';
      url: string;
      /** absolute, normalised */
      path: string;
      /** socket_owner (uid, gid; gid -1 = unchanged), or the program's user when that is not the daemon's */
      owner: [number, number] | null;
      /** socket_mode, 0o700 by default */
      mode: number;
      /** socket_backlog; null = the listener's default (SOMAXCONN) */
      backlog: number | null;
    }
  | { kind: 'inet'; url: string; host: string; port: number; backlog: number | null };

export interface ProcessGroupConfig {
  name: string;
  kind: GroupKind;
  priority: number;
  /**
   * In options.py's order: each section's processes sorted by (priority,
   * name); a [group:x] concatenates its programs in programs= order.
   */
  processes: ProcessConfig[];
  pool?: EventListenerPoolSettings;
  /** fcgi-program groups only */
  socket?: FcgiSocketConfig;
}

export interface HttpServerConfig {
  kind: 'unix' | 'inet';
  /** what follows `:` in the section name ([inet_http_server:two] -> 'two'), else null (loadConfig always sets it) */
  name?: string | null;
  /** the section it came from (loadConfig always sets it) */
  section?: string;
  /** unix: socket path */
  file?: string;
  chmod?: number;
  /** null: leave as created; gid -1: only the owner changes */
  chown?: { uid: number; gid: number } | null;
  /** inet: host ('' = all interfaces) and port */
  host?: string;
  port?: number;
  username: string | null;
  password: string | null;
}

/** fastvisor's log rotation by time, retention and compression (native/logfile.h). */
export interface LogRotation {
  /** 'hourly' | 'daily' | 'weekly' (local time boundaries), seconds (every N s from the open), or null: size only */
  every: 'hourly' | 'daily' | 'weekly' | number | null;
  /** seconds; 0: backups are kept whatever their age */
  max_age: number;
  compress: 'gzip' | 'none';
}

/** A child log's line format (fastvisor); 'raw' is supervisord's bytes as read. */
export type LineFormat = 'raw' | 'timestamped' | 'json' | 'prefixed';

/** Linux's PID_MAX_LIMIT: no more processes than this can exist at once (numprocs, pids_max). */
export const PID_MAX_LIMIT = 4_194_304;

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
  /** user (command line or config) as uid/gid, resolved at start-up as realize() does */
  uid: number | null;
  gid: number | null;
  directory: string | null;
  strip_ansi: boolean;
  environment: Record<string, string>;
  identifier: string;
  /** fastvisor: where the programs' cgroups go, as a cgroup path (`/fastvisor`); null: `<daemon's cgroup>/fastvisor` */
  cgroup_root: string | null;
  /** fastvisor only: GET /metrics (Prometheus) on the HTTP servers; `metrics = false` turns it off */
  metrics: boolean;
  /** fastvisor only: the line format of child logs that go to the daemon's own stdout/stderr (raw) */
  child_log_format: LineFormat;
  /** fastvisor only: logfile_rotate_every / logfile_max_age / logfile_compress of the main log; null: none */
  logfile_rotation: LogRotation | null;
  /** fastvisor only: the longest trickling child output waits before it is read and logged, ms; null: the I/O core's default */
  capture_lag_ms: number | null;
}

export interface SupervisorctlConfig {
  serverurl: string;
  username: string | null;
  password: string | null;
  prompt: string;
  history_file: string | null;
}

/** [rpcinterface:name]: `name` is the XML-RPC namespace; extras are the factory's keyword arguments. */
export interface RpcInterfaceConfig {
  name: string;
  factory: string;
  extras: Record<string, string>;
}

export interface Model {
  /** the main config file, absolute */
  configfile: string;
  /** the directory of the main config file: %(here)s */
  here: string;
  supervisord: SupervisordConfig;
  /** sorted by (priority, name), as options.py sorts them */
  groups: ProcessGroupConfig[];
  /** inet servers first, then unix ones, each in section order */
  servers: HttpServerConfig[];
  /**
   * options.serverurl: SUPERVISOR_SERVER_URL for processes without serverurl=.
   * The first unix server, else the LAST inet one (realize() loops without a break); null without servers.
   */
  serverurl: string | null;
  /** [rpcinterface:x] sections in order; only supervisor.rpcinterface:make_main_rpcinterface is accepted */
  rpcinterfaces: RpcInterfaceConfig[];
  /** the main file's [supervisorctl], as supervisorctl reads it (no includes); null when absent or unreadable */
  supervisorctl: SupervisorctlConfig | null;
  /** non-fatal findings supervisord logs at start-up (parse_warnings / parse_infos) */
  warnings: string[];
  infos: string[];
}
