// SPDX-License-Identifier: MIT
// Readiness backends behind one interface: epoll (Linux), kqueue (macOS/BSD)
// and a portable poll() one that builds everywhere. Used on the I/O thread only.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace fv {

enum Interest : uint32_t { kRead = 1, kWrite = 2 };

struct Ready {
  uint64_t token;
  uint32_t events;  // kRead / kWrite; hang-ups and errors count as both, so
                    // the owner's read() or write() sees the condition itself
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual int init() = 0;
  virtual int add(int fd, uint64_t token, uint32_t interest) = 0;
  virtual int modify(int fd, uint64_t token, uint32_t interest) = 0;
  virtual int remove(int fd) = 0;
  // Ask to be told when pid exits (a Ready carrying token). Returns -ENOTSUP
  // when this backend cannot watch processes: the loop then relies on SIGCHLD.
  virtual int watch_pid(pid_t pid, int pidfd, uint64_t token) = 0;
  virtual void unwatch_pid(pid_t pid, int pidfd) = 0;
  // True when watch_pid works here (decided once, in init()); false means
  // the loop must be told about exits through SIGCHLD.
  virtual bool watches_pids() const = 0;
  // True when watch_pid wants a pidfd from spawn.
  virtual bool wants_pidfd() const = 0;
  // Fills up to max entries; returns how many, or -errno. timeout_ms < 0
  // waits for ever.
  virtual int wait(Ready* out, int max, int timeout_ms) = 0;
};

// name: "default" (the best one this OS has), "epoll", "kqueue" or "poll".
// Returns nullptr for a name this build does not have.
std::unique_ptr<Backend> make_backend(const std::string& name);

std::unique_ptr<Backend> make_poll_backend();
#if defined(__linux__)
std::unique_ptr<Backend> make_epoll_backend();
#endif
// The BSDs and macOS; Linux + libkqueue is a test build (scripts/build-kqueue.sh).
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__) || \
    defined(FV_LIBKQUEUE)
#define FV_HAVE_KQUEUE 1
std::unique_ptr<Backend> make_kqueue_backend();
#endif

}  // namespace fv
