// SPDX-License-Identifier: MIT
// The addon must build outside g++/glibc (clang with libc++, macOS and BSD
// headers). Two checks that fail on the defects seen there: every source
// compiles with clang++ -stdlib=libc++ -Werror (so a call whose header only
// glibc pulled in indirectly fails), and Linux-only headers appear only under
// `#if defined(__linux__)` in the sources every platform builds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { REPO } from '../../helpers/daemon-harness.js';

const NATIVE = path.join(REPO, 'native');
// Sources built on one platform only (binding.gyp conditions).
const PLATFORM_ONLY = new Set(['backend_epoll.cc', 'backend_kqueue.cc']);
const LINUX_HEADERS = ['sys/syscall.h', 'sys/prctl.h', 'sys/eventfd.h', 'sys/epoll.h', 'sys/signalfd.h', 'sched.h', 'linux/'];
const sources = readdirSync(NATIVE).filter((f) => f.endsWith('.cc') || f.endsWith('.h'));

/** The include lines of a file that are not inside an `#if defined(__linux__)` block. */
function unguardedIncludes(text: string): string[] {
  const stack: boolean[] = [];
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/^#\s*if/.test(line)) stack.push(/defined\(__linux__\)|__linux__/.test(line) && !/!\s*defined\(__linux__\)/.test(line));
    else if (/^#\s*(else|elif)/.test(line)) stack[stack.length - 1] = false;
    else if (/^#\s*endif/.test(line)) stack.pop();
    else if (/^#\s*include/.test(line) && !stack.some(Boolean)) out.push(line);
  }
  return out;
}

describe('native sources build beyond g++/glibc', () => {
  it.each(sources.filter((f) => !PLATFORM_ONLY.has(f)))('%s includes Linux-only headers only under __linux__', (file) => {
    const bad = unguardedIncludes(readFileSync(path.join(NATIVE, file), 'utf8')).filter((l) => LINUX_HEADERS.some((h) => l.includes(`<${h}`)));
    expect(bad).toEqual([]);
  });

  const clang = ['clang++', 'clang++-14', 'clang++-15', 'clang++-16'].find((c) => spawnSync(c, ['--version']).status === 0);
  const libcxx = existsSync('/usr/lib/llvm-14/include/c++/v1') || existsSync('/usr/include/c++/v1');
  const nodeHeaders = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => existsSync(path.join(d, 'node_api.h')));
  // .ci/run installs clang-14 and libc++-14-dev; a machine without them skips.
  it.runIf(clang && libcxx && nodeHeaders && process.platform === 'linux').each(sources.filter((f) => f.endsWith('.cc') && f !== 'backend_kqueue.cc'))(
    '%s compiles with clang++ -stdlib=libc++ -Wall -Wextra -Werror',
    (file) => {
      const addonApi = createRequire(import.meta.url)('node-addon-api') as { include_dir: string };
      const r = spawnSync(
        clang!,
        [
          '-stdlib=libc++', '-std=c++17', '-Wall', '-Wextra', '-Werror', '-fsyntax-only',
          `-I${nodeHeaders}`, `-I${path.resolve(REPO, addonApi.include_dir)}`,
          '-DNAPI_VERSION=8', '-DNODE_ADDON_API_DISABLE_DEPRECATED', '-DNAPI_DISABLE_CPP_EXCEPTIONS',
          path.join(NATIVE, file),
        ],
        { encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );
});
