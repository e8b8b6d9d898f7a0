// SPDX-License-Identifier: MIT
// supervisor.* — every method of supervisord 4.2.5's rpcinterface.py with its
// parameters, return shapes (keys in the same order), fault codes and texts,
// and wait semantics. The rules stay in process/; this file translates.
import { existsSync } from 'node:fs';

import { signal_number, ValueError } from '../config/datatypes.js';
import type { ProcessConfig } from '../config/model.js';
import { diffGroups } from '../config/diff.js';
import { LogReadError, readFile, tailFile } from '../log/read.js';
import { processInfo as machineInfo } from '../process/machine.js';
import { execArgs, pathForConfig, SpawnRefused } from '../process/spawn-plan.js';
import {
  ProcessState,
  RUNNING_STATES,
  SIGNALLABLE_STATES,
  STOPPED_STATES,
  SupervisorState,
  type SupervisorStateName,
} from '../process/states.js';
import type { ProcessGroup } from '../process/group.js';
import type { Subprocess } from '../process/subprocess.js';
import type { Supervisor } from '../process/supervisor.js';
import type { XmlRpcStruct, XmlRpcValue } from './codec.js';
import { Faults, RPCError } from './faults.js';
import { int, NOT_DONE_YET, str, truthy, type Deferred, type MethodResult, type Namespace, type RpcMethod } from './methods.js';

/** What supervisor.* needs from the daemon (cli/daemon.ts implements it). */
export interface SupervisorControl {
  readonly supervisor: Supervisor;
  readonly mainLogFile: string | null;
  readonly model: import('../config/model.js').Model;
  shutdown(): void;
  restart(): void;
  reread(): import('../config/model.js').Model;
  adopt(model: import('../config/model.js').Model): void;
  clearMainLog(): void;
  /** sendRemoteCommEvent: into the event system */
  remoteComm?(type: string, data: string): void;
}

export const API_VERSION = '3.0';
export const SUPERVISOR_VERSION = '4.2.5';

/** options.py split_namespec(): 'grp:name', 'grp:' / 'grp:*' (the group), or 'name' (= 'name:name'). */
export function splitNamespec(namespec: string): [string, string | null] {
  const i = namespec.indexOf(':');
  if (i < 0) return [namespec, namespec];
  const group = namespec.slice(0, i);
  const proc = namespec.slice(i + 1);
  return [group, !proc || proc === '*' ? null : proc];
}

export function makeNamespec(group: string, name: string): string {
  return group === name ? name : `${group}:${name}`;
}

/** The log file /logtail/NAME[/stderr] follows, or null (404). */
export function logFileFor(supervisor: Supervisor, name: string, channel: 'stdout' | 'stderr'): string | null {
  const [g, p] = splitNamespec(name);
  const proc = p === null ? undefined : supervisor.groups.get(g)?.processes.get(p);
  return proc?.logfiles[channel] ?? null;
}

/** One process's two log files, as the merged tail (/fastvisor/tail) follows them. */
export interface LogSource {
  /** the namespec status shows: 'web:web_01', or 'cat' */
  name: string;
  stdout: string | null;
  stderr: string | null;
}

/**
 * The processes `tail -f a b group:* all` names, in status order (group, then process),
 * each once; or the specs that name nothing. Resolved again by the stream from time to
 * time, so `all` and `group:*` pick up programs added later.
 */
export function logSourcesFor(supervisor: Supervisor, specs: readonly string[]): LogSource[] | { unknown: string[] } {
  const picked = new Map<string, LogSource>();
  const unknown: string[] = [];
  for (const spec of specs) {
    const procs = processesNamed(supervisor, spec);
    if (!procs) unknown.push(spec);
    for (const p of procs ?? []) {
      const name = makeNamespec(p.groupName, p.name);
      if (!picked.has(name)) picked.set(name, { name, stdout: p.logfiles.stdout, stderr: p.logfiles.stderr });
    }
  }
  if (unknown.length) return { unknown };
  return [...picked.values()];
}

/**
 * What a name means to fastvisor's many-process commands (tail, rotate): 'all',
 * 'group:*', or one process, in getAllProcessInfo's order; null when it names nothing.
 */
