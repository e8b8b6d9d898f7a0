// SPDX-License-Identifier: MIT
// A unix datagram socket, close-on-exec from birth where the OS can: the
// spawn thread may fork at any moment, and no child may hold one of the
// daemon's sockets. macOS has no SOCK_CLOEXEC, so there the flags follow at
// once, as make_pipe's do (and SO_NOSIGPIPE stands in for MSG_NOSIGNAL). And
// a file name as a sockaddr_un. Used by the sd_notify sockets (both ends) and
// the syslog sender.
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace fv {

// The descriptor, or -errno.
inline int unix_dgram_socket(bool nonblock = true) {
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
  return fd < 0 ? -errno : fd;
#else
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) return -errno;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || (nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)) {
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

// A file-system name in *addr: its length for bind, connect or sendto, or 0
// when the name does not fit sun_path with its NUL.
inline socklen_t unix_path_addr(const std::string& path, struct sockaddr_un* addr) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof addr->sun_path) return 0;
  memcpy(addr->sun_path, path.data(), path.size());
  return static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size() + 1);
}

}  // namespace fv
