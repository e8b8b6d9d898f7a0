// SPDX-License-Identifier: MIT
// A config that supervisord would refuse: `message` is exactly what it prints
// after "Error: " (then "For help, use PROG -h", exit 2).
export class ConfigError extends Error {
  override name = 'ConfigError';
}
