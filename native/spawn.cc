// SPDX-License-Identifier: MIT
// fork/exec (clone+vfork semantics on Linux). Parent side on the JS thread;
// child_exec() in the child.
// The shape follows libuv's uv_spawn: everything that allocates happens before
// fork, and exec failure comes back through a close-on-exec pipe.
#include "spawn.h"

#include "mono_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#endif

namespace fv {
namespace {

std::atomic<int> g_fd_reserve{0};
// The most descriptors one spawn holds at once in the parent: three pipes,
// the error pipe, /dev/null, and the pidfd.
constexpr int kSpawnFds = 8;

struct ExecFailure {
  int32_t stage;
  int32_t err;
};

// O_CLOEXEC everywhere: another thread may fork (Node's child_process, or this
// function again) while these fds exist, and none of them may leak into that
// child. fds 0-2 are also avoided: if the daemon runs with them closed, a pipe
// could land on 1 and dup2(fd, 1) in the child would then be a no-op that
// keeps FD_CLOEXEC, so the child would start without a stdout.
int make_pipe(int fds[2]) {
  int raw[2];
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
  if (pipe2(raw, O_CLOEXEC) != 0) return -errno;
#else
  if (pipe(raw) != 0) return -errno;
  fcntl(raw[0], F_SETFD, FD_CLOEXEC);
  fcntl(raw[1], F_SETFD, FD_CLOEXEC);
#endif
  for (int i = 0; i < 2; i++) {
    raw[i] = fd_above_stdio(raw[i]);
    if (raw[i] < 0) {
      close(raw[1 - i]);
      return raw[i];
    }
  }
  fds[0] = raw[0];
  fds[1] = raw[1];
  return 0;
}

int open_devnull() {
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  return fd < 0 ? -errno : fd_above_stdio(fd);
}

void close_fd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

void set_nonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

// --- child side: async-signal-safe calls only from here to execve ---------

// On Linux the child shares the parent's memory (see spawn_child), so glibc's
// setuid()/setgid()/setgroups() must not be used: in a multithreaded process
// they broadcast the change to every thread of the *parent* (glibc's setxid
// signal). The raw system calls change only the calling task, which is all a
// child that is about to exec needs. Elsewhere the child is a real fork.
#if defined(__linux__)
int raw_setgroups(size_t n, const gid_t* groups) { return static_cast<int>(syscall(SYS_setgroups, n, groups)); }
int raw_setgid(gid_t gid) { return static_cast<int>(syscall(SYS_setresgid, gid, gid, gid)); }
int raw_setuid(uid_t uid) { return static_cast<int>(syscall(SYS_setresuid, uid, uid, uid)); }
#else
int raw_setgroups(size_t n, const gid_t* groups) { return setgroups(static_cast<int>(n), groups); }
int raw_setgid(gid_t gid) { return setgid(gid); }
int raw_setuid(uid_t uid) { return setuid(uid); }
#endif

[[noreturn]] void child_fail(int errfd, SpawnStage stage, int err) {
  ExecFailure f{static_cast<int32_t>(stage), err};
  // A short write cannot happen on a pipe for 8 bytes (< PIPE_BUF).
  ssize_t r;
  do {
    r = write(errfd, &f, sizeof f);
  } while (r < 0 && errno == EINTR);
  _exit(127);
}

void close_other_fds(int keep, int max_fd) {
#if defined(__linux__) && defined(SYS_close_range)
  // close_range is one syscall instead of thousands of close() calls.
  bool ok = true;
  if (keep > 3 && syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u) != 0) ok = false;
  if (ok && syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0) return;
#endif
  for (int fd = 3; fd < max_fd; fd++)
    if (fd != keep) close(fd);
}

#if defined(__linux__)
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
// A child born with CLONE_FILES shares the daemon's descriptor table; before
// it changes anything there it takes a table of its own holding only the
// descriptors below `bound` (the spawn slots, see SpawnSlots): close_range
// with CLOSE_RANGE_UNSHARE copies just those when the range runs to the end.
// Where close_range is missing or filtered (seccomp), a whole copy instead:
// the unshare that a plain clone would have done.
bool own_table(int bound) {
  return syscall(SYS_close_range, static_cast<unsigned>(bound), ~0u, CLOSE_RANGE_UNSHARE) == 0 ||
         syscall(SYS_unshare, CLONE_FILES) == 0;
}

void take_own_table(int bound, int errfd) {
  if (!own_table(bound)) child_fail(errfd, SpawnStage::kDup2, errno);
}
#endif

[[noreturn]] void child_exec(const SpawnPlan& plan, char* const* argv, char* const* envp, const int* cg_fds,
                             size_t n_cg, int stdin_r, int stdout_w, int stderr_w, int errfd, int max_fd,
                             int shared_table_bound) {
  // Dispositions first, while every signal is still blocked (the parent
  // blocked them before fork): a signal delivered now would otherwise run
  // Node's handler in this copy of the daemon and write into libuv's signal
  // pipe, which the parent shares. Ignored signals also survive exec, and
  // Node ignores SIGPIPE, so without this every child would ignore SIGPIPE.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);  // EINVAL for the libc-reserved ones: fine
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
#if defined(__linux__)
  if (shared_table_bound > 0) take_own_table(shared_table_bound, errfd);
#else
  (void)shared_table_bound;
#endif

  // Into the program's cgroups before anything else, so that every process
  // it ever starts is born there and its limits hold from the first
  // instruction of the program. "0" means the writing process; the fds were
  // opened before fork, so this is one write(2) each. n_cg is 0 when
  // clone3(CLONE_INTO_CGROUP) placed the child already.
  for (size_t i = 0; i < n_cg; i++) {
    ssize_t r;
    do {
      r = write(cg_fds[i], "0", 1);
    } while (r < 0 && errno == EINTR);
    if (r != 1) child_fail(errfd, SpawnStage::kCgroup, r < 0 ? errno : EIO);
  }

  if (plan.pgroup == ProcessGroup::kNewSession) {
    if (setsid() < 0) child_fail(errfd, SpawnStage::kSetpgid, errno);
  } else if (plan.pgroup == ProcessGroup::kNewGroup) {
    if (setpgid(0, 0) < 0) child_fail(errfd, SpawnStage::kSetpgid, errno);
  }

  // All sources are >= 3 (make_pipe; a given stdin_fd is too), so no dup2 can
  // overwrite another source.
  if (dup2(stdin_r, 0) < 0) child_fail(errfd, SpawnStage::kDup2, errno);
  if (dup2(stdout_w, 1) < 0) child_fail(errfd, SpawnStage::kDup2, errno);
  if (dup2(stderr_w, 2) < 0) child_fail(errfd, SpawnStage::kDup2, errno);
  close_other_fds(errfd, max_fd);

  if (plan.set_user) {
    // Groups before gid before uid: once the uid is dropped the others can't
    // be changed any more.
    if (raw_setgroups(plan.groups.size(), plan.groups.data()) < 0)
      child_fail(errfd, SpawnStage::kSetgroups, errno);
    if (raw_setgid(plan.gid) < 0) child_fail(errfd, SpawnStage::kSetgid, errno);
    if (raw_setuid(plan.uid) < 0) child_fail(errfd, SpawnStage::kSetuid, errno);
  }
  if (plan.umask >= 0) umask(static_cast<mode_t>(plan.umask));
  if (!plan.cwd.empty() && chdir(plan.cwd.c_str()) < 0)
    child_fail(errfd, SpawnStage::kChdir, errno);

  execve(plan.file.c_str(), argv, envp);
  child_fail(errfd, SpawnStage::kExec, errno);
}

struct ChildArgs {
  const SpawnPlan* plan;
  char* const* argv;
  char* const* envp;
  const int* cg_fds;
  size_t n_cg;
  int cg_dirfd;  // v2 leaf for clone3(CLONE_INTO_CGROUP), or -1
  bool cg_error; // set when clone3 failed because of the cgroup
  int stdin_r, stdout_w, stderr_w, errfd, max_fd;
  int shared_table_bound;  // > 0: clone with CLONE_FILES, the child unshares below this
};

#if defined(__linux__)
int child_entry(void* p) {
  auto* a = static_cast<ChildArgs*>(p);
  child_exec(*a->plan, a->argv, a->envp, a->cg_fds, a->n_cg, a->stdin_r, a->stdout_w, a->stderr_w, a->errfd, a->max_fd,
             a->shared_table_bound);
}

// The top of this thread's child stack (the stack grows down on every
// architecture Linux/Node runs on here), or null. One per spawning thread,
// kept: CLONE_VFORK returns only once the child has exec'd or died, so it is
// free again by then, and an munmap per spawn would interrupt every thread of
// the daemon (TLB shootdown).
char* child_stack_top() {
  constexpr size_t kStackSize = 64 * 1024;
  thread_local char* stack = nullptr;
  if (!stack) {
    void* m = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    stack = static_cast<char*>(m);
  }
  return stack + kStackSize;
}

// clone(CLONE_VM | CLONE_VFORK), as glibc's posix_spawn does: the child runs on
// its own small stack in the parent's address space and the parent thread
// waits until it has exec'd or died. fork() of a daemon with a big heap copies
// every page-table entry first, which made spawning 4x slower than a C
// supervisor at 500 programs. The child only makes system calls (child_exec),
// touches nothing of the parent's memory but its own arguments, and the
// parent blocked every signal before, so no handler of the parent runs in it.
#if defined(SYS_clone3)
// The kernel's struct clone_args (linux/sched.h), up to `cgroup` (v2, 5.7).
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
#endif

pid_t start_child(ChildArgs* args) {
#if defined(SYS_clone3)
  if (args->cg_dirfd >= 0) {
    // clone3(CLONE_INTO_CGROUP): the child is born in its cgroup, so it
    // never runs a single instruction outside. Without CLONE_VM (a raw
    // clone3 cannot hand the child a new stack without assembly): the child
    // gets a copy of the address space, as with fork, and returns here on
    // its copy of this stack. CLONE_VFORK still holds the parent until exec.
    CloneArgs ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_VFORK | kCloneIntoCgroup | (args->shared_table_bound > 0 ? CLONE_FILES : 0);
    ca.exit_signal = SIGCHLD;
    ca.cgroup = static_cast<uint64_t>(args->cg_dirfd);
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0) {
      child_exec(*args->plan, args->argv, args->envp, nullptr, 0, args->stdin_r, args->stdout_w, args->stderr_w,
                 args->errfd, args->max_fd, args->shared_table_bound);
    }
    if (pid > 0) return static_cast<pid_t>(pid);
    // ENOSYS / E2BIG / EINVAL: a kernel without clone3 or without
    // CLONE_INTO_CGROUP; the child writes itself into cgroup.procs instead.
    // Anything else (EBUSY, EACCES…) is the cgroup's answer: report it.
    if (errno != ENOSYS && errno != E2BIG && errno != EINVAL) {
      args->cg_error = true;
      return -1;
    }
  }
#endif
  char* stack = child_stack_top();
  if (!stack) return -1;
  int flags = CLONE_VM | CLONE_VFORK | SIGCHLD | (args->shared_table_bound > 0 ? CLONE_FILES : 0);
  return clone(child_entry, stack, flags, args);
}
#else
pid_t start_child(ChildArgs* args) {
  pid_t pid = fork();
  if (pid == 0)
    child_exec(*args->plan, args->argv, args->envp, args->cg_fds, args->n_cg, args->stdin_r, args->stdout_w, args->stderr_w, args->errfd,
               args->max_fd, 0);
  return pid;
}
#endif

