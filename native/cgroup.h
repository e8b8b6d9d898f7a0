// SPDX-License-Identifier: MIT
// cgroups (Linux): make a process's cgroup and write its limits, signal or
// kill everything in it, read its files, remove it. Which files and values is
// decided in TS (src/process/cgroups.ts); placement of the child happens in
// spawn.cc between fork and exec. JS thread only: cgroupfs files live in
// kernel memory, so every call here answers at once.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace fv {

enum class CgroupKillHow : int {
  kV2 = 0,        // cgroup.kill when the kernel has it (5.14), else freeze + kill + thaw
  kV1Freezer = 1, // freezer.state FROZEN, SIGKILL each pid, THAWED
  kV1 = 2,        // no freezer: SIGKILL each pid, a few rounds
};

// mkdir -p of every dir, then each (path, value) written in order. On failure
// returns -errno and sets *failed to the path (a dir or a file) that failed.
int cgroup_setup(const std::vector<std::string>& dirs, const std::vector<std::pair<std::string, std::string>>& writes,
                 std::string* failed);

// Sends sig to every pid listed in dir/cgroup.procs; returns how many, or -errno.
int cgroup_signal(const std::string& dir, int sig);

// SIGKILLs everything in the cgroup. dir is the leaf whose cgroup.procs
// lists the processes (v1: the freezer's leaf for kV1Freezer). Returns how
// many processes were signalled (0 for cgroup.kill, which does not say), or -errno.
int cgroup_kill(const std::string& dir, CgroupKillHow how);

// Reads a small cgroup file (up to 64 KiB). 0 or -errno.
int cgroup_read(const std::string& path, std::string* out);

// rmdir; -EBUSY while processes are left in it.
int cgroup_remove(const std::string& dir);

}  // namespace fv
