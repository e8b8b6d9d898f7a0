// SPDX-License-Identifier: MIT
// The interactive shell (Controller.exec_cmdloop + cmd.Cmd.cmdloop): `status` first,
// then one command per line at `supervisor> `, with line editing, history and tab
// completion on a terminal, and plain prompted reads from a pipe.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Interface } from 'node:readline';

import { complete, currentWord } from './completion.js';
import type { Controller } from './controller.js';
import { codePointCompare } from './py.js';
import { eofError, KeyboardInterrupt, PyException, type SiteName } from './errors.js';
import { getpassFallback, type CtlIo, type Interrupts, type LineInput } from './io.js';

/** readline's private echo hook, replaced while a password is typed. */
interface Echo {
  _writeToOutput(s: string): void;
}

class ShellInput implements LineInput {
  private readonly lines: string[] = [];
  private closed = false;
  private wake: (() => void) | undefined;
  private interrupted = false;
  /** A command is running: the terminal is cooked and readline paused, except while it reads. */
  inCommand = false;

  constructor(
    readonly rl: Interface,
    private readonly terminal: boolean,
    private readonly io: CtlIo,
    private readonly interrupts: Interrupts,
  ) {
    rl.on('line', (l: string) => {
      this.lines.push(l);
      this.wake?.();
    });
    rl.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    // Ctrl-C at the prompt is a key in raw mode, not a signal: Python sees KeyboardInterrupt.
    rl.on('SIGINT', () => {
      this.interrupted = true;
      this.wake?.();
    });
  }

  async readLine(prompt: string, site: SiteName): Promise<string> {
    if (!this.terminal || !this.inCommand) return this.read(prompt, site);
    this.setRaw(true);
    try {
      return await this.read(prompt, site);
    } finally {
      this.rl.pause();
      this.setRaw(false);
    }
  }

  setRaw(on: boolean): void {
    const stdin = (this.rl as unknown as { input: { setRawMode?(b: boolean): unknown } }).input;
    if (this.terminal && !this.closed) stdin.setRawMode?.(on);
  }

  private async read(prompt: string, site: SiteName): Promise<string> {
    this.interrupted = false;
    // On a terminal Ctrl-C reaches readline as a key (rl 'SIGINT'); from a pipe it is a signal.
    const pop = this.interrupts.push(() => {
      this.interrupted = true;
      this.wake?.();
    });
    try {
      if (this.closed) {
        // Input ended (a pipe read to its end) with lines still queued, or none: input()
        // still writes its prompt each time.
        this.io.stdout.write(prompt);
      } else {
        this.rl.setPrompt(prompt);
        this.rl.prompt();
      }
      for (;;) {
        if (this.interrupted) throw new KeyboardInterrupt();
        const line = this.lines.shift();
        if (line !== undefined) return line;
        if (this.closed) throw eofError(site);
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
      }
    } finally {
      pop();
    }
  }

  async readSecret(prompt: string): Promise<string> {
    if (!this.terminal) return getpassFallback(this.io, prompt, () => this.read('', 'getpassEof'));
    const echo = this.rl as unknown as Echo;
    const original = echo._writeToOutput.bind(this.rl);
    // getpass turns echo off: readline may redraw the prompt, but never what is typed.
    echo._writeToOutput = (s: string) => {
      if (s.startsWith(prompt)) original(prompt);
      else if (s === '\r\n' || s === '\n') original(s);
    };
    try {
      const secret = await this.readLine(prompt, 'getpassEof');
      // getpass reads /dev/tty directly: the password never enters readline's history.
      const history = (this.rl as unknown as { history: string[] }).history;
      if (history[0] === secret) history.shift();
      return secret;
    } finally {
      echo._writeToOutput = original;
    }
  }

  close(): void {
    this.rl.close();
  }
}

function readHistory(file: string): string[] {
  try {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.reverse();
  } catch {
    return []; // read_history_file's IOError is ignored
  }
}

function writeHistory(file: string, newestFirst: readonly string[]): void {
  try {
    writeFileSync(file, [...newestFirst].reverse().map((l) => l + '\n').join(''));
  } catch {
    // so is write_history_file's
  }
}

/** Runs the shell until EOF, quit/exit, or Ctrl-C outside tail -f and fg. Exit status is always 0. */
export async function runShell(ctl: Controller): Promise<void> {
  const io = ctl.io;
  const stdin = io.stdin;
  // Python's input() edits lines with readline only when both ends are terminals.
  const terminal = Boolean(stdin.isTTY && io.stdout.isTTY);
  const historyFile = ctl.options.historyFile;
  const history = historyFile ? readHistory(historyFile) : [];

  // Loaded here, not at the top: a one-shot command never reads a line (and the
  // bundled ctl would otherwise load readline for every `status`).
  const { createInterface } = await import('node:readline');
  const rl = createInterface({
    input: stdin,
    output: io.stdout as NodeJS.WritableStream,
    terminal,
    history: terminal ? history : [],
    historySize: Number.POSITIVE_INFINITY,
    removeHistoryDuplicates: false,
    completer: terminal
      ? (line: string, cb: (err: null, result: [string[], string]) => void) => {
          const text = currentWord(line);
          complete(ctl, line, text).then(
            // GNU readline lists matches sorted and once each; so do we.
            (matches) => cb(null, [[...new Set(matches)].sort(codePointCompare), text]),
            // A completer that fails completes nothing (readline swallows the exception).
            () => cb(null, [[], text]),
          );
        }
      : undefined,
  });
  const plainInput = ctl.input;
  const input = new ShellInput(rl, terminal, io, ctl.interrupts);
  ctl.input = input;

  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (historyFile) writeHistory(historyFile, terminal ? (rl as unknown as { history: string[] }).history : history);
    input.close();
    ctl.closeConnections();
  };

  // Ctrl-C while a command runs (the terminal is in cooked mode then, so it is a signal)
  // ends the shell, as KeyboardInterrupt ends cmdloop; tail -f and fg push their own.
  let abort: (() => void) | undefined;
  const interrupted = new Promise<'interrupted'>((resolve) => (abort = () => resolve('interrupted')));
  const popBase = ctl.interrupts.push(() => abort?.());

  try {
    const queue = ['status'];
    for (;;) {
      let line = queue.shift();
      if (line === undefined) {
        try {
          line = await input.readLine(ctl.prompt, 'cmdloop');
        } catch (e) {
          // cmd.Cmd.cmdloop: input() at end of file is the EOF command.
          if (e instanceof PyException && e.pyClass === 'EOFError') line = 'EOF';
          else throw e;
        }
      }
      // While the command runs the terminal is cooked again: typed-ahead text waits in
      // the tty, Ctrl-C is SIGINT.
      input.inCommand = true;
      if (terminal) {
        rl.pause();
        input.setRaw(false);
      }
      const outcome = await Promise.race([ctl.onecmd(line), interrupted]);
      if (outcome === 'interrupted') {
        // The command is abandoned mid-flight; whatever it would still print is not wanted.
        ctl.silenced = true;
        throw new KeyboardInterrupt();
      }
      input.inCommand = false;
      ctl.closeConnections();
      input.setRaw(true);
      if (outcome) break;
    }
  } catch (e) {
    if (!(e instanceof KeyboardInterrupt)) throw e;
    io.stdout.write('\n');
  } finally {
    popBase();
    finish();
    ctl.input = plainInput;
  }
}
