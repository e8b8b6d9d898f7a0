// SPDX-License-Identifier: MIT
// Entry point of the supervisord/fastvisord bins.
import './v8-memory.js';
import { main } from './supervisord.js';

const progname = process.argv[1] ?? 'supervisord';

main(process.argv.slice(2), progname).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Whatever escaped main() ends as every start-up error does, in
    // options.py usage()'s words and exit status: never a stack trace.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`Error: ${message}\nFor help, use ${progname} -h\n`);
    process.exit(2);
  },
);
