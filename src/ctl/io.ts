// SPDX-License-Identifier: MIT
// The streams and surroundings a supervisorctl run gets, injectable so tests can
// run many commands in one process; plus Ctrl-C routing and line input (raw_input).
import { eofError, KeyboardInterrupt, PyException, type SiteName } from './errors.js';

export interface Out {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
}

export interface In extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface CtlIo {
  stdout: Out;
  stderr: Out;
  stdin: In;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** sys.argv[0] as Python would have it: the path the program was started by. */
  progname: string;
}

/**
 * Ctrl-C goes to the innermost handler (a tail -f, fg, a prompt). With none installed
 * the signal keeps Node's default, so a one-shot command dies of SIGINT, as Python's
 * uncaught KeyboardInterrupt does.
 */
export class Interrupts {
  private readonly handlers: Array<() => void> = [];
  private readonly onSignal = (): void => this.handlers[this.handlers.length - 1]?.();

  /** Installs `handler` until the returned function is called. */
  push(handler: () => void): () => void {
    if (this.handlers.length === 0) process.on('SIGINT', this.onSignal);
    this.handlers.push(handler);
    return () => {
      const at = this.handlers.lastIndexOf(handler);
      if (at >= 0) this.handlers.splice(at, 1);
      if (this.handlers.length === 0) process.removeListener('SIGINT', this.onSignal);
    };
  }
}

/** input() and getpass(): a line without its newline; EOFError at end of input, KeyboardInterrupt on Ctrl-C. */
export interface LineInput {
  readLine(prompt: string, site: SiteName): Promise<string>;
  /** getpass(): no echo on a terminal; a newline follows on the prompt's stream. */
  readSecret(prompt: string): Promise<string>;
  close(): void;
}

/**
 * Lines from stdin outside the shell (one-shot `fg`, `-i shutdown`): Python's input()
 * writes the prompt to stdout and reads one line; a last line without a newline counts.
 */
export class PlainInput implements LineInput {
  private buffer = '';
  private ended = false;
  private waiting: (() => void) | undefined;
  private listening = false;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly io: CtlIo,
    private readonly interrupts: Interrupts,
  ) {}

  readLine(prompt: string, site: SiteName): Promise<string> {
    if (prompt) this.io.stdout.write(prompt);
    return this.nextLine(site);
  }

  async readSecret(prompt: string): Promise<string> {
    const stdin = this.io.stdin;
    if (stdin.isTTY && stdin.setRawMode) return this.readSecretTty(prompt);
    return getpassFallback(this.io, prompt, () => this.nextLine('getpassEof'));
  }

  close(): void {
    this.stopListening();
  }

  private readSecretTty(prompt: string): Promise<string> {
    const stdin = this.io.stdin;
    this.io.stdout.write(prompt);
    return new Promise((resolve, reject) => {
      let secret = '';
      stdin.setRawMode!(true);
      const done = (err: Error | null): void => {
        stdin.removeListener('data', onData);
        stdin.setRawMode!(false);
        stdin.pause();
        this.io.stdout.write('\n');
        if (err) reject(err);
        else resolve(secret);
      };
      const onData = (chunk: Buffer | string): void => {
        for (const ch of chunk.toString()) {
          if (ch === '\r' || ch === '\n') return done(null);
          if (ch === '\x03') return done(new KeyboardInterrupt());
          if (ch === '\x04') return secret ? undefined : done(new PyException('EOFError', '', 'getpassEof'));
          if (ch === '\x7f' || ch === '\b') secret = Array.from(secret).slice(0, -1).join('');
          else if (ch === '\x15') secret = '';
          else secret += ch;
        }
      };
      stdin.on('data', onData);
      stdin.resume();
    });
  }

  private async nextLine(site: SiteName): Promise<string> {
    this.startListening();
    let interrupted = false;
    const pop = this.interrupts.push(() => {
      interrupted = true;
      this.waiting?.();
    });
    try {
      for (;;) {
        if (interrupted) throw new KeyboardInterrupt();
        const nl = this.buffer.indexOf('\n');
        if (nl >= 0) {
          const line = this.buffer.slice(0, nl);
          this.buffer = this.buffer.slice(nl + 1);
          return line;
        }
        if (this.ended) {
          if (this.buffer) {
            const line = this.buffer;
            this.buffer = '';
            return line;
          }
          throw eofError(site);
        }
        this.io.stdin.resume();
        await new Promise<void>((r) => (this.waiting = r));
        this.waiting = undefined;
      }
    } finally {
      pop();
      // Paused between reads, so a waiting stdin does not keep the process alive.
      if (!this.ended) this.io.stdin.pause();
    }
  }

  private startListening(): void {
    if (this.listening) return;
    this.listening = true;
    const stdin = this.io.stdin;
    stdin.on('data', this.onData);
    stdin.on('end', this.onEnd);
    stdin.on('error', this.onEnd);
  }

  private stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    const stdin = this.io.stdin;
    stdin.removeListener('data', this.onData);
    stdin.removeListener('end', this.onEnd);
    stdin.removeListener('error', this.onEnd);
    stdin.pause();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    this.waiting?.();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.buffer += this.decoder.decode();
    this.waiting?.();
  };
}

/**
 * getpass() without a terminal to turn echo off on (fallback_getpass): warning and
 * prompt on stderr, the line read as is, then a newline on stderr. Scripts that feed
 * a password on stdin have always seen the warning, so it stays, word for word.
 */
export async function getpassFallback(io: CtlIo, prompt: string, next: () => Promise<string>): Promise<string> {
  io.stderr.write(
    '/usr/lib/python3.11/getpass.py:91: GetPassWarning: Can not control echo on the terminal.\n' +
      '  passwd = fallback_getpass(prompt, stream)\n' +
      'Warning: Password input may be echoed.\n' +
      prompt,
  );
  let secret: string;
  try {
    secret = await next();
  } catch (e) {
    // _raw_input's bare `raise EOFError`: no message.
    if (e instanceof PyException && e.pyClass === 'EOFError') throw new PyException('EOFError', '', 'getpassEof');
    throw e;
  }
  io.stderr.write('\n');
  return secret;
}
