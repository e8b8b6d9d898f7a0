// SPDX-License-Identifier: MIT
// sd_notify sockets (see notify.h). notify_open and notify_unlink run on the
// JS thread; notify_read runs on the I/O thread and never blocks.
#include "notify.h"

#include "dgram_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace fv {
namespace {

// Descriptors a sender may attach (systemd's FDSTORE=1; we keep none). Only
// this many are ever installed in our table: the kernel discards the rest.
constexpr size_t kMaxPassedFds = 16;


// A socket file left by an earlier run (a crash skips the unlink) would make
// bind fail with EADDRINUSE, so it goes. Anything else stays: lstat, so that a
// symlink is never followed to a file the daemon (root) would then remove.
int clear_path(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return errno == ENOENT ? 0 : -errno;
  if (!S_ISSOCK(st.st_mode)) return -EEXIST;
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return -errno;
  return 0;
}

int bind_path(int fd, const std::string& path) {
  struct sockaddr_un addr;
  socklen_t len = unix_path_addr(path, &addr);
  if (len == 0) return -ENAMETOOLONG;
  return bind(fd, reinterpret_cast<struct sockaddr*>(&addr), len) == 0 ? 0 : -errno;
}

// Mode and owner of the file bind made. fchmod on a socket fd changes the
// socket's inode, not the name (Linux takes that mode, less the umask, for the
// name at bind time: see notify_open), so they are set by path, once lstat
// says it is still our socket there. lchown never follows a link.
int set_access(const std::string& path, const NotifyOwner& owner, NotifyName* name) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return -errno;
  if (!S_ISSOCK(st.st_mode)) return -EEXIST;
  if (chmod(path.c_str(), 0600) != 0) return -errno;
  if (owner.set && lchown(path.c_str(), owner.uid, owner.gid) != 0) return -errno;
  name->path = path;
  name->dev = st.st_dev;
  name->ino = st.st_ino;
  return 0;
}

// Reads the ancillary data: the sender's pid (Linux SCM_CREDENTIALS) and any
// descriptors it passed, which are closed at once (a hostile sender could
// otherwise fill our descriptor table).
void take_control(struct msghdr* msg, pid_t* pid) {
  for (struct cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_RIGHTS) {
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < n; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (fd >= 0) close(fd);
      }
    }
#if defined(__linux__)
    if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
      struct ucred cred;
      memcpy(&cred, CMSG_DATA(c), sizeof cred);
      *pid = cred.pid;
    }
#endif
  }
}

}  // namespace

int notify_open(const std::string& path, const NotifyOwner& owner, NotifyName* name) {
  if (path.empty() || path.find('\0') != std::string::npos) return -EINVAL;
  if (path.size() >= sizeof(sockaddr_un::sun_path)) return -ENAMETOOLONG;
  int rc = clear_path(path);
  if (rc < 0) return rc;
  int fd = unix_dgram_socket();
  if (fd < 0) return fd;
#if defined(__linux__)
  // The kernel stamps every datagram with the sender's credentials, so JS
  // can tell the child's own READY=1 from a stranger's.
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) {
    rc = -errno;
    close(fd);
    return rc;
  }
  // Linux creates the name with the socket inode's mode less the umask: 0600
  // from the first instant, not only after the chmod below.
  (void)fchmod(fd, 0600);
#endif
  rc = bind_path(fd, path);
  if (rc == 0) {
    rc = set_access(path, owner, name);
    if (rc < 0) unlink(path.c_str());
  }
  if (rc < 0) {
    close(fd);
    return rc;
  }
  return fd;
}

void notify_unlink(const NotifyName& name) {
  struct stat st;
  if (name.path.empty() || lstat(name.path.c_str(), &st) != 0) return;
  if (st.st_dev == name.dev && st.st_ino == name.ino) unlink(name.path.c_str());
}

int notify_send(const std::string& path, const std::string& text) {
  if (path.size() < 2 || (path[0] != '/' && path[0] != '@') || path.find('\0') != std::string::npos) return -EINVAL;
  if (text.size() > kNotifyMax) return -EMSGSIZE;
  struct sockaddr_un addr;
  socklen_t len;
  if (path[0] == '@') {
    // An abstract name is counted by length alone (no NUL) and may fill sun_path.
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (path.size() > sizeof addr.sun_path) return -ENAMETOOLONG;
    memcpy(addr.sun_path + 1, path.data() + 1, path.size() - 1);
    len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size());
  } else if ((len = unix_path_addr(path, &addr)) == 0) {
    return -ENAMETOOLONG;
  }
  int fd = unix_dgram_socket(false);
  if (fd < 0) return fd;
  // Blocking as sd_notify is, but never for long: a receiver whose queue is
  // full must not stall the daemon's JS thread (and its children) for good.
  struct timeval tv{1, 0};
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int flags = 0;
#if defined(MSG_NOSIGNAL)
  flags |= MSG_NOSIGNAL;
#endif
  ssize_t n;
  do {
    n = sendto(fd, text.data(), text.size(), flags, reinterpret_cast<struct sockaddr*>(&addr), len);
  } while (n < 0 && errno == EINTR);
  int rc = n < 0 ? -errno : 0;
  close(fd);
  return rc;
}

ssize_t notify_read(int fd, uint8_t* buf, pid_t* pid) {
  *pid = 0;
  union {
    struct cmsghdr align;
#if defined(__linux__)
    char bytes[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
#else
    char bytes[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
#endif
  } control;
  struct iovec iov{buf, kNotifyMax};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  int flags = MSG_DONTWAIT;
#if defined(MSG_CMSG_CLOEXEC)
  // Passed descriptors must not leak into a child forked before we close them.
  flags |= MSG_CMSG_CLOEXEC;
#endif
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, flags);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  take_control(&msg, pid);
  // A cut datagram would be a wrong message: systemd drops them too.
  if (msg.msg_flags & MSG_TRUNC) return 0;
  return n;
}

}  // namespace fv