#if defined(__linux__)
// Spawn slots. A child made by clone() gets a copy of the daemon's descriptor
// table and closes it again before exec: every log file and every pipe of
// every other child, each close a trip through the kernel's flush path. With
// thousands of programs that was most of a start-up's time, and it grew with
// the number already running (2000 programs: ~0.4 ms of the ~1 ms a spawn
// took). So the child shares the table (CLONE_FILES) and keeps a copy of only
// its first few entries (take_own_table); the descriptors it needs are put
// there, into slots taken at load time while the table was still small: each
// slot holds /dev/null, a spawn dup3()s its pipe ends over them and puts
// /dev/null back after the clone. Where a trial child cannot take a table of
// its own (kernels before 5.9, or close_range and unshare both refused by a
// seccomp filter, as in old container runtimes) every child keeps the plain
// copy.
int trial_child(void* bound) { _exit(own_table(static_cast<int>(reinterpret_cast<intptr_t>(bound))) ? 0 : 1); }

// A child born sharing the table, asked to take its own as take_own_table
// does; it exits at once. Before the I/O loop (and its reaper) runs.
bool child_can_unshare(int bound) {
  char* stack = child_stack_top();
  if (!stack) return false;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(trial_child, stack, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD,
                    reinterpret_cast<void*>(static_cast<intptr_t>(bound)));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  int status = 0;
  bool ok = pid > 0;
  if (ok) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return ok;
}

