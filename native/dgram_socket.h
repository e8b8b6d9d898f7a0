// SPDX-License-Identifier: MIT
// A unix datagram socket, non-blocking and close-on-exec from birth where the
// OS can: the spawn thread may fork at any moment, and no child may hold one
// of the daemon's sockets. macOS has no SOCK_CLOEXEC, so there the flags
// follow at once, as make_pipe's do (and SO_NOSIGPIPE stands in for
// MSG_NOSIGNAL). Used by the sd_notify sockets and the syslog sender.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace fv {

// The descriptor, or -errno.
inline int unix_dgram_socket() {
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  return fd < 0 ? -errno : fd;
#else
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) return -errno;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
#if defined(SO_NOSIGPIPE)
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return fd;
#endif
}

}  // namespace fv
