// SPDX-License-Identifier: MIT
// Per-process figures from /proc (Linux), many pids in one call: CPU time,
// resident memory and threads from /proc/PID/stat (one read), open fds from
// the size of /proc/PID/fd (Linux >= 6.2; a listing where the size is 0).
// What src/process/stats.ts asks for every scrape of /metrics and every
// getAllProcessStats. JS thread only.
//
// An optional cache keeps two descriptors per pid: /proc/PID/stat, re-read
// with pread (half the cost of open + read + close), and /proc/PID/fd as an
// O_PATH handle whose fstat gives the count (half the cost of stat by path).
// An open /proc file stays bound to its process: once that process is
// reaped, reads fail with ESRCH, so a reused pid is never read through an
// old descriptor. The cache opens new descriptors only while plenty stay free
// above the spawn reserve (spawn.h fd_reserve), and gives them all back when
// that runs short; without room it opens, reads and closes.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <unordered_map>

namespace fv {

// Figures per pid in the output, in this order; NaN where unreadable (no such
// process, no permission, not Linux).
enum ProcStatField : int {
  kStatCpuSeconds = 0,  // utime + stime, seconds (not its children's)
  kStatRssBytes = 1,    // resident set, bytes
  kStatThreads = 2,
  kStatOpenFds = 3,
  kProcStatFields = 4,
};

class ProcStatReader {
 public:
  ~ProcStatReader() { clear(); }

  // Fills out[i * kProcStatFields + field] for each of the n pids. With
  // cache, keeps (or opens) a descriptor per pid as described above.
  void read(const int32_t* pids, size_t n, double* out, bool cache);

  // The process is gone (reaped): close its cached descriptor, if any.
  void forget(pid_t pid);
  // Close every cached descriptor.
  void clear();
  // Descriptors held now.
  size_t cached() const;

 private:
  struct Held {
    int stat = -1;    // /proc/PID/stat
    int fd_dir = -1;  // /proc/PID/fd, O_PATH; -1 when there was no room for it
  };
  // One stat line into buf (its length, or -1) and the fd count into *fds.
  ssize_t read_one(pid_t pid, char* buf, size_t size, bool cache, int* budget, double* fds);
  static void release(const Held& h);
  std::unordered_map<pid_t, Held> held_;
};

}  // namespace fv
