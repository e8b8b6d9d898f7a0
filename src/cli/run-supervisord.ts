// SPDX-License-Identifier: MIT
// Entry point of the supervisord/fastvisord bins.
import { main } from './supervisord.js';

main(process.argv.slice(2), process.argv[1] ?? 'supervisord').then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
