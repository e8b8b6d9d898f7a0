// SPDX-License-Identifier: MIT
// supervisorctl.py Controller: parses a command line as cmd.Cmd does, runs the
// command, turns what escapes it into the messages and exit statuses 4.2.5 gives,
// and holds what commands share (options, output, the connection check).
import type { XmlRpcValue } from '../rpc/codec.js';
import { Faults } from '../rpc/faults.js';
import { RpcClient } from './client.js';
import { isCommand, loadCommand } from './commands/index.js';
import { colorEnabled } from './format.js';
import { Fault, KeyboardInterrupt, ProtocolError, SocketError, uncaughtLine } from './errors.js';
import { Interrupts, PlainInput, type CtlIo, type LineInput } from './io.js';
import type { CtlOptions } from './options.js';
import { pyStr, pyStrip } from './py.js';

/** LSBInitExitStatuses. */
export const Exit = {
  SUCCESS: 0,
  GENERIC: 1,
  INVALID_ARGS: 2,
  UNIMPLEMENTED_FEATURE: 3,
  INSUFFICIENT_PRIVILEGES: 4,
  NOT_INSTALLED: 5,
  NOT_RUNNING: 7,
} as const;

/** LSBStatusExitStatuses (status only). */
export const StatusExit = { NOT_RUNNING: 3, UNKNOWN: 4 } as const;

const DEAD_PROGRAM_FAULTS: readonly number[] = [Faults.SPAWN_ERROR, Faults.ABNORMAL_TERMINATION, Faults.NOT_RUNNING];

/** rpcinterface.API_VERSION: what upcheck() insists on. */
export const API_VERSION = '3.0';

const IDENTCHARS = /[A-Za-z0-9_]/;

/** A namespace of the server: `sup.call('getAllProcessInfo')` is supervisor.getAllProcessInfo. */
export class Proxy {
  constructor(
    private readonly client: RpcClient,
    private readonly namespace: string,
  ) {}

  call(method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue> {
    return this.client.call(`${this.namespace}.${method}`, ...params);
  }
}

export class Controller {
  exitstatus: number = Exit.SUCCESS;
  readonly interrupts = new Interrupts();
  input: LineInput;
  /** getAllProcessInfo, cached for tab completion until the next command runs. */
  completeInfo: XmlRpcValue[] | undefined;
  readonly color: boolean;
  /** Set by `status --json`, whose stdout must hold nothing but JSON. */
  messagesToStderr = false;
  /** Set when the shell abandons a command on Ctrl-C: its late output is dropped. */
  silenced = false;
  private readonly clients = new Map<string, RpcClient>();

  constructor(
    readonly options: CtlOptions,
    readonly io: CtlIo,
  ) {
    this.input = new PlainInput(io, this.interrupts);
    this.color = colorEnabled(io);
  }

  get prompt(): string {
    return `${this.options.prompt}> `;
  }

  output(message: string): void {
    if (this.silenced) return;
    (this.messagesToStderr ? this.io.stderr : this.io.stdout).write(message + '\n');
  }

  /** output() of each line, in one write: the status of thousands of processes is not thousands of writes. */
  outputLines(lines: readonly string[]): void {
    if (this.silenced || lines.length === 0) return;
    (this.messagesToStderr ? this.io.stderr : this.io.stdout).write(lines.join('\n') + '\n');
  }

  /** A proxy for the supervisor namespace; a bad serverurl raises here, as in Python. */
  getSupervisor(): Proxy {
    return new Proxy(this.client(), 'supervisor');
  }

  /** fastvisor.* (getAllProcessStats for top) */
  getFastvisor(): Proxy {
    return new Proxy(this.client(), 'fastvisor');
  }

  private client(): RpcClient {
    const { serverurl, username, password } = this.options;
    const key = JSON.stringify([serverurl, username, password]);
    let c = this.clients.get(key);
    if (!c) {
      c = new RpcClient({ serverurl, username, password });
      this.clients.set(key, c);
    }
    return c;
  }