class SpawnSlots {
 public:
  static constexpr int kCount = 8;

  // Called once at load, while the table is small.
  void reserve() {
    int null_fd = open_devnull();
    if (null_fd < 0) return;
    int fds[kCount];
    for (int i = 0; i < kCount; i++) {
      fds[i] = fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
      if (fds[i] < 0) {
        for (int j = 0; j < i; j++) close(fds[j]);
        close(null_fd);
        return;
      }
    }
    int bound = 0;
    for (int i = 0; i < kCount; i++) bound = std::max(bound, fds[i] + 1);
    if (!child_can_unshare(bound)) {
      for (int i = 0; i < kCount; i++) close(fds[i]);
      close(null_fd);
      return;
    }
    null_ = null_fd;
    bound_ = bound;
    for (int i = 0; i < kCount; i++) slot_[i] = fds[i];
  }

  bool available() const { return bound_ > 0 && enabled_.load(std::memory_order_relaxed); }
  void set_enabled(bool on) { enabled_.store(on, std::memory_order_relaxed); }
  int bound() const { return bound_; }
  std::mutex& mutex() { return mu_; }

  // Under mutex(): the slot now holding a copy of fd, or -1 when no slot is
  // left or the dup fails (the caller then spawns without sharing).
  int place(int fd, int* used) {
    if (fd < 0) return fd;
    for (int i = 0; i < *used; i++)
      if (source_[i] == fd) return slot_[i];
    if (*used == kCount || dup3(fd, slot_[*used], O_CLOEXEC) < 0) return -1;
    source_[*used] = fd;
    return slot_[(*used)++];
  }

