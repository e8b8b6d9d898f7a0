#!/usr/bin/env bash
# Test-only build: the addon with native/backend_kqueue.cc compiled in on
# Linux, against the vendored libkqueue (third_party/libkqueue: kqueue emulated
# on epoll/signalfd/pidfd). The native tests then run the kqueue backend too
# (test/helpers/core.ts finds it by starting it). It catches bugs in the
# backend's code, not macOS/BSD kernel behaviour: README "Platforms".
# Replaces build/Release/fastvisor.node; `npx node-gyp rebuild` goes back.
# Needs cmake (apt install cmake) and what node-gyp needs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$root/build-kqueue
rm -rf "$out"
cmake -S third_party/libkqueue -B "$out/obj" -DCMAKE_BUILD_TYPE=Release \
  -DENABLE_SHARED=OFF -DENABLE_TESTING=OFF -DCMAKE_INSTALL_PREFIX="$out" -DCMAKE_INSTALL_LIBDIR=lib >"$out.log" 2>&1 ||
  { cat "$out.log" >&2; exit 1; }
cmake --build "$out/obj" -j"$(nproc)" >>"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
for c in headers libraries; do cmake --install "$out/obj" --component "$c" >>"$out.log" 2>&1; done
rm -f "$out.log"
npx --no-install node-gyp rebuild --fv_libkqueue="$out"
