// SPDX-License-Identifier: MIT
// [program:x], [eventlistener:x] and [fcgi-program:x] -> one ProcessConfig per
// process: options.py processes_from_section(), step for step, because which
// names an option may use (%(process_num)d, %(ENV_X)s of the program's own
// environment=) depends on where in that sequence it is read.
import {
  auto_restart,
  backups_integer,
  big_integer,
  boolean,
  bounded_byte_size,
  bounded_integer,
  dict_of_key_value_pairs,
  list_of_exitcodes,
  logfile_name,
  octal_mode,
  process_or_group_name,
  pyRepr,
  pyStrip,
  signal_number,
  ValueError,
} from '../datatypes.js';
import { expand } from '../expand.js';
import { readFastvisorProgramOptions, startRetries } from '../fastvisor-options.js';
import { PID_MAX_LIMIT, type LogfileSetting, type ProcessConfig } from '../model.js';
import type { ConfigParser, Default, Names } from '../parser.js';
import { pyCompare } from '../py-compare.js';
import { name_to_uid, type UserDb } from '../users.js';


export interface SectionContext {
  here: string;
  hostNodeName: string;
  users: UserDb;
  /** parse_warnings */
  warnings: string[];
}

/** Python's str.split(':', 1)[1], which every *:name section type goes through. */
export function sectionSuffix(section: string): string {
  return section.slice(section.indexOf(':') + 1);
}

/** Config.__lt__: by priority, then by name (code point order); list.sort() is stable. */
export function byPriority<T extends { priority: number; name: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.priority !== b.priority ? a.priority - b.priority : pyCompare(a.name, b.name)));
}

/** processes_from_section: any ValueError gets ` in section 'x' (file: 'f')`. */
export function processesFromSection(
  p: ConfigParser,
  ctx: SectionContext,
  section: string,
  groupName: string,
): ProcessConfig[] {
  try {
    return readProcesses(p, ctx, section, groupName);
  } catch (e) {
    if (e instanceof ValueError) {
      throw new ValueError(`${e.message} in section ${pyRepr(section)} (file: ${pyRepr(p.fileOf(section))})`);
    }
    throw e;
  }
}