  // Under mutex(): /dev/null back into the slots (which closes the copies).
  void release(int used) {
    for (int i = 0; i < used; i++) {
      dup3(null_, slot_[i], O_CLOEXEC);
      source_[i] = -1;
    }
  }

 private:
  std::mutex mu_;
  std::atomic<bool> enabled_{true};
  int null_ = -1;
  int bound_ = 0;
  int slot_[kCount] = {};
  int source_[kCount] = {};
};

SpawnSlots g_slots;
#endif

}  // namespace

void reserve_spawn_slots() {
#if defined(__linux__)
  static std::once_flag once;
  std::call_once(once, [] { g_slots.reserve(); });
#endif
}

bool spawn_slots_enable(bool on) {
#if defined(__linux__)
  g_slots.set_enabled(on);
  return g_slots.available();
#else
  (void)on;
  return false;
#endif
}

void set_fd_reserve(int n) { g_fd_reserve.store(n < 0 ? 0 : n > 1024 ? 1024 : n, std::memory_order_relaxed); }
int fd_reserve() { return g_fd_reserve.load(std::memory_order_relaxed); }

int fd_headroom(int want) {
  if (want <= 0) return 0;
  if (want > 2048) want = 2048;
  std::vector<int> held;
  held.reserve(static_cast<size_t>(want));
  int base = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (base < 0) return (errno == EMFILE || errno == ENFILE) ? 0 : want;  // unknown: don't block
  held.push_back(base);
  while (static_cast<int>(held.size()) < want) {
    int fd = fcntl(base, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) break;
    held.push_back(fd);
  }
  int n = static_cast<int>(held.size());
  for (int fd : held) close(fd);
  return n;
}

int fd_above_stdio(int fd) {
  if (fd >= 3) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int err = errno;
  close(fd);
  return moved < 0 ? -err : moved;
}

// fds_short's probe opens and closes up to reserve + need descriptors, ~130
// system calls before every spawn and every log file: at 2000 programs more
// time than the opens themselves. So a probe that finds plenty of room looks
// further (kWideProbe) and leaves a budget that the next calls draw from for
// a short while; near the limit every call probes exactly, as before. What
// the rest of the daemon opens meanwhile is not drawn from the budget: it
// expires after kBudgetMs, and the reserve is a margin, not an account.
namespace {
constexpr int kWideProbe = 512;
constexpr int64_t kBudgetMs = 100;
std::mutex g_budget_mu;
int g_budget = 0;
int64_t g_budget_until = 0;
int64_t g_tight_until = 0;  // a wide probe found little room: exact probes until then
}  // namespace

