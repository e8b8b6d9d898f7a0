// SPDX-License-Identifier: MIT
// Imported first by the daemon's entry point, before the program allocates: the V8
// settings that keep a long-lived, mostly idle daemon small. Set here, at run time,
// because a shebang, `node bin/…` and a PID 1 entry point do not all carry node's
// command line; a setting given there or in NODE_OPTIONS wins.
//
// - The young generation: V8 grows its two semi-spaces from 1 MiB towards 16 MiB
//   each as allocation bursts come (an XML-RPC answer for hundreds of processes, a
//   config load), and the pages it touched stay in RSS for good: at 1000 programs
//   that was 15 of 27 MiB of private memory. A supervisor's live young objects are
//   few, so scavenging a small new space often costs little. `--max-semi-space-size`
//   cannot be set once V8 runs; the growth factor is read whenever the new space
//   would grow.
// - No optimizing compiler (TurboFan): the daemon's JavaScript runs in bytecode and
//   Sparkplug's baseline code. TurboFan's own code in the node binary (pages the
//   daemon then keeps in RSS), its compile zones and optimized code cost 5.3 MiB of
//   RSS at 500 programs (1.3 of it private), and its compiles cost more CPU at
//   start-up than they saved (2000 programs: 1.4-1.75 CPU-s to all RUNNING against
//   1.85-2.0); a getAllProcessInfo costs more, 6.3 ms against 5.6 at 500 and 32
//   against 22 at 2000 (supervisord: 92 and 4522). The bytes of children's output
//   never pass through JavaScript. README "Where fastvisord's memory goes".
import v8 from 'node:v8';

// node's command line, and NODE_OPTIONS (node takes --max-semi-space-size there, not the tiering flags).
const nodeArgs = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const given = (re: RegExp): boolean => nodeArgs.some((a) => re.test(a));

if (!given(/^--(max-semi-space-size|semi-space-growth-factor)\b/)) v8.setFlagsFromString('--semi-space-growth-factor=1');
if (!given(/^--(no-)?(opt|turbofan|max-opt)\b/)) v8.setFlagsFromString('--max-opt=1');
