#!/usr/bin/env bash
# npm's prepack hook: `npm publish` refuses a tarball that would make users
# compile the addon, or that ships stale native code; a plain `npm pack` only
# warns (examples/docker packs a clone and compiles in its build stage).
# prebuilds/ is gitignored; make it first with `npm run prebuilds`.
#   FASTVISOR_PREBUILDS="linux-x64/fastvisor.glibc.node ..."  what must be there
#   (default: the two glibc builds CI makes; the release adds the musl ones).
set -euo pipefail
cd "$(dirname "$0")/.."

required=${FASTVISOR_PREBUILDS:-linux-x64/fastvisor.glibc.node linux-arm64/fastvisor.glibc.node}
fail=0
for p in $required; do
  f=prebuilds/$p
  if [ ! -f "$f" ]; then
    echo "prepack: $f is missing: run 'npm run prebuilds' first (README: Install)" >&2
    fail=1
  else
    newer=$(find native binding.gyp -newer "$f" -type f | head -1)
    if [ -n "$newer" ]; then
      echo "prepack: $f is older than the native sources ($newer): run 'npm run prebuilds'" >&2
      fail=1
    fi
  fi
done
# dist/ is what bin/* run; `prepare` builds it, but only after prepack.
if [ ! -d dist/cli ]; then
  echo "prepack: dist/ is missing: run 'npm run build'" >&2
  fail=1
else
  for b in dist/fastvisorctl.cjs dist/cli/fastvisord.cjs; do
    if [ ! -f $b ]; then
      echo "prepack: $b (a one-file bundle the bins run) is missing: run 'npm run build'" >&2
      fail=1
    fi
  done
fi
if [ $fail = 1 ] && [ "${npm_command:-}" = pack ]; then
  echo "prepack: packing anyway (npm pack); npm publish would stop here" >&2
  exit 0
fi
exit $fail
