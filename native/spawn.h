// SPDX-License-Identifier: MIT
// fork/exec of one child with everything prepared before fork.
// Runs on the spawn thread (spawner.h), or on the JS thread for the
// synchronous spawn(); child_exec() runs in the forked child and makes only
// async-signal-safe calls.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "errors.h"

namespace fv {

enum class StdioMode : int32_t {
  kPipe = 0,     // a pipe whose read end goes to the I/O thread
  kDevNull = 1,  // /dev/null: nobody wants the bytes, so the pump never sees them
  kStdout = 2,   // stderr only: the same pipe as stdout (redirect_stderr)
};

enum class ProcessGroup : int32_t {
  kInherit = 0,  // stay in the daemon's process group
  kNewGroup = 1, // setpgid(0, 0), as supervisord's child does
  kNewSession = 2,
};

struct SpawnPlan {
  std::string file;                // an explicit path; PATH search is the caller's
  std::vector<std::string> argv;
  std::vector<std::string> envp;   // the full environment, "K=V"
  std::string cwd;                 // empty: inherit
  int umask = -1;                  // -1: inherit
  bool set_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;       // supplementary groups (initgroups equivalent)
  ProcessGroup pgroup = ProcessGroup::kNewGroup;
  StdioMode stdout_mode = StdioMode::kPipe;
  StdioMode stderr_mode = StdioMode::kPipe;
  // >= 0: this descriptor (close-on-exec in the daemon, >= 3) becomes the
  // child's fd 0 instead of a stdin pipe; SpawnResult::stdin_fd is then -1.
  // An [fcgi-program:x]'s listening socket.
  int stdin_fd = -1;
  bool want_pidfd = false;         // Linux: also return a pidfd for the child
  // Linux cgroups: the child is in these before exec. cgroup_procs: one
  // cgroup.procs file per hierarchy, which the child writes "0" into
  // between fork and exec. cgroup_dir (v2 only): the leaf directory for
  // clone3(CLONE_INTO_CGROUP), tried first; the writes are the fallback.
  std::vector<std::string> cgroup_procs;
  std::string cgroup_dir;
};

struct SpawnResult {
  pid_t pid = -1;
  SpawnStage stage = SpawnStage::kNone;  // where it failed, when it failed
  int stdin_fd = -1;   // write end, non-blocking, close-on-exec
  int stdout_fd = -1;  // read end, non-blocking, close-on-exec (-1 unless kPipe)
  int stderr_fd = -1;  // read end (-1 unless kPipe)
  int pidfd = -1;
};

// Told of every fork, so that a reaper sweeping with waitpid(-1) can tell a
// child that exists but is not registered yet from an orphan (io_loop.cc).
class ForkObserver {
 public:
  virtual ~ForkObserver() = default;
  virtual void before_fork() = 0;
  // pid -1: the fork failed. Called right after clone/fork returns.
  virtual void after_fork(pid_t pid) = 0;
  // The child never reached exec and spawn_child reaped it itself.
  virtual void reaped_by_spawn(pid_t pid) = 0;
};

// Returns 0 and fills *out, or -errno with out->stage set. On failure no
// process is left behind: a child that failed before exec has been reaped.
// Thread-safe: the spawn thread and the JS thread may both call it.
int spawn_child(const SpawnPlan& plan, SpawnResult* out, ForkObserver* observer = nullptr);

// Linux: takes the spawn slots (spawn.cc, SpawnSlots) while the descriptor
// table is still small; the addon's load calls it. Idempotent; without it
// (or on other systems) every child gets a whole copy of the table.
void reserve_spawn_slots();
// Tests: on (the default) or off, to run the plain-copy path too; whether
// children share the table now.
bool spawn_slots_enable(bool on);

// Descriptors kept free for the daemon's own use (control connections, log
// files): a spawn or a log file open that would leave fewer than this many
// fails with EMFILE instead. 0 (the default) turns the check off.
void set_fd_reserve(int n);
int fd_reserve();
// How many more descriptors this process could open now, counting up to
// `want` (probed by duplicating, then closing; approximate under concurrency).
int fd_headroom(int want);
// True when opening `need` more descriptors would eat into the reserve.
bool fds_short(int need);
// A new descriptor of the daemon's, moved above 0-2 (close-on-exec) if it
// landed there: a daemon started with those closed would otherwise hand it to
// a child as its stdin, stdout or stderr. The descriptor, or -errno (fd is
// closed then).
int fd_above_stdio(int fd);

}  // namespace fv
