// SPDX-License-Identifier: MIT
// cgroups (see cgroup.h). JS thread.
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>

namespace fv {
namespace {

int write_file(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  // cgroupfs takes a value in one write(); a short write would be a kernel
  // answer we cannot complete, so it counts as a failure.
  ssize_t n;
  do {
    n = write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int rc = n == static_cast<ssize_t>(value.size()) ? 0 : n < 0 ? -errno : -EIO;
  close(fd);
  return rc;
}

int mkdirs(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') return -EINVAL;
  for (size_t i = 1; i <= dir.size(); i++) {
    if (i != dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return -errno;
  }
  return 0;
}

int read_pids(const std::string& dir, std::vector<pid_t>* out) {
  std::string text;
  int rc = cgroup_read(dir + "/cgroup.procs", &text);
  if (rc < 0) return rc;
  out->clear();
  const char* p = text.c_str();
  while (*p) {
    char* end;
    long v = strtol(p, &end, 10);
    if (end == p) break;
    if (v > 1) out->push_back(static_cast<pid_t>(v));
    p = end;
    while (*p == '\n') p++;
  }
  return 0;
}

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// SIGKILL in rounds until a round finds nobody new: with the cgroup frozen a
// fork in flight ends up in it frozen and shows in the next round; without a
// freezer, a child forked between reading and killing is caught there too.
int kill_rounds(const std::string& dir, int rounds) {
  std::set<pid_t> sent;
  std::vector<pid_t> pids;
  for (int r = 0; r < rounds; r++) {
    int rc = read_pids(dir, &pids);
    if (rc < 0) return sent.empty() ? rc : static_cast<int>(sent.size());
    bool fresh = false;
    for (pid_t pid : pids) {
      if (!sent.insert(pid).second) continue;
      fresh = true;
      kill(pid, SIGKILL);  // ESRCH: it died meanwhile, as wanted
    }
    if (!fresh) break;
  }
  return static_cast<int>(sent.size());
}

}  // namespace

int cgroup_setup(const std::vector<std::string>& dirs, const std::vector<std::pair<std::string, std::string>>& writes,
                 std::string* failed) {
  for (const auto& d : dirs) {
    int rc = mkdirs(d);
    if (rc < 0) {
      *failed = d;
      return rc;
    }
  }
  for (const auto& w : writes) {
    int rc = write_file(w.first, w.second);
    if (rc < 0) {
      *failed = w.first;
      return rc;
    }
  }
  return 0;
}

int cgroup_signal(const std::string& dir, int sig) {
  std::vector<pid_t> pids;
  int rc = read_pids(dir, &pids);
  if (rc < 0) return rc;
  int n = 0;
  for (pid_t pid : pids)
    if (kill(pid, sig) == 0) n++;
  return n;
}

int cgroup_kill(const std::string& dir, CgroupKillHow how) {
  switch (how) {
    case CgroupKillHow::kV2: {
      // cgroup.kill (Linux 5.14) kills the whole subtree in the kernel, forks
      // in flight included: nothing can escape it.
      if (exists(dir + "/cgroup.kill")) return write_file(dir + "/cgroup.kill", "1");
      // Older v2: freeze first, so nothing forks while we read and kill.
      bool frozen = write_file(dir + "/cgroup.freeze", "1") == 0;
      int n = kill_rounds(dir, 16);
      // Killed tasks die once thawed; a frozen SIGKILLed task never would.
      if (frozen) write_file(dir + "/cgroup.freeze", "0");
      return n;
    }
    case CgroupKillHow::kV1Freezer: {
      // FROZEN is asked for, not waited for (FREEZING may last a moment):
      // tasks not frozen yet get their SIGKILL all the same, and a child
      // forked meanwhile is frozen on creation and seen in the next round.
      bool frozen = write_file(dir + "/freezer.state", "FROZEN") == 0;
      int n = kill_rounds(dir, 16);
      if (frozen) write_file(dir + "/freezer.state", "THAWED");
      return n;
    }
    case CgroupKillHow::kV1:
      return kill_rounds(dir, 16);
  }
  return -EINVAL;
}

int cgroup_read(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return -err;
    }
    if (n == 0 || out->size() > 64 * 1024) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return 0;
}

int cgroup_remove(const std::string& dir) { return rmdir(dir.c_str()) == 0 ? 0 : -errno; }

}  // namespace fv