  /** Drops kept-alive connections, so nothing holds the process open between commands. */
  closeConnections(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  setExitstatusFromFault(faultcode: number, ignored?: number): void {
    if (faultcode === ignored || faultcode === Faults.SUCCESS) return;
    this.exitstatus = DEAD_PROGRAM_FAULTS.includes(faultcode) ? Exit.NOT_RUNNING : Exit.GENERIC;
  }

  /** Controller.upcheck: is there a supervisord there, speaking API 3.0? */
  async upcheck(): Promise<boolean> {
    try {
      const api = await this.getSupervisor().call('getVersion');
      if (api !== API_VERSION) {
        this.output(
          'Sorry, this version of supervisorctl expects to ' +
            'talk to a server with API version ' +
            `${API_VERSION}, but the remote version is ${pyStr(api)}.`,
        );
        this.exitstatus = Exit.NOT_INSTALLED;
        return false;
      }
    } catch (e) {
      if (e instanceof Fault) {
        if (e.faultCode === Faults.UNKNOWN_METHOD) {
          this.output(
            'Sorry, supervisord responded but did not recognize ' +
              'the supervisor namespace commands that supervisorctl ' +
              'uses to control it.  Please check that the ' +
              '[rpcinterface:supervisor] section is enabled in the ' +
              'configuration file (see sample.conf).',
          );
          this.exitstatus = Exit.UNIMPLEMENTED_FEATURE;
          return false;
        }
        this.exitstatus = Exit.GENERIC;
        throw e;
      }
      if (e instanceof SocketError) {
        if (e.errno === 'ECONNREFUSED') {
          this.output(`${this.options.serverurl} refused connection`);
          this.exitstatus = Exit.INSUFFICIENT_PRIVILEGES;
          return false;
        }
        if (e.errno === 'ENOENT') {
          this.output(`${this.options.serverurl} no such file`);
          this.exitstatus = Exit.NOT_RUNNING;
          return false;
        }
        this.exitstatus = Exit.GENERIC;
      }
      throw e;
    }
    return true;
  }

  /**
   * Controller.onecmd. Returns true when the shell should stop (EOF, quit, exit).
   * KeyboardInterrupt passes through, as it is no Exception in Python.
   */
  async onecmd(rawLine: string): Promise<boolean> {
    const [cmd, arg, line] = parseline(rawLine);
    if (!line) return false;
    if (cmd === undefined || cmd === '') return this.unknown(line);
    this.completeInfo = undefined;
    const run = await this.commandFor(cmd);
    if (!run) return this.unknown(line);
    try {
      try {
        return (await run(arg)) === true;
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        if (e.errcode !== 401) {
          this.exitstatus = Exit.GENERIC;
          throw e;
        }
        this.output('Server requires authentication');
        if (this.options.interactive) {
          const username = await this.input.readLine('Username:', 'authUsername');
          const password = await this.input.readSecret('Password:');
          this.output('');
          this.options.username = username;
          this.options.password = password;
          return await this.onecmd(line);
        }
        this.exitstatus = Exit.GENERIC;
      }
      // 4.2.5 falls through and runs the command a second time after a 401, whose
      // failure is then printed as an error line; scripts have seen that pair since.
      await run(arg);
    } catch (e) {
      if (e instanceof KeyboardInterrupt) throw e;
      this.output(uncaughtLine(e));
      this.exitstatus = Exit.GENERIC;
    }
    return false;
  }

  private unknown(line: string): false {
    this.output(`*** Unknown syntax: ${line}`);
    this.exitstatus = Exit.GENERIC;
    return false;
  }

  /** Controller._get_do_func: help and EOF live on the controller, the rest in the default plugin. */
  private async commandFor(cmd: string): Promise<((arg: string) => Promise<boolean | void>) | undefined> {
    if (cmd === 'help') return (arg) => this.doHelp(arg);
    if (cmd === 'EOF') return async () => this.doEOF();
    if (!isCommand(cmd)) return undefined;
    const command = await loadCommand(cmd);
    return (arg) => command.run(this, arg);
  }

  doEOF(): boolean {
    this.output('');
    return true;
  }

  private async doHelp(arg: string): Promise<void> {
    if (pyStrip(arg) === 'help') {
      this.output('help\t\tPrint a list of available actions');
      this.output('help <action>\tPrint help for <action>');
      return;
    }
    const { helpCommand } = await import('./commands/help.js');
    await helpCommand(this, arg);
  }
}

/** cmd.Cmd.parseline: `?x` is `help x`; the command is the leading identifier characters. */
export function parseline(raw: string): [cmd: string | undefined, arg: string, line: string] {
  let line = pyStrip(raw);
  if (!line) return [undefined, '', line];
  if (line[0] === '?') line = 'help ' + line.slice(1);
  else if (line[0] === '!') return [undefined, '', line];
  let i = 0;
  while (i < line.length && IDENTCHARS.test(line[i]!)) i++;
  return [line.slice(0, i), pyStrip(line.slice(i)), line];
}