bool fds_short(int need) {
  int reserve = fd_reserve();
  if (reserve == 0) return false;
  int want = reserve + need;
  std::lock_guard<std::mutex> lock(g_budget_mu);
  int64_t now = mono_ms();
  if (g_budget >= want && now < g_budget_until) {
    g_budget -= need;
    return false;
  }
  // Near the limit a wide probe would hold every free descriptor for a moment
  // (another thread's open could fail then): after one finds little room,
  // exact ones for a second.
  bool tight = now < g_tight_until;
  int got = fd_headroom(tight ? want : std::max(want, kWideProbe));
  if (!tight && got < 4 * want) g_tight_until = now + 1000;
  if (got < want) {
    g_budget = 0;
    return true;
  }
  g_budget = got - need;
  g_budget_until = now + kBudgetMs;
  return false;
}

int spawn_child(const SpawnPlan& plan, SpawnResult* out, ForkObserver* observer) {
  *out = SpawnResult{};
  if (plan.file.empty() || plan.argv.empty()) {
    out->stage = SpawnStage::kExec;
    return -EINVAL;
  }
  // Spawning down to the last descriptor would leave the daemon unable to
  // accept a control connection or open a log file: refuse before that.
  if (fds_short(kSpawnFds + static_cast<int>(plan.cgroup_procs.size()))) {
    out->stage = SpawnStage::kPipe;
    return -EMFILE;
  }

  // Everything the child touches is built here, before fork.
  std::vector<char*> argv;
  argv.reserve(plan.argv.size() + 1);
  for (const auto& a : plan.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(plan.envp.size() + 1);
  for (const auto& e : plan.envp) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  struct rlimit rl;
  int max_fd = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    max_fd = rl.rlim_cur > 65536 ? 65536 : static_cast<int>(rl.rlim_cur);

  int in[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1}, ep[2] = {-1, -1};
  int devnull = -1;
  int cg_dirfd = -1;
  std::vector<int> cg_fds;
  int rc = 0;
  auto cleanup = [&]() {
    for (int* fd : {&in[0], &in[1], &outp[0], &outp[1], &errp[0], &errp[1], &ep[0], &ep[1], &devnull, &cg_dirfd})
      close_fd(fd);
    for (int& fd : cg_fds) close_fd(&fd);
  };

  // cgroups: opened here, so the child only has to write(2) (or clone3
  // places it). O_CLOEXEC: they must not reach the program either.
  for (const auto& procs : plan.cgroup_procs) {
    int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      rc = -errno;
      cleanup();
      out->stage = SpawnStage::kCgroup;
      return rc;
    }
    cg_fds.push_back(fd);
  }
#if defined(__linux__)
  if (!plan.cgroup_dir.empty()) {
    cg_dirfd = open(plan.cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg_dirfd < 0) {
      rc = -errno;
      cleanup();
      out->stage = SpawnStage::kCgroup;
      return rc;
    }
  }
#endif

  if ((plan.stdin_fd < 0 && (rc = make_pipe(in)) < 0) || (rc = make_pipe(ep)) < 0) {
    cleanup();
    out->stage = SpawnStage::kPipe;
    return rc;
  }
  if (plan.stdout_mode == StdioMode::kPipe && (rc = make_pipe(outp)) < 0) {
    cleanup();
    out->stage = SpawnStage::kPipe;
    return rc;
  }
  if (plan.stderr_mode == StdioMode::kPipe && (rc = make_pipe(errp)) < 0) {
    cleanup();
    out->stage = SpawnStage::kPipe;
    return rc;
  }
  if (plan.stdout_mode == StdioMode::kDevNull || plan.stderr_mode == StdioMode::kDevNull) {
    if ((devnull = open_devnull()) < 0) {
      rc = devnull;
      devnull = -1;
      cleanup();
      out->stage = SpawnStage::kDevnull;
      return rc;
    }
  }
  int child_out = plan.stdout_mode == StdioMode::kPipe ? outp[1] : devnull;
  int child_err = plan.stderr_mode == StdioMode::kPipe    ? errp[1]
                  : plan.stderr_mode == StdioMode::kStdout ? child_out
                                                           : devnull;

  // Block every signal across fork; see child_exec for why. The parent
  // restores its mask right after.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int child_in = plan.stdin_fd >= 0 ? plan.stdin_fd : in[0];
  ChildArgs args{&plan, argv.data(), envp.data(), cg_fds.data(), cg_fds.size(), cg_dirfd, false,
                 child_in, child_out, child_err, ep[1], max_fd, 0};
#if defined(__linux__)
  // The child's descriptors into the spawn slots, so that it can share the
  // table and copy only the slots (SpawnSlots).
  std::unique_lock<std::mutex> slot_lock;
  int slots_used = 0;
  int slot_cg[SpawnSlots::kCount];
  if (g_slots.available() && cg_fds.size() + 4 <= SpawnSlots::kCount) {
    slot_lock = std::unique_lock<std::mutex>(g_slots.mutex());
    int a = g_slots.place(child_in, &slots_used), b = g_slots.place(child_out, &slots_used),
        c = g_slots.place(child_err, &slots_used), d = g_slots.place(ep[1], &slots_used);
    bool ok = a >= 0 && b >= 0 && c >= 0 && d >= 0;
    for (size_t i = 0; ok && i < cg_fds.size(); i++) ok = (slot_cg[i] = g_slots.place(cg_fds[i], &slots_used)) >= 0;
    if (ok) {
      args.stdin_r = a, args.stdout_w = b, args.stderr_w = c, args.errfd = d;
      args.cg_fds = slot_cg;
      args.shared_table_bound = g_slots.bound();
    } else {
      g_slots.release(slots_used);
      slots_used = 0;
      slot_lock.unlock();
    }
  }
#endif
  if (observer) observer->before_fork();
  pid_t pid = start_child(&args);
  int fork_errno = errno;
  if (observer) observer->after_fork(pid);
#if defined(__linux__)
  // The child has its own table (or is gone): the slots are free again.
  if (slots_used) {
    g_slots.release(slots_used);
    slot_lock.unlock();
  }
#endif
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    cleanup();
    out->stage = args.cg_error ? SpawnStage::kCgroup : SpawnStage::kFork;
    return -fork_errno;
  }
  for (int& fd : cg_fds) close_fd(&fd);
  close_fd(&cg_dirfd);

  // Our copies of the child's ends must go, or we would never see EOF.
  close_fd(&in[0]);
  close_fd(&outp[1]);
  close_fd(&errp[1]);
  close_fd(&devnull);
  close_fd(&ep[1]);

  ExecFailure failure{0, 0};
  ssize_t n;
  do {
    n = read(ep[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  close_fd(&ep[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    // The child never reached exec: reap it here so no zombie is left, and
    // report the stage and errno it sent.
    // (A reaper's waitpid(-1) may have taken it first: ECHILD, then.)
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (observer) observer->reaped_by_spawn(pid);
    cleanup();
    out->stage = static_cast<SpawnStage>(failure.stage);
    // Already reaped; JS still reports it (supervisord logs such a child as
    // spawned, then exited 127).
    out->pid = pid;
    return -failure.err;
  }
  // n == 0: the pipe closed on exec, the child runs its program.

  // Mirror the child's setpgid so a kill(-pid) right after spawn can't miss;
  // EACCES after the child exec'd is expected and harmless.
  if (plan.pgroup == ProcessGroup::kNewGroup) setpgid(pid, pid);

  out->pid = pid;
  out->stdin_fd = in[1];
  out->stdout_fd = outp[0];
  out->stderr_fd = errp[0];
  if (out->stdin_fd >= 0) set_nonblocking(out->stdin_fd);
  if (out->stdout_fd >= 0) set_nonblocking(out->stdout_fd);
  if (out->stderr_fd >= 0) set_nonblocking(out->stderr_fd);
#if defined(__linux__) && defined(SYS_pidfd_open)
  // pidfd_open works on a child that has already exited (a zombie), so no
  // exit can slip between fork and here. ENOSYS (kernel < 5.3): the loop
  // falls back to SIGCHLD.
  if (plan.want_pidfd) out->pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#endif
  return 0;
}

}  // namespace fv