export function processesNamed(supervisor: Supervisor, spec: string): Subprocess[] | null {
  if (spec === 'all') return supervisor.lexicalProcesses().map(([, p]) => p);
  const [gname, pname] = splitNamespec(spec);
  const g = supervisor.groups.get(gname);
  if (!g) return null;
  if (pname === null) return [...g.processes.values()].sort((a, b) => cmp(a.name, b.name));
  const p = g.processes.get(pname);
  return p ? [p] : null;
}

type GP = [ProcessGroup, Subprocess];

/** _update(): every method but a few refuses once shutdown has begun. */
export function refuseDuringShutdown(supervisor: Supervisor): void {
  if (supervisor.mood < SupervisorState.RUNNING) throw new RPCError(Faults.SHUTDOWN_STATE);
}

/**
 * getProcessInfo's struct. now/wall are read once per call by the caller:
 * getAllProcessInfo answers for hundreds at once.
 */
export function processInfo(group: ProcessGroup, proc: Subprocess, now: number, wall: number): XmlRpcStruct {
  const m = machineInfo(proc.config, proc.status, now, wall);
  const stdout = proc.logfiles.stdout ?? '';
  return {
    name: proc.name,
    group: group.name,
    start: m.start,
    stop: m.stop,
    now: m.now,
    state: m.state,
    statename: m.statename,
    spawnerr: m.spawnerr,
    exitstatus: m.exitstatus,
    logfile: stdout,
    stdout_logfile: stdout,
    stderr_logfile: proc.logfiles.stderr ?? '',
    pid: m.pid,
    description: proc.describe(m.description, now, wall),
  };
}

