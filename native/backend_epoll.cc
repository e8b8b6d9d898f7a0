// SPDX-License-Identifier: MIT
// epoll backend (Linux), level-triggered; process exits arrive through pidfds.
// Runs on the I/O thread.
#include <errno.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "backend.h"

namespace fv {
namespace {

uint32_t to_epoll(uint32_t interest) {
  return ((interest & kRead) ? EPOLLIN : 0u) | ((interest & kWrite) ? EPOLLOUT : 0u);
}

class EpollBackend final : public Backend {
 public:
  ~EpollBackend() override {
    if (ep_ >= 0) close(ep_);
  }
  const char* name() const override { return "epoll"; }
  int init() override {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) return -errno;
#if defined(SYS_pidfd_open)
    // pidfd_open arrived in Linux 5.3; older kernels fall back to SIGCHLD.
    int probe = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
    if (probe >= 0) {
      pidfds_ = true;
      close(probe);
    }
#endif
    return 0;
  }
  int add(int fd, uint64_t token, uint32_t interest) override { return ctl(EPOLL_CTL_ADD, fd, token, interest); }
  int modify(int fd, uint64_t token, uint32_t interest) override { return ctl(EPOLL_CTL_MOD, fd, token, interest); }
  int remove(int fd) override { return epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr) == 0 ? 0 : -errno; }
  int watch_pid(pid_t, int pidfd, uint64_t token) override {
    if (pidfd < 0) return -ENOTSUP;  // kernel without pidfd_open: SIGCHLD
    return add(pidfd, token, kRead);
  }
  void unwatch_pid(pid_t, int pidfd) override {
    if (pidfd >= 0) remove(pidfd);
  }
  bool watches_pids() const override { return pidfds_; }
  bool wants_pidfd() const override { return pidfds_; }
  int wait(Ready* out, int max, int timeout_ms) override {
    if (static_cast<int>(buf_.size()) < max) buf_.resize(static_cast<size_t>(max));
    int n = epoll_wait(ep_, buf_.data(), max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
      uint32_t ev = buf_[i].events;
      uint32_t r = 0;
      if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) r |= kRead;
      if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) r |= kWrite;
      out[i] = Ready{buf_[i].data.u64, r};
    }
    return n;
  }

 private:
  int ctl(int op, int fd, uint64_t token, uint32_t interest) {
    struct epoll_event ev {};
    ev.events = to_epoll(interest);
    ev.data.u64 = token;
    return epoll_ctl(ep_, op, fd, &ev) == 0 ? 0 : -errno;
  }
  int ep_ = -1;
  bool pidfds_ = false;
  std::vector<struct epoll_event> buf_;
};

}  // namespace

std::unique_ptr<Backend> make_epoll_backend() { return std::make_unique<EpollBackend>(); }

}  // namespace fv
