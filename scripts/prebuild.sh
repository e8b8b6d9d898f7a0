#!/usr/bin/env bash
# Builds the Node-API prebuilds that ship in the npm tarball (prebuilds/ is
# gitignored: CI and the release step make them). One Node-API build serves
# every Node >= 20. What each needs at run time: README "Install".
#
#   linux-x64   glibc  host g++
#   linux-arm64 glibc  Debian's g++-aarch64-linux-gnu + binutils-aarch64-linux-gnu
#   linux-x64/arm64 musl, and glibc 2.28 builds instead of the g++ ones:
#                      only with zig 0.11 (FV_ZIG=/path/to/zig or zig on PATH;
#                      FV_ZIG_GLIBC=0 keeps g++ for the glibc ones); README
#                      "Making a release". CI does not use zig (353 MB, minutes).
#                      arm64 builds are stripped with aarch64-linux-gnu-strip.
#
# Targets can be picked: scripts/prebuild.sh x64 arm64 (default: every one the
# machine can build; a missing cross compiler is a skip, not an error, unless
# FV_PREBUILD_STRICT=1). The builds run in a scratch copy of the package so the
# developer's build/ (which node-gyp-build prefers) is never overwritten with a
# foreign-architecture binary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

targets=("$@")
zig=${FV_ZIG:-$(command -v zig || true)}
if [ ${#targets[@]} -eq 0 ]; then
  targets=(x64 arm64)
  [ -n "$zig" ] && targets+=(x64-musl arm64-musl)
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r binding.gyp package.json native "$stage/"
ln -s "$root/node_modules" "$stage/node_modules"
mkdir -p prebuilds

skip() {
  echo "prebuild: skipping $1: $2" >&2
  [ "${FV_PREBUILD_STRICT:-0}" = 1 ] && exit 1
  return 0
}

# build "VAR=value ..." prebuildify-args...: prebuildify runs node-gyp rebuild
# in $stage and copies the .node into prebuilds/<platform>-<arch>/ here
# (fastvisor.glibc.node / fastvisor.musl.node).
build() {
  local envs=$1; shift
  # shellcheck disable=SC2086 # envs is a list of words on purpose
  (cd "$stage" && rm -rf build && env $envs npx --no-install prebuildify --napi --strip --tag-libc --out "$root" "$@")
}

# zig as a C/C++ compiler with a target triple; its libc++ is linked in.
zig_env() {
  local wrap="$stage/zig-$1"
  mkdir -p "$wrap"
  printf '#!/bin/sh\nexec "%s" cc -target %s "$@"\n' "$zig" "$1" > "$wrap/cc"
  printf '#!/bin/sh\nexec "%s" c++ -target %s "$@"\n' "$zig" "$1" > "$wrap/c++"
  printf '#!/bin/sh\nexec "%s" ar "$@"\n' "$zig" > "$wrap/ar"
  chmod +x "$wrap"/*
  echo "CC=$wrap/cc CXX=$wrap/c++ LINK=$wrap/c++ AR=$wrap/ar"
}

for t in "${targets[@]}"; do
  if [[ $t == arm64* ]] && ! command -v aarch64-linux-gnu-strip >/dev/null; then
    skip "$t" "no aarch64-linux-gnu-strip (apt install binutils-aarch64-linux-gnu)"
    continue
  fi
  case "$t" in
    x64)
      if [ -n "$zig" ] && [ "${FV_ZIG_GLIBC:-1}" = 1 ]; then
        # glibc 2.28 floor (Node 20's own), no libstdc++ needed.
        build "$(zig_env x86_64-linux-gnu.2.28)" --arch x64
      else
        command -v g++ >/dev/null || { skip x64 "no g++"; continue; }
        build '' --arch x64
      fi ;;
    arm64)
      if [ -n "$zig" ] && [ "${FV_ZIG_GLIBC:-1}" = 1 ]; then
        build "$(zig_env aarch64-linux-gnu.2.28)" --arch arm64 --strip-bin aarch64-linux-gnu-strip
      else
        command -v aarch64-linux-gnu-g++ >/dev/null ||
          { skip arm64 "no aarch64-linux-gnu-g++ (apt install g++-aarch64-linux-gnu)"; continue; }
        build "CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar" \
          --arch arm64 --strip-bin aarch64-linux-gnu-strip
      fi ;;
    x64-musl|arm64-musl)
      [ -n "$zig" ] || { skip "$t" "no zig (FV_ZIG)"; continue; }
      arch=${t%-musl}
      triple=$([ "$arch" = x64 ] && echo x86_64-linux-musl || echo aarch64-linux-musl)
      strip_bin=$([ "$arch" = x64 ] && echo strip || echo aarch64-linux-gnu-strip)
      build "$(zig_env "$triple")" --arch "$arch" --libc musl --strip-bin "$strip_bin" ;;
    *) echo "prebuild: unknown target $t (x64, arm64, x64-musl, arm64-musl)" >&2; exit 2 ;;
  esac
done

ls -l prebuilds/*/ >&2