export function createSupervisorNamespace(ctl: SupervisorControl): Namespace {
  const sup = (): Supervisor => ctl.supervisor;

  const update = (): void => refuseDuringShutdown(sup());

  const getGroupAndProcess = (name: string): [ProcessGroup, Subprocess | null] => {
    const [g, p] = splitNamespec(name);
    const group = sup().groups.get(g);
    if (!group) throw new RPCError(Faults.BAD_NAME, name);
    if (p === null) return [group, null];
    const proc = group.processes.get(p);
    if (!proc) throw new RPCError(Faults.BAD_NAME, name);
    return [group, proc];
  };

  // _getAllProcesses(): by priority, or lexical by group then process name.
  const allProcesses = (lexical = false): readonly GP[] => {
    if (lexical) return sup().lexicalProcesses();
    const out: GP[] = [];
    for (const g of byPriority([...sup().groups.values()])) for (const p of processesByPriority(g)) out.push([g, p]);
    return out;
  };

  // fastvisor's restart_delay: BACKOFF without a failed start. Starting it by
  // hand ends the wait (a failed start's BACKOFF stays ALREADY_STARTED, as in supervisord).
  const waitingToRestart = (p: Subprocess): boolean => p.state === ProcessState.BACKOFF && p.status.restartWait;

  const startProcess = (name: string, wait: boolean): MethodResult => {
    update();
    const [group, proc] = getGroupAndProcess(name);
    if (!proc) return startProcessGroup(group.name, wait);
    // Don't bother trying to spawn what would fail anyway.
    try {
      execArgs(proc.config.command, proc.searchPath());
    } catch (err) {
      if (!(err instanceof SpawnRefused)) throw err;
      throw new RPCError(err.message.startsWith("can't find command") ? Faults.NO_FILE : Faults.NOT_EXECUTABLE, err.message);
    }
    if (RUNNING_STATES.includes(proc.state) && !waitingToRestart(proc)) throw new RPCError(Faults.ALREADY_STARTED, name);
    if (proc.state === ProcessState.UNKNOWN) throw new RPCError(Faults.FAILED, `${name} is in an unknown process state`);
    proc.startNow();
    if (proc.status.spawnerr) throw new RPCError(Faults.SPAWN_ERROR, name);
    if (wait && proc.state !== ProcessState.RUNNING) {
      return () => {
        if (proc.status.spawnerr) throw new RPCError(Faults.SPAWN_ERROR, name);
        const s = proc.state;
        if (s !== ProcessState.STARTING && s !== ProcessState.RUNNING) throw new RPCError(Faults.ABNORMAL_TERMINATION, name);
        return s === ProcessState.RUNNING ? true : NOT_DONE_YET;
      };
    }
    return true;
  };

  const startProcessGroup = (name: string, wait: boolean): MethodResult => {
    update();
    const group = sup().groups.get(name);
    if (!group) throw new RPCError(Faults.BAD_NAME, name);
    return allFunc(
      processesByPriority(group).map((p) => [group, p] as GP),
      (p) => !RUNNING_STATES.includes(p.state) || waitingToRestart(p),
      (n) => startProcess(n, wait),
    );
  };

  const stopProcess = (name: string, wait: boolean): MethodResult => {
    update();
    const [group, proc] = getGroupAndProcess(name);
    if (!proc) return stopProcessGroup(group.name, wait);
    if (!RUNNING_STATES.includes(proc.state)) throw new RPCError(Faults.NOT_RUNNING, name);
    const msg = proc.feed({ kind: 'stop' });
    if (msg !== null) throw new RPCError(Faults.FAILED, msg);
    if (wait && !STOPPED_STATES.includes(proc.state)) {
      return () => {
        proc.stopReport();
        return STOPPED_STATES.includes(proc.state) ? true : NOT_DONE_YET;
      };
    }
    return true;
  };

  // depends_on (fastvisor): of the processes being stopped together, one
  // waits until those that depend on it have stopped.
  const dependentsFirst = (procs: readonly GP[]): ((p: Subprocess) => boolean) => {
    const gate = sup().dependencies;
    if (gate.inactive) return () => false;
    const among = new Set(procs.map(([, p]) => p));
    return (p) => gate.holdsBack(p, among);
  };

  const stopProcessGroup = (name: string, wait: boolean): MethodResult => {
    update();
    const group = sup().groups.get(name);
    if (!group) throw new RPCError(Faults.BAD_NAME, name);
    const procs = processesByPriority(group).map((p) => [group, p] as GP);
    return allFunc(procs, (p) => RUNNING_STATES.includes(p.state), (n) => stopProcess(n, wait), dependentsFirst(procs));
  };

  const signalProcess = (name: string, signal: XmlRpcValue): MethodResult => {
    update();
    const [group, proc] = getGroupAndProcess(name);
    if (!proc) return signalProcessGroup(group.name, signal);
    let sig: number;
    try {
      sig = signal_number(typeof signal === 'number' ? signal : str(signal, 'signal'));
    } catch (err) {
      if (err instanceof ValueError || err instanceof RPCError) throw new RPCError(Faults.BAD_SIGNAL, pyStr(signal));
      throw err;
    }
    if (!SIGNALLABLE_STATES.includes(proc.state)) throw new RPCError(Faults.NOT_RUNNING, name);
    const msg = proc.feed({ kind: 'signal', signal: sig });
    if (msg !== null) throw new RPCError(Faults.FAILED, msg);
    return true;
  };

  const signalProcessGroup = (name: string, signal: XmlRpcValue): MethodResult => {
    const group = sup().groups.get(name);
    update();
    if (!group) throw new RPCError(Faults.BAD_NAME, name);
    const result = runNow(
      allFunc(
        processesByPriority(group).map((p) => [group, p] as GP),
        (p) => SIGNALLABLE_STATES.includes(p.state),
        (n) => signalProcess(n, signal),
      ),
    );
    update();
    return result;
  };

  const readProcessLog = (name: string, offset: number, length: number, channel: 'stdout' | 'stderr'): string => {
    const [, proc] = getGroupAndProcess(name);
    if (!proc) throw new RPCError(Faults.BAD_NAME, name);
    const file = proc.logfiles[channel];
    if (file === null || !existsSync(file)) throw noFile(file);
    try {
      return readFile(file, offset, length);
    } catch (err) {
      if (err instanceof LogReadError) throw new RPCError(Faults[err.fault]);
      throw err;
    }
  };

  const tailProcessLog = (name: string, offset: number, length: number, channel: 'stdout' | 'stderr'): XmlRpcValue => {
    const [, proc] = getGroupAndProcess(name);
    if (!proc) throw new RPCError(Faults.BAD_NAME, name);
    const file = proc.logfiles[channel];
    if (file === null || !existsSync(file)) return ['', 0, false];
    return tailFile(file, offset, length);
  };

  const clearProcessLogs = (name: string): true => {
    update();
    const [, proc] = getGroupAndProcess(name);
    if (!proc) throw new RPCError(Faults.BAD_NAME, name);
    try {
      for (const ch of ['stdout', 'stderr'] as const) proc.sink(ch)?.clear();
    } catch {
      throw new RPCError(Faults.FAILED, name);
    }
    return true;
  };

  const getAllConfigInfo = (): XmlRpcValue => {
    update();
    const rows: XmlRpcStruct[] = [];
    for (const g of ctl.model.groups) {
      const running = sup().groups.get(g.name);
      const inuse = running !== undefined;
      for (const pc of g.processes) {
        const live = running?.processes.get(pc.name);
        const same = live !== undefined && live.config === pc;
        rows.push(configInfo(g.name, g.priority, inuse, pc, same ? live : undefined));
      }
    }
    rows.sort((a, b) => cmp(a.name as string, b.name as string));
    return rows;
  };

  const methods: Record<string, Omit<RpcMethod, 'signature'> & { signature: string[] }> = {
    getAPIVersion: m(['string'], [], 'Return the version of the RPC API used by supervisord', () => (update(), API_VERSION)),
    getSupervisorVersion: m(['string'], [], 'Return the version of the supervisor package in use by supervisord', () => (update(), SUPERVISOR_VERSION)),
    getIdentification: m(['string'], [], 'Return identifying string of supervisord', () => (update(), ctl.model.supervisord.identifier)),
    getState: m(['struct'], [], 'Return current state of supervisord as a struct', () => {
      update();
      const mood = sup().mood;
      return { statecode: mood, statename: supervisorStateName(mood) };
    }),
    getPID: m(['int'], [], 'Return the PID of supervisord', () => (update(), process.pid)),
    readLog: m(['string', 'int', 'int'], ['offset', 'length'], 'Read length bytes from the main log starting at offset', ([o, l]) => {
      update();
      const file = ctl.mainLogFile;
      if (file === null || !existsSync(file)) throw noFile(file);
      try {
        return readFile(file, int(o, 'offset'), int(l, 'length'));
      } catch (err) {
        if (err instanceof LogReadError) throw new RPCError(Faults[err.fault]);
        throw err;
      }
    }),
    clearLog: m(['boolean'], [], 'Clear the main log.', () => {
      update();
      const file = ctl.mainLogFile;
      if (file === null || !existsSync(file)) throw new RPCError(Faults.NO_FILE);
      // supervisord logs this line before the handler reopens, so it lands in
      // the removed file (and on stdout), and the new log starts empty.
      sup().log.info('reopening log file');
      try {
        ctl.clearMainLog();
      } catch {
        throw new RPCError(Faults.FAILED);
      }
      return true;
    }),
    // supervisord changes its mood at once, so the calls after these in the
    // same multicall already get SHUTDOWN_STATE; the stopping happens later.
    // The daemon sets the mood synchronously (stopAll) and closes its servers
    // only after in-flight answers, this one included, went out.
    shutdown: m(['boolean'], [], 'Shut down the supervisor process', () => {
      update();
      ctl.shutdown();
      return true;
    }),
    restart: m(['boolean'], [], 'Restart the supervisor process', () => {
      update();
      ctl.restart();
      return true;
    }),
    reloadConfig: m(['array'], [], 'Reload the configuration.', () => {
      update();
      let model;
      try {
        model = ctl.reread();
      } catch (err) {
        throw new RPCError(Faults.CANT_REREAD, (err as Error).message);
      }
      ctl.adopt(model);
      const current = [...sup().groups.values()].map((g) => g.config);
      const { added, changed, removed } = diffGroups(current, model.groups);
      return [[added, changed, removed]];
    }),
    addProcessGroup: m(['boolean', 'string'], ['name'], 'Update the config for a running process from config file.', ([n]) => {
      update();
      const name = str(n, 'name');
      const config = ctl.model.groups.find((g) => g.name === name);
      if (!config) throw new RPCError(Faults.BAD_NAME, name);
      if (!sup().addProcessGroup(config)) throw new RPCError(Faults.ALREADY_ADDED, name);
      return true;
    }),
    removeProcessGroup: m(['boolean', 'string'], ['name'], 'Remove a stopped process from the active configuration.', ([n]) => {
      update();
      const name = str(n, 'name');
      if (!sup().groups.has(name)) throw new RPCError(Faults.BAD_NAME, name);
      if (!sup().removeProcessGroup(name)) throw new RPCError(Faults.STILL_RUNNING, name);
      return true;
    }),
    startProcess: m(['boolean', 'string', 'boolean'], ['name', 'wait'], 'Start a process', ([n, w]) => startProcess(str(n, 'name'), truthy(w, true)), 1),
    startProcessGroup: m(['array', 'string', 'boolean'], ['name', 'wait'], 'Start all processes in the group named \'name\'', ([n, w]) => startProcessGroup(str(n, 'name'), truthy(w, true)), 1),
    startAllProcesses: m(['array', 'boolean'], ['wait'], 'Start all processes listed in the configuration file', ([w]) => {
      update();
      const wait = truthy(w, true);
      return allFunc(allProcesses(), (p) => !RUNNING_STATES.includes(p.state), (n) => startProcess(n, wait));
    }, 1),
    stopProcess: m(['boolean', 'string', 'boolean'], ['name', 'wait'], 'Stop a process named by name', ([n, w]) => stopProcess(str(n, 'name'), truthy(w, true)), 1),
    stopProcessGroup: m(['array', 'string', 'boolean'], ['name', 'wait'], 'Stop all processes in the process group named \'name\'', ([n, w]) => stopProcessGroup(str(n, 'name'), truthy(w, true)), 1),
    stopAllProcesses: m(['array', 'boolean'], ['wait'], 'Stop all processes in the process list', ([w]) => {
      update();
      const wait = truthy(w, true);
      const procs = allProcesses();
      return allFunc(procs, (p) => RUNNING_STATES.includes(p.state), (n) => stopProcess(n, wait), dependentsFirst(procs));
    }, 1),
    signalProcess: m(['boolean', 'string', 'string'], ['name', 'signal'], 'Send an arbitrary UNIX signal to the process named by name', ([n, s]) => signalProcess(str(n, 'name'), s!)),
    signalProcessGroup: m(['array', 'string', 'string'], ['name', 'signal'], "Send a signal to all processes in the group named 'name'", ([n, s]) => signalProcessGroup(str(n, 'name'), s!)),
    signalAllProcesses: m(['array', 'string'], ['signal'], 'Send a signal to all processes in the process list', ([s]) => {
      // supervisord signals first and checks the mood after.
      const result = runNow(allFunc(allProcesses(), (p) => SIGNALLABLE_STATES.includes(p.state), (n) => signalProcess(n, s!)));
      update();
      return result;
    }),
    getAllConfigInfo: m(['array'], [], 'Get info about all available process configurations.', () => getAllConfigInfo()),
    getProcessInfo: m(['struct', 'string'], ['name'], 'Get info about a process named name', ([n]) => {
      update();
      const name = str(n, 'name');
      const [group, proc] = getGroupAndProcess(name);
      if (!proc) throw new RPCError(Faults.BAD_NAME, name);
      return processInfo(group, proc, sup().clock.now(), sup().clock.wall());
    }),
    getAllProcessInfo: m(['array'], [], 'Get info about all processes', () => {
      update();
      const now = sup().clock.now();
      const wall = sup().clock.wall();
      return allProcesses(true).map(([g, p]) => processInfo(g, p, now, wall));
    }),
    readProcessStdoutLog: m(['string', 'string', 'int', 'int'], ['name', 'offset', 'length'], "Read length bytes from name's stdout log starting at offset", ([n, o, l]) => {
      update();
      return readProcessLog(str(n, 'name'), int(o, 'offset'), int(l, 'length'), 'stdout');
    }),
    readProcessStderrLog: m(['string', 'string', 'int', 'int'], ['name', 'offset', 'length'], "Read length bytes from name's stderr log starting at offset", ([n, o, l]) => {
      update();
      return readProcessLog(str(n, 'name'), int(o, 'offset'), int(l, 'length'), 'stderr');
    }),
    tailProcessStdoutLog: m(['array', 'string', 'int', 'int'], ['name', 'offset', 'length'], "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog().", ([n, o, l]) => {
      update();
      return tailProcessLog(str(n, 'name'), int(o, 'offset'), int(l, 'length'), 'stdout');
    }),
    tailProcessStderrLog: m(['array', 'string', 'int', 'int'], ['name', 'offset', 'length'], "Provides a more efficient way to tail the (stderr) log than readProcessStderrLog().", ([n, o, l]) => {
      update();
      return tailProcessLog(str(n, 'name'), int(o, 'offset'), int(l, 'length'), 'stderr');
    }),
    clearProcessLogs: m(['boolean', 'string'], ['name'], 'Clear the stdout and stderr logs for the named process and reopen them.', ([n]) => clearProcessLogs(str(n, 'name'))),
    clearAllProcessLogs: m(['array'], [], 'Clear all process log files', () => {
      update();
      return allProcesses().map(([g, p]) => {
        try {
          clearProcessLogs(makeNamespec(g.name, p.name));
          return { name: p.name, group: g.name, status: Faults.SUCCESS, description: 'OK' };
        } catch (err) {
          if (!(err instanceof RPCError)) throw err;
          return { name: p.name, group: g.name, status: err.code, description: err.text };
        }
      });
    }),
    sendProcessStdin: m(['boolean', 'string', 'string'], ['name', 'chars'], 'Send a string of chars to the stdin of the process name.', ([n, c]) => {
      update();
      if (typeof c !== 'string' && !Buffer.isBuffer(c)) throw new RPCError(Faults.INCORRECT_PARAMETERS, pyStr(c ?? null));
      const name = str(n, 'name');
      const [, proc] = getGroupAndProcess(name);
      if (!proc) throw new RPCError(Faults.BAD_NAME, name);
      if (!proc.pid || proc.status.killing || !proc.child) throw new RPCError(Faults.NOT_RUNNING, name);
      const r = sup().core.writeStdin(proc.child, c);
      if (r === 'closed') throw new RPCError(Faults.NO_FILE, name);
      // supervisord buffers without a bound; here 1 MiB waits per child.
      if (r === 'full') throw new RPCError(Faults.FAILED, `${name}: stdin buffer full, try again`);
      return true;
    }),
    sendRemoteCommEvent: m(['boolean', 'string', 'string'], ['type', 'data'], 'Send an event that will be received by event listener subprocesses subscribing to the RemoteCommunicationEvent.', ([t, d]) => {
      ctl.remoteComm?.(str(t, 'type'), str(d, 'data'));
      return true;
    }),
  };
  // Aliases kept for clients of older releases, as rpcinterface.py keeps them.
  methods.getVersion = methods.getAPIVersion!;
  methods.readMainLog = methods.readLog!;
  methods.readProcessLog = methods.readProcessStdoutLog!;
  methods.tailProcessLog = methods.tailProcessStdoutLog!;
  methods.clearProcessLog = methods.clearProcessLogs!;
  return methods;
}

