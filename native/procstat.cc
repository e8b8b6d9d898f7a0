// SPDX-License-Identifier: MIT
// Per-process figures from /proc (see procstat.h). JS thread.
#include "procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <dirent.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "spawn.h"

namespace fv {

#if defined(__linux__)
namespace {

// Descriptors the cache leaves free above the spawn reserve: a quarter of
// the limit, between 64 and 1024. Spawns and log files come first.
int cache_slack(rlim_t limit) {
  if (limit == RLIM_INFINITY || limit > 4096) return 1024;
  int q = static_cast<int>(limit / 4);
  return q < 64 ? 64 : q;
}

// How many descriptors this process could still open: the limit minus the
// open count (the size of /proc/self/fd, Linux >= 6.2), else the probe.
int free_fds(int want) {
  struct rlimit rl;
  struct stat st;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && stat("/proc/self/fd", &st) == 0 && st.st_size > 0) {
    if (rl.rlim_cur == RLIM_INFINITY) return want;
    long long left = static_cast<long long>(rl.rlim_cur) - static_cast<long long>(st.st_size);
    return left < 0 ? 0 : left > want ? want : static_cast<int>(left);
  }
  return fd_headroom(want);
}

ssize_t pread_all(int fd, char* buf, size_t size) {
  ssize_t n;
  do {
    n = pread(fd, buf, size, 0);
  } while (n < 0 && errno == EINTR);
  return n;
}

// The count of entries in /proc/PID/fd: its size on Linux >= 6.2, else a
// listing (twice the cost). NaN when it cannot be read (gone, no permission).
double count_fds(const char* dir) {
  struct stat st;
  if (stat(dir, &st) != 0) return NAN;
  if (st.st_size > 0) return static_cast<double>(st.st_size);
  DIR* d = opendir(dir);
  if (!d) return NAN;
  double n = 0;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(d);
  return n;
}

// Parses "pid (comm) state ppid ... utime stime ... num_threads ... rss ...".
// comm may hold spaces and parentheses: the fields start after the last ')'.
bool parse_stat(char* line, size_t len, double clk_tck, double page_size, double* o) {
  line[len] = '\0';
  char* p = strrchr(line, ')');
  if (!p) return false;
  p++;
  // Field 3 (state) is index 0 here; utime 11, stime 12, threads 17, rss 21.
  double v[22];
  for (int i = 0; i < 22; i++) {
    while (*p == ' ') p++;
    if (!*p) return false;
    if (i == 0) {
      while (*p && *p != ' ') p++;  // the state letter
      v[0] = 0;
      continue;
    }
    char* end;
    long long x = strtoll(p, &end, 10);
    if (end == p) return false;
    v[i] = static_cast<double>(x);
    p = end;
  }
  o[kStatCpuSeconds] = (v[11] + v[12]) / clk_tck;
  o[kStatThreads] = v[17];
  o[kStatRssBytes] = v[21] * page_size;
  return true;
}

}  // namespace

ssize_t ProcStatReader::read_one(pid_t pid, char* buf, size_t size, bool cache, int* budget, double* fds) {
  char path[48];
  auto it = held_.find(pid);
  if (it != held_.end()) {
    ssize_t n = pread_all(it->second.stat, buf, size);
    if (n > 0) {
      struct stat st;
      if (it->second.fd_dir >= 0 && fstat(it->second.fd_dir, &st) == 0 && st.st_size > 0) {
        *fds = static_cast<double>(st.st_size);
      } else {
        snprintf(path, sizeof path, "/proc/%d/fd", static_cast<int>(pid));
        *fds = count_fds(path);
      }
      return n;
    }
    // ESRCH: reaped since; a new process may have the pid now. Open anew.
    release(it->second);
    held_.erase(it);
  }
  snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = pread_all(fd, buf, size);
  snprintf(path, sizeof path, "/proc/%d/fd", static_cast<int>(pid));
  if (n > 0) *fds = count_fds(path);
  if (cache && n > 0 && *budget > 0) {
    Held h;
    h.stat = fd;
    --*budget;
    // The O_PATH handle only where its size is the count (Linux >= 6.2).
    if (*budget > 0 && *fds > 0) {
      struct stat st;
      h.fd_dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (h.fd_dir >= 0 && (fstat(h.fd_dir, &st) != 0 || st.st_size <= 0)) {
        close(h.fd_dir);
        h.fd_dir = -1;
      }
      if (h.fd_dir >= 0) --*budget;
    }
    held_.emplace(pid, h);
  } else {
    close(fd);
  }
  return n;
}

void ProcStatReader::read(const int32_t* pids, size_t n, double* out, bool cache) {
  static const double clk_tck = [] {
    long v = sysconf(_SC_CLK_TCK);
    return v > 0 ? static_cast<double>(v) : 100.0;
  }();
  static const double page_size = [] {
    long v = sysconf(_SC_PAGESIZE);
    return v > 0 ? static_cast<double>(v) : 4096.0;
  }();

  // New descriptors for the cache: counted once per call, and only when some
  // pid has none yet (a steady scrape asks nothing).
  int budget = 0;
  if (cache) {
    int need = 0;
    for (size_t i = 0; i < n; i++)
      if (pids[i] > 0 && held_.find(pids[i]) == held_.end()) need += 2;
    if (need > 0) {
      struct rlimit rl;
      int slack = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? cache_slack(rl.rlim_cur) : 1024;
      int keep = fd_reserve() + slack;
      int room = free_fds(keep + need) - keep;
      if (room < 0) clear();  // short of descriptors: give the cache back
      budget = room > 0 ? room : 0;
    }
  }

  char buf[1024];  // a stat line is ~300 bytes; comm is at most 64
  for (size_t i = 0; i < n; i++) {
    double* o = out + i * kProcStatFields;
    for (int f = 0; f < kProcStatFields; f++) o[f] = NAN;
    pid_t pid = pids[i];
    if (pid <= 0) continue;
    double fds = NAN;
    ssize_t len = read_one(pid, buf, sizeof buf - 1, cache, &budget, &fds);
    if (len <= 0 || !parse_stat(buf, static_cast<size_t>(len), clk_tck, page_size, o)) continue;
    o[kStatOpenFds] = fds;
  }
}

void ProcStatReader::release(const Held& h) {
  close(h.stat);
  if (h.fd_dir >= 0) close(h.fd_dir);
}

void ProcStatReader::forget(pid_t pid) {
  auto it = held_.find(pid);
  if (it == held_.end()) return;
  release(it->second);
  held_.erase(it);
}

void ProcStatReader::clear() {
  for (auto& [pid, h] : held_) release(h);
  held_.clear();
}

size_t ProcStatReader::cached() const {
  size_t n = 0;
  for (auto& [pid, h] : held_) n += h.fd_dir >= 0 ? 2 : 1;
  return n;
}

#else  // not Linux: no /proc to read

void ProcStatReader::read(const int32_t*, size_t n, double* out, bool) {
  for (size_t i = 0; i < n * kProcStatFields; i++) out[i] = NAN;
}
void ProcStatReader::forget(pid_t) {}
void ProcStatReader::clear() {}
size_t ProcStatReader::cached() const { return 0; }
void ProcStatReader::release(const Held&) {}
ssize_t ProcStatReader::read_one(pid_t, char*, size_t, bool, int*, double*) { return -1; }

#endif

}  // namespace fv
