// SPDX-License-Identifier: MIT
// Portable poll() backend: builds on every Unix and can be forced on Linux
// (FASTVISOR_BACKEND=poll) so the portable path is tested there. It cannot
// watch processes; the loop reaps on SIGCHLD instead. Runs on the I/O thread.
#include <errno.h>
#include <poll.h>

#include <unordered_map>
#include <vector>

#include "backend.h"

namespace fv {
namespace {

short to_poll(uint32_t interest) {
  return static_cast<short>(((interest & kRead) ? POLLIN : 0) | ((interest & kWrite) ? POLLOUT : 0));
}

class PollBackend final : public Backend {
 public:
  const char* name() const override { return "poll"; }
  int init() override { return 0; }
  int add(int fd, uint64_t token, uint32_t interest) override {
    if (index_.count(fd)) return -EEXIST;
    index_[fd] = fds_.size();
    fds_.push_back(pollfd{fd, to_poll(interest), 0});
    tokens_.push_back(token);
    return 0;
  }
  int modify(int fd, uint64_t token, uint32_t interest) override {
    auto it = index_.find(fd);
    if (it == index_.end()) return -ENOENT;
    fds_[it->second].events = to_poll(interest);
    tokens_[it->second] = token;
    return 0;
  }
  int remove(int fd) override {
    auto it = index_.find(fd);
    if (it == index_.end()) return -ENOENT;
    size_t i = it->second, last = fds_.size() - 1;
    index_.erase(it);
    if (i != last) {
      fds_[i] = fds_[last];
      tokens_[i] = tokens_[last];
      index_[fds_[i].fd] = i;
    }
    fds_.pop_back();
    tokens_.pop_back();
    return 0;
  }
  int watch_pid(pid_t, int, uint64_t) override { return -ENOTSUP; }
  void unwatch_pid(pid_t, int) override {}
  bool watches_pids() const override { return false; }
  bool wants_pidfd() const override { return false; }
  int wait(Ready* out, int max, int timeout_ms) override {
    int n = poll(fds_.data(), static_cast<nfds_t>(fds_.size()), timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    int k = 0;
    for (size_t i = 0; i < fds_.size() && k < max && n > 0; i++) {
      short re = fds_[i].revents;
      if (!re) continue;
      n--;
      uint32_t r = 0;
      if (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) r |= kRead;
      if (re & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) r |= kWrite;
      out[k++] = Ready{tokens_[i], r};
    }
    return k;
  }

 private:
  std::vector<pollfd> fds_;
  std::vector<uint64_t> tokens_;
  std::unordered_map<int, size_t> index_;
};

}  // namespace

std::unique_ptr<Backend> make_poll_backend() { return std::make_unique<PollBackend>(); }

}  // namespace fv
