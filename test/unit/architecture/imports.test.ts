// SPDX-License-Identifier: MIT
// Imports point one way: cli → web/http → rpc → process/log → events/config/
// native (README "How it works"). ctl talks to a daemon only over XML-RPC, so
// it may use the leaves (names, numbers, the wire format, the config-file
// reader) and nothing of the daemon. This test reads every import in src/ and
// fails on an edge the map does not allow, the way fastify pins its error
// catalogue in a test.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');

/** module → the modules it may import (besides itself and the leaves). */
const ALLOWED: Record<string, string[]> = {
  native: [],
  config: [],
  events: [],
  log: ['config', 'native'],
  process: ['config', 'events', 'log', 'native'],
  rpc: ['config', 'events', 'log', 'native', 'process'],
  http: ['config', 'rpc'],
  web: ['http', 'rpc', 'config', 'process'],
  ctl: [],
  cli: ['config', 'ctl', 'events', 'http', 'log', 'native', 'process', 'rpc', 'web'],
};

/** Files anyone may import: names and numbers, the wire format, Python-compatible parsers. Leaves import only leaves. */
const LEAVES = new Set([
  'process/states.ts',
  'process/cron.ts',
  'rpc/faults.ts',
  'rpc/codec.ts',
  'events/types.ts',
  'cli/getopt.ts',
  'config/model.ts',
  'config/datatypes.ts',
  'config/ini-reader.ts',
  'config/expand.ts',
  'config/pypath.ts',
]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = path.relative(SRC, path.resolve(path.dirname(file), m[1]!)).replace(/\.js$/, '.ts');
    out.push(target);
  }
  return out;
}

describe('the module map', () => {
  const all = files(SRC).map((f) => path.relative(SRC, f));

  it('every file belongs to a module the map knows', () => {
    for (const f of all) expect(Object.keys(ALLOWED), f).toContain(f.split('/')[0]);
  });

  it('no import points the wrong way', () => {
    const bad: string[] = [];
    for (const f of all) {
      const mod = f.split('/')[0]!;
      for (const t of imports(path.join(SRC, f))) {
        const tmod = t.split('/')[0]!;
        if (tmod === mod) continue;
        if (LEAVES.has(t)) continue;
        if (!ALLOWED[mod]!.includes(tmod)) bad.push(`${f} -> ${t}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('leaves import only leaves (or their own module)', () => {
    const bad: string[] = [];
    for (const leaf of LEAVES) {
      for (const t of imports(path.join(SRC, leaf))) {
        if (!LEAVES.has(t) && t.split('/')[0] !== leaf.split('/')[0]) bad.push(`${leaf} -> ${t}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('the ctl command registry', () => {
  // index.ts loads the commands lazily; a command that imports the registry
  // (even for a type) makes the two import each other. Only `help`, which
  // lists and loads the other commands, may use it.
  it('no command imports the registry but help', () => {
    const dir = path.join(SRC, 'ctl', 'commands');
    const bad = readdirSync(dir)
      .filter((n) => n.endsWith('.ts') && n !== 'index.ts' && n !== 'help.ts')
      .filter((n) => imports(path.join(dir, n)).includes('ctl/commands/index.ts'));
    expect(bad).toEqual([]);
  });
});
