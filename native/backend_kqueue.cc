// SPDX-License-Identifier: MIT
// kqueue backend (macOS, FreeBSD, OpenBSD, NetBSD); process exits arrive as
// EVFILT_PROC NOTE_EXIT. Runs on the I/O thread. CI builds and tests it on
// Linux against libkqueue (scripts/build-kqueue.sh): the code, not a BSD
// kernel; see README "Platforms".
#include <errno.h>
#include <fcntl.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include <unordered_map>
#include <vector>

#include "backend.h"

namespace fv {
namespace {

class KqueueBackend final : public Backend {
 public:
  ~KqueueBackend() override {
    if (kq_ >= 0) close(kq_);
  }
  const char* name() const override { return "kqueue"; }
  int init() override {
    kq_ = kqueue();
    if (kq_ < 0) return -errno;
    fcntl(kq_, F_SETFD, FD_CLOEXEC);  // kqueue fds are not inherited, but be explicit
    return 0;
  }
  int add(int fd, uint64_t token, uint32_t interest) override {
    interest_[fd] = 0;
    return modify(fd, token, interest);
  }
  int modify(int fd, uint64_t token, uint32_t interest) override {
    uint32_t old = interest_[fd];
    struct kevent ch[2];
    int n = 0;
    void* udata = reinterpret_cast<void*>(static_cast<uintptr_t>(token));
    if ((interest & kRead) && !(old & kRead)) EV_SET(&ch[n++], fd, EVFILT_READ, EV_ADD, 0, 0, udata);
    if (!(interest & kRead) && (old & kRead)) EV_SET(&ch[n++], fd, EVFILT_READ, EV_DELETE, 0, 0, udata);
    if ((interest & kWrite) && !(old & kWrite)) EV_SET(&ch[n++], fd, EVFILT_WRITE, EV_ADD, 0, 0, udata);
    if (!(interest & kWrite) && (old & kWrite)) EV_SET(&ch[n++], fd, EVFILT_WRITE, EV_DELETE, 0, 0, udata);
    interest_[fd] = interest;
    if (n == 0) return 0;
    return kevent(kq_, ch, n, nullptr, 0, nullptr) < 0 ? -errno : 0;
  }
  int remove(int fd) override {
    int rc = modify(fd, 0, 0);
    interest_.erase(fd);
    return rc;
  }
  int watch_pid(pid_t pid, int, uint64_t token) override {
    struct kevent ch;
    EV_SET(&ch, pid, EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0,
           reinterpret_cast<void*>(static_cast<uintptr_t>(token)));
    // ESRCH: already exited; the loop's waitpid check right after handles it.
    return kevent(kq_, &ch, 1, nullptr, 0, nullptr) < 0 ? -errno : 0;
  }
  void unwatch_pid(pid_t pid, int) override {
    struct kevent ch;
    EV_SET(&ch, pid, EVFILT_PROC, EV_DELETE, NOTE_EXIT, 0, nullptr);
    kevent(kq_, &ch, 1, nullptr, 0, nullptr);
  }
  bool watches_pids() const override { return true; }
  bool wants_pidfd() const override { return false; }
  int wait(Ready* out, int max, int timeout_ms) override {
    if (static_cast<int>(buf_.size()) < max) buf_.resize(static_cast<size_t>(max));
    struct timespec ts, *tp = nullptr;
    if (timeout_ms >= 0) {
      ts.tv_sec = timeout_ms / 1000;
      ts.tv_nsec = (timeout_ms % 1000) * 1000000L;
      tp = &ts;
    }
    int n = kevent(kq_, nullptr, 0, buf_.data(), max, tp);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
      uint32_t r = 0;
      if (buf_[i].filter == EVFILT_READ || buf_[i].filter == EVFILT_PROC) r |= kRead;
      if (buf_[i].filter == EVFILT_WRITE) r |= kWrite;
      if (buf_[i].flags & (EV_EOF | EV_ERROR)) r |= kRead | kWrite;
      out[i] = Ready{static_cast<uint64_t>(reinterpret_cast<uintptr_t>(buf_[i].udata)), r};
    }
    return n;
  }

 private:
  int kq_ = -1;
  std::vector<struct kevent> buf_;
  std::unordered_map<int, uint32_t> interest_;
};

}  // namespace

std::unique_ptr<Backend> make_kqueue_backend() { return std::make_unique<KqueueBackend>(); }

}  // namespace fv
