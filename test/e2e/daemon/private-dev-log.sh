#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a command with /dev/log pointing at a socket the test controls, in a
# private mount namespace, so that the real supervisord (whose Python syslog
# module always sends to /dev/log) can be heard without touching the host:
#   unshare --mount --propagation private -- private-dev-log.sh SOCKET WORKDIR CMD...
# /dev becomes a small tmpfs holding bind mounts of every host /dev entry plus
# a /dev/log symlink; it all goes away with the namespace's last process.
# exec keeps the pid: the test signals and waits for CMD itself.
set -e
sock=$1
work=$2
shift 2
old=$work/host-dev
mkdir -p "$old"
mount --rbind /dev "$old"
mount -t tmpfs -o mode=755,size=64k fv-dev /dev
for e in "$old"/* "$old"/.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  n=/dev/${e##*/}
  if [ -L "$e" ]; then
    cp -P "$e" "$n"
  elif [ -d "$e" ]; then
    mkdir "$n"
    mount --rbind "$e" "$n"
  else
    : >"$n"
    mount --bind "$e" "$n"
  fi
done
umount -l "$old"
rmdir "$old"
ln -s "$sock" /dev/log
exec "$@"