function m(
  signature: string[],
  params: string[],
  help: string,
  call: (params: XmlRpcValue[]) => MethodResult,
  optional = 0,
): RpcMethod {
  return { signature, params, help, call, optional };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// list.sort() on groups / processes: by priority, stable.
function byPriority(groups: ProcessGroup[]): ProcessGroup[] {
  return groups.sort((a, b) => a.config.priority - b.config.priority);
}

function processesByPriority(g: ProcessGroup): Subprocess[] {
  return [...g.processes.values()].sort((a, b) => a.config.priority - b.config.priority);
}

function supervisorStateName(mood: number): SupervisorStateName {
  const names: Record<number, SupervisorStateName> = { 2: 'FATAL', 1: 'RUNNING', 0: 'RESTARTING', [-1]: 'SHUTDOWN' } as Record<number, SupervisorStateName>;
  return names[mood]!;
}

/** RPCError(NO_FILE, logfile): a None logfile adds no text (`NO_FILE`, not `NO_FILE: None`). */
function noFile(file: string | null): RPCError {
  return file === null ? new RPCError(Faults.NO_FILE) : new RPCError(Faults.NO_FILE, file);
}

/** Python's %s of an XML-RPC value, for fault texts. */
function pyStr(v: XmlRpcValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A signal* allfunc never defers (signalProcess returns at once); run it through. */
function runNow(r: MethodResult): XmlRpcValue {
  if (typeof r !== 'function') return r;
  const v = r();
  return v === NOT_DONE_YET ? [] : v;
}

/**
 * rpcinterface.py make_allfunc(): call func for every process the predicate
 * picks; immediate outcomes go into the results in process order, deferred
 * ones as they finish (polled in process order, as supervisord does).
 */
function allFunc(
  processes: readonly GP[],
  predicate: (p: Subprocess) => boolean,
  func: (name: string) => MethodResult,
  /** depends_on (fastvisor): not yet, look again at the next poll */
  hold: (p: Subprocess) => boolean = () => false,
): Deferred {
  const results: XmlRpcStruct[] = [];
  let callbacks: Array<{ g: ProcessGroup; p: Subprocess; cb: Deferred }> | null = null;
  let held: GP[] = [];
  const ok = (g: ProcessGroup, p: Subprocess): XmlRpcStruct => ({ name: p.name, group: g.name, status: Faults.SUCCESS, description: 'OK' });
  const fail = (g: ProcessGroup, p: Subprocess, e: RPCError): XmlRpcStruct => ({ name: p.name, group: g.name, status: e.code, description: e.text });
  const call = (g: ProcessGroup, p: Subprocess): void => {
    try {
      const r = func(makeNamespec(g.name, p.name));
      if (typeof r === 'function') callbacks!.push({ g, p, cb: r });
      else results.push(ok(g, p));
    } catch (err) {
      if (!(err instanceof RPCError)) throw err;
      results.push(fail(g, p, err));
    }
  };
  return () => {
    if (callbacks === null) {
      callbacks = [];
      for (const [g, p] of processes) {
        if (!predicate(p)) continue;
        if (hold(p)) held.push([g, p]);
        else call(g, p);
      }
    } else if (held.length) {
      // Held back until what depends on them has stopped; one that no longer
      // qualifies (it stopped meanwhile) drops out, as it would have at the start.
      const still: GP[] = [];
      for (const [g, p] of held) {
        if (!predicate(p)) continue;
        if (hold(p)) still.push([g, p]);
        else call(g, p);
      }
      held = still;
    }
    // Then, in the same call as in make_allfunc, every pending callback once.
    for (const entry of [...callbacks]) {
      try {
        const v = entry.cb();
        if (v === NOT_DONE_YET) continue;
        results.push(ok(entry.g, entry.p));
      } catch (err) {
        if (!(err instanceof RPCError)) throw err;
        results.push(fail(entry.g, entry.p, err));
      }
      callbacks.splice(callbacks.indexOf(entry), 1);
    }
    return callbacks.length || held.length ? NOT_DONE_YET : results;
  };
}

// getAllConfigInfo's row; None → 'none', Automatic → 'auto' as rpcinterface.py maps them.
function configInfo(group: string, groupPrio: number, inuse: boolean, pc: ProcessConfig, live: Subprocess | undefined): XmlRpcStruct {
  const logfile = (ch: 'stdout' | 'stderr'): string => {
    const s = ch === 'stdout' ? pc.stdout_logfile : pc.stderr_logfile;
    if (s.kind === 'path') return s.path;
    if (s.kind === 'none') return 'none';
    return live?.logfiles[ch] ?? 'auto';
  };
  return {
    autostart: pc.autostart,
    directory: pc.directory ?? 'none',
    uid: pc.uid ?? 'none',
    command: pc.command,
    exitcodes: pc.exitcodes,
    group,
    group_prio: groupPrio,
    inuse,
    killasgroup: pc.killasgroup,
    name: pc.name,
    process_prio: pc.priority,
    redirect_stderr: pc.redirect_stderr,
    startretries: pc.startretries,
    startsecs: pc.startsecs,
    stdout_capture_maxbytes: pc.stdout_capture_maxbytes,
    stdout_events_enabled: pc.stdout_events_enabled,
    stdout_logfile: logfile('stdout'),
    stdout_logfile_backups: pc.stdout_logfile_backups,
    stdout_logfile_maxbytes: pc.stdout_logfile_maxbytes,
    stdout_syslog: pc.stdout_syslog,
    stopsignal: pc.stopsignal,
    stopwaitsecs: pc.stopwaitsecs,
    stderr_capture_maxbytes: pc.stderr_capture_maxbytes,
    stderr_events_enabled: pc.stderr_events_enabled,
    stderr_logfile: logfile('stderr'),
    stderr_logfile_backups: pc.stderr_logfile_backups,
    stderr_logfile_maxbytes: pc.stderr_logfile_maxbytes,
    stderr_syslog: pc.stderr_syslog,
    serverurl: pc.serverurl ?? 'none',
  };
}
