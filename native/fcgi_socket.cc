// SPDX-License-Identifier: MIT
// See fcgi_socket.h.
#include "fcgi_socket.h"

#include "spawn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

namespace fv {
namespace {

int fail(FcgiFailure* f, FcgiStep step, int err) {
  f->step = step;
  f->err = err;
  f->text = step == FcgiStep::kResolve ? (err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err)) : strerror(err);
  return -1;
}

// O_CLOEXEC, and never 0-2: a daemon started with those closed would
// otherwise hand the socket out as some child's stdout (see make_pipe in
// spawn.cc).
int new_socket(int domain) {
#if defined(SOCK_CLOEXEC)
  int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
  int fd = socket(domain, SOCK_STREAM, 0);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
  if (fd < 0) return fd;
  fd = fd_above_stdio(fd);
  if (fd >= 0) return fd;
  errno = -fd;
  return -1;
}

// Python's setipaddr() for AF_INET: '<broadcast>', a dotted quad, or a name
// looked up for IPv4 (the first answer).
int resolve(const std::string& host, in_addr* out, FcgiFailure* f) {
  if (host == "<broadcast>") {
    out->s_addr = htonl(INADDR_BROADCAST);
    return 0;
  }
  if (inet_pton(AF_INET, host.c_str(), out) == 1) return 0;
  addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return fail(f, FcgiStep::kResolve, rc);
  *out = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return 0;
}

int listen_inet(const FcgiSocketSpec& spec, FcgiFailure* f) {
  sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(spec.port));
  // Python makes the socket first, then resolves inside bind().
  int fd = new_socket(AF_INET);
  if (fd < 0) return fail(f, FcgiStep::kSocket, errno);
  if (resolve(spec.host, &addr.sin_addr, f) < 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    close(fd);
    return fail(f, FcgiStep::kBind, err);
  }
  return fd;
}

int listen_unix(const FcgiSocketSpec& spec, FcgiFailure* f) {
  sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  // os.path.exists() follows a symlink: a dangling one stays (and bind fails).
  struct stat st;
  if (stat(spec.path.c_str(), &st) == 0 && unlink(spec.path.c_str()) < 0) return fail(f, FcgiStep::kUnlink, errno);
  int fd = new_socket(AF_UNIX);
  if (fd < 0) return fail(f, FcgiStep::kSocket, errno);
  // The whole of sun_path may be used, without a terminating NUL, as Python does.
  if (spec.path.size() > sizeof addr.sun_path) {
    close(fd);
    return fail(f, FcgiStep::kPathTooLong, ENAMETOOLONG);
  }
  memcpy(addr.sun_path, spec.path.data(), spec.path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + spec.path.size());
  FcgiStep step = FcgiStep::kNone;
  int err = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
    step = FcgiStep::kBind;
    err = errno;
  } else if (spec.set_owner && chown(spec.path.c_str(), spec.uid, spec.gid) < 0) {
    step = FcgiStep::kChown;
    err = errno;
  } else if (spec.mode >= 0 && chmod(spec.path.c_str(), static_cast<mode_t>(spec.mode)) < 0) {
    step = FcgiStep::kChmod;
    err = errno;
  }
  if (step != FcgiStep::kNone) {
    close(fd);
    if (stat(spec.path.c_str(), &st) == 0) unlink(spec.path.c_str());
    return fail(f, step, err);
  }
  return fd;
}

}  // namespace

int fcgi_listen(const FcgiSocketSpec& spec, FcgiFailure* failure) {
  *failure = FcgiFailure{};
  int fd = spec.unix_domain ? listen_unix(spec, failure) : listen_inet(spec, failure);
  if (fd < 0) return -1;
  if (listen(fd, spec.backlog > 0 ? spec.backlog : SOMAXCONN) < 0) {
    int err = errno;
    close(fd);
    // Nothing is left behind of a socket that cannot serve.
    if (spec.unix_domain) unlink(spec.path.c_str());
    return fail(failure, FcgiStep::kListen, err);
  }
  return fd;
}

}  // namespace fv