function readProcesses(p: ConfigParser, ctx: SectionContext, section: string, groupName: string): ProcessConfig[] {
  const program_name = process_or_group_name(sectionSuffix(section));
  // One dict for the whole section, as in options.py: the loop below adds
  // process_num, numprocs and ENV_* to it, and every later get() sees them.
  const common: Names = { here: ctx.here, program_name, host_node_name: ctx.hostNodeName, group_name: groupName };
  // Inside the loop `common` holds all of parser.expansions (laid under it at
  // the loop's start), so it is the whole mapping saneget would build.
  let complete = false;
  const get = <D extends Default>(opt: string, def: D, doExpand = true) =>
    p.saneget(section, opt, def, complete ? { doExpand, names: common } : { doExpand, expansions: common });

  const priority = bounded_integer(get('priority', 999));
  const autostart = boolean(get('autostart', 'true'));
  const autorestart = auto_restart(get('autorestart', 'unexpected'));
  const startsecs = bounded_integer(get('startsecs', 1));
  const startretries = startRetries(String(get('startretries', 3)), (v) => bounded_integer(v));
  const stopsignal = signal_number(get('stopsignal', 'TERM'));
  const stopwaitsecs = bounded_integer(get('stopwaitsecs', 10));
  const stopasgroup = boolean(get('stopasgroup', 'false'));
  const killasgroup = boolean(get('killasgroup', stopasgroup));
  const exitcodes = list_of_exitcodes(get('exitcodes', '0'));
  const redirect_stderr = boolean(get('redirect_stderr', 'false'));
  // Past 2**53 is refused as every int; past Linux's PID_MAX_LIMIT no system could run
  // them all, and building that many process configs took the machine's memory (3.5 GB
  // in a minute for numprocs=2**31, found by npm run fuzz; supervisord does the same).
  const numprocs = bounded_integer(get('numprocs', 1));
  if (numprocs > PID_MAX_LIMIT) {
    throw new ValueError(`numprocs=${numprocs} is more processes than any Linux system can run at once (at most ${PID_MAX_LIMIT})`);
  }
  const numprocs_start = big_integer(get('numprocs_start', 0));
  const environment_str = get('environment', '', false);
  const stdout_capture_maxbytes = bounded_byte_size(get('stdout_capture_maxbytes', '0'));
  const stdout_events_enabled = boolean(get('stdout_events_enabled', 'false'));
  const stderr_capture_maxbytes = bounded_byte_size(get('stderr_capture_maxbytes', '0'));
  const stderr_events_enabled = boolean(get('stderr_events_enabled', 'false'));
  let serverurl = get('serverurl', null);
  if (serverurl && pyStrip(serverurl).toUpperCase() === 'AUTO') serverurl = null;

  const user = get('user', null);
  const uid = user === null ? null : name_to_uid(ctx.users, user);
  const umaskRaw = get('umask', null);
  const umask = umaskRaw === null ? null : octal_mode(umaskRaw);

  // Checked as written, before expansion: `%(process_num)02d` passes, a name
  // that only expands to something invalid is not caught.
  const process_name = process_or_group_name(get('process_name', '%(program_name)s', false));
  if (numprocs > 1 && !process_name.includes('%(process_num)')) {
    throw new ValueError('%(process_num) must be present within process_name when numprocs > 1');
  }
  if (stopasgroup && !killasgroup) throw new ValueError('Cannot set stopasgroup=true and killasgroup=false');

  const programs: ProcessConfig[] = [];
  for (let i = 0; i < numprocs; i++) {
    // Counted exactly: supervisord starts a_9007199254740993 and
    // a_9007199254740994 for numprocs_start=9007199254740993, where a double
    // would stop counting. Names get a bigint only past 2**53.
    const exact = numprocs_start + BigInt(i);
    const process_num = Number(exact);
    Object.assign(common, { process_num: Number.isSafeInteger(process_num) ? process_num : exact, numprocs }, p.expansions);
    complete = true;
    const environment = dict_of_key_value_pairs(expand(environment_str, common, 'environment'));
    for (const [k, v] of Object.entries(environment)) common[`ENV_${k}`] = v;

    const directory = get('directory', null);
    const log = (k: 'stdout' | 'stderr') => {
      const lf_key = `${k}_logfile`;
      const raw = p.raw(section, lf_key);
      // Not set: Automatic, which is not a str, so neither expansion applies.
      let lf = logfile_name(raw === undefined ? 'AUTO' : expand(get(lf_key, ''), common, lf_key));
      const backups = backups_integer(get(`${k}_logfile_backups`, 10));
      const maxbytes = bounded_byte_size(get(`${k}_logfile_maxbytes`, '50MB'));
      let syslog = boolean(get(`${k}_syslog`, false));
      if (lf.kind === 'syslog') {
        ctx.warnings.push(
          `For [${section}], ${lf_key}=syslog but this is deprecated and will be removed.  ` +
            `Use ${k}_syslog=true to enable syslog instead.`,
        );
        lf = { kind: 'none' };
        syslog = true;
      }
      if (lf.kind === 'auto' && !maxbytes) {
        ctx.warnings.push(
          `For [${section}], AUTO logging used for ${lf_key} without rollover, ` +
            'set maxbytes > 0 to avoid filling up filesystem unintentionally',
        );
      }
      return { logfile: lf as LogfileSetting, backups, maxbytes, syslog };
    };
    const stdout = log('stdout');
    const stderr = log('stderr');
    if (redirect_stderr) {
      if (stderr.logfile.kind === 'path') {
        ctx.warnings.push(
          `For [${section}], redirect_stderr=true but stderr_logfile has also been set to a filename, ` +
            'the filename has been ignored',
        );
      }
      // never create an stderr logfile when redirected
      stderr.logfile = { kind: 'none' };
    }

    const command = get('command', null);
    if (command === null) throw new ValueError(`program section ${section} does not specify a command`);
    const fastvisor = readFastvisorProgramOptions((opt, def, doExpand = true) => get(opt, def, doExpand));

    programs.push({
      name: expand(process_name, common, 'process_name'),
      program_name,
      command,
      directory,
      umask,
      priority,
      autostart,
      autorestart,
      startsecs,
      startretries,
      user,
      uid,
      stdout_logfile: stdout.logfile,
      stdout_logfile_maxbytes: stdout.maxbytes,
      stdout_logfile_backups: stdout.backups,
      stdout_capture_maxbytes,
      stdout_events_enabled,
      stdout_syslog: stdout.syslog,
      stderr_logfile: stderr.logfile,
      stderr_logfile_maxbytes: stderr.maxbytes,
      stderr_logfile_backups: stderr.backups,
      stderr_capture_maxbytes,
      stderr_events_enabled,
      stderr_syslog: stderr.syslog,
      stopsignal,
      stopwaitsecs,
      stopasgroup,
      killasgroup,
      exitcodes,
      redirect_stderr,
      environment,
      serverurl,
      section,
      file: p.fileOf(section),
      process_num,
      numprocs,
      fastvisor,
    });
  }
  return byPriority(programs);
}
