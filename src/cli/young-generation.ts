// SPDX-License-Identifier: MIT
// Imported first by the daemon's entry point, before the program allocates.
// V8 grows the young generation's two semi-spaces from 1 MiB towards 16 MiB
// each as allocation bursts come (an XML-RPC answer for hundreds of processes,
// a config load), and the pages it touched stay in the daemon's RSS for good:
// at 1000 programs that was 15 of its 27 MiB of private memory. A supervisor's
// live young objects are few, so scavenging a small new space often costs
// little; keeping it at its initial size is set here, at run time, because
// `--max-semi-space-size` only works on node's command line (which a shebang,
// `node bin/…` and a PID 1 entry point do not all carry), while the growth
// factor is read whenever the new space would grow.
import v8 from 'node:v8';

if (!process.execArgv.some((a) => a.startsWith('--max-semi-space-size') || a.startsWith('--semi-space-growth-factor'))) {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
