// SPDX-License-Identifier: MIT
// CI's signal guard, preloaded (LD_PRELOAD) into every process of the x86-64
// test passes. A signal that would reach CI itself is refused (EPERM) and
// written to $FV_GUARD_LOG with the sender: kill() or killpg() aimed at CI's
// own process group (pid 0 from inside it, or -pgid), at init (1) or at every
// process (-1) of the machine's pid namespace, or at a process of CI's group
// that is the sender's own ancestor (vitest, npm, this script). Tests start
// their processes in groups of their own and kill by pid or group; a stray 0
// or 1 from a race must fail the test that made it, not end the whole run
// with SIGTERM and no word of who sent it (stop 25: exit 143 after 308 s, not
// reproduced here).
// Signal 0 (is it alive?) always passes; so does everything inside a pid
// namespace of a test's own (its init and -1 are that namespace's).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int env_int(const char* name) {
  const char* v = getenv(name);
  return v && *v ? atoi(v) : -2;
}

// Same pid namespace as CI's? (readlink of /proc/self/ns/pid, "pid:[inode]")
static int in_ci_namespace(void) {
  const char* ns = getenv("FV_GUARD_PIDNS");
  char self[64];
  ssize_t n = readlink("/proc/self/ns/pid", self, sizeof self - 1);
  if (!ns || n <= 0) return 1;
  self[n] = 0;
  return strcmp(self, ns) == 0;
}

// Parent and process group of pid from /proc/PID/stat; 0 when it is gone.
static int stat_of(pid_t pid, int* ppid, int* pgrp) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char* p = strrchr(buf, ')');  // the command may hold spaces and parens
  char state;
  return p && sscanf(p + 2, "%c %d %d", &state, ppid, pgrp) == 3;
}

// Is pid one of the caller's ancestors (vitest, npm, this script)?
static int is_ancestor(pid_t pid) {
  int ppid, pgrp;
  pid_t cur = getpid();
  for (int depth = 0; depth < 64 && cur > 1 && stat_of(cur, &ppid, &pgrp); depth++) {
    if (ppid == pid) return 1;
    cur = ppid;
  }
  return 0;
}

static int aims_at_ci(pid_t pid, int sig) {
  if (sig == 0) return 0;
  int pgid = env_int("FV_GUARD_PGID");
  if (pgid > 1 && (pid == -pgid || (pid == 0 && getpgrp() == pgid))) return 1;
  if ((pid == 1 || pid == -1) && in_ci_namespace()) return 1;
  // One of CI's own processes above the caller (a worker's vitest, npm, .ci/run).
  int ppid, pgrp;
  return pid > 1 && pgid > 1 && stat_of(pid, &ppid, &pgrp) && pgrp == pgid && is_ancestor(pid);
}

// One line per refusal: when, what, and who (pid, parent, command line).
static void note(const char* fn, pid_t pid, int sig) {
  const char* path = getenv("FV_GUARD_LOG");
  if (!path) return;
  char cmd[400] = {0};
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, cmd, sizeof cmd - 1) : 0;
  if (fd >= 0) close(fd);
  for (ssize_t i = 0; i < n; i++)
    if (!cmd[i]) cmd[i] = ' ';
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char line[640];
  int len = snprintf(line, sizeof line, "%ld refused %s(%d, %d) from pid %d (parent %d, group %d): %s\n", (long)ts.tv_sec, fn, pid,
                     sig, getpid(), getppid(), getpgrp(), cmd);
  int out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (out < 0) return;
  if (write(out, line, len > (int)sizeof line - 1 ? (int)sizeof line - 1 : len) < 0) {
    // nowhere else to say it
  }
  close(out);
}

int kill(pid_t pid, int sig) {
  static int (*real)(pid_t, int);
  if (!real) real = (int (*)(pid_t, int))dlsym(RTLD_NEXT, "kill");
  if (aims_at_ci(pid, sig)) {
    note("kill", pid, sig);
    errno = EPERM;
    return -1;
  }
  return real(pid, sig);
}

int killpg(pid_t pgrp, int sig) {
  static int (*real)(pid_t, int);
  if (!real) real = (int (*)(pid_t, int))dlsym(RTLD_NEXT, "killpg");
  // killpg(g) is kill(-g) (killpg(1): every process); killpg(0) the caller's group.
  if (aims_at_ci(pgrp == 0 ? 0 : -pgrp, sig)) {
    note("killpg", pgrp, sig);
    errno = EPERM;
    return -1;
  }
  return real(pgrp, sig);
}
