// SPDX-License-Identifier: MIT
// The reference the bench measures fastvisor against: the plain C way to
// capture many children's output. One thread, epoll level-triggered, one pipe
// per child (stderr joined to stdout), each ready fd read once per wake-up
// into a 256 KiB buffer and write()n to that child's log file; or, with
// --splice, moved pipe -> file with splice(2) instead of read/write.
// No rotation, no batching, no tricks.
//
//   pump [--splice] [--env NAME=VALUE]... SPECFILE
//
// SPECFILE: one child per line, "LOGPATH<TAB>ARGV0<TAB>ARG1...", ARGV0 an
// absolute path. --env is set in each child's environment (the bench's
// per-trial token, so it can find strays by pid).
//
// Protocol with the bench: the pump prints "ready" once the spec is read,
// waits for any line on stdin, spawns everything and says "spawned {ms}", then
// loops until every pipe has hit EOF and every child is reaped; then it prints
// "done {json}" (its own getrusage, how many reads and epoll_waits it took)
// and exits when stdin is closed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kBuf = 256 * 1024, kMaxArgs = 64, kMaxEnv = 8 };

struct child {
  char* log;
  char* argv[kMaxArgs + 1];
  pid_t pid;
  int pipe_fd;
  int log_fd;
  long long bytes;
};

static int use_splice = 0;
static long long n_reads = 0;  // read()/splice() calls that moved bytes
static char* extra_env[kMaxEnv];
static int n_extra_env = 0;

static void die(const char* what) {
  fprintf(stderr, "pump: %s: %s\n", what, strerror(errno));
  exit(1);
}

static struct child* read_spec(const char* path, int* count) {
  FILE* f = fopen(path, "r");
  if (!f) die(path);
  int cap = 16, n = 0;
  struct child* kids = calloc((size_t)cap, sizeof *kids);
  char* line = NULL;
  size_t len = 0;
  ssize_t got;
  while ((got = getline(&line, &len, f)) > 0) {
    if (line[got - 1] == '\n') line[--got] = 0;
    if (got == 0) continue;
    if (n == cap) {
      cap *= 2;
      kids = realloc(kids, (size_t)cap * sizeof *kids);
    }
    struct child* c = &kids[n];
    memset(c, 0, sizeof *c);
    char* save = NULL;
    char* dup = strdup(line);
    c->log = strtok_r(dup, "\t", &save);
    int a = 0;
    char* tok;
    while (a < kMaxArgs && (tok = strtok_r(NULL, "\t", &save)) != NULL) c->argv[a++] = tok;
    c->argv[a] = NULL;
    if (!c->log || a == 0) {
      fprintf(stderr, "pump: bad spec line: %s\n", line);
      exit(2);
    }
    c->pipe_fd = c->log_fd = -1;
    n++;
  }
  free(line);
  fclose(f);
  *count = n;
  return kids;
}

static void spawn(struct child* c, const sigset_t* old_mask) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) die("pipe2");
  // splice(2) refuses O_APPEND targets; the file is new either way.
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (use_splice ? O_TRUNC : O_APPEND);
  c->log_fd = open(c->log, flags, 0644);
  if (c->log_fd < 0) die(c->log);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    setpgid(0, 0);
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    dup2(p[1], STDOUT_FILENO);
    dup2(p[1], STDERR_FILENO);
    for (int i = 0; i < n_extra_env; i++) putenv(extra_env[i]);
    execv(c->argv[0], c->argv);
    _exit(127);
  }
  close(p[1]);
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
  c->pid = pid;
  c->pipe_fd = p[0];
}

static int write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

// One read (or one splice) for a ready fd. Returns 1 on EOF.
static int serve(struct child* c, char* buf) {
  ssize_t r;
  if (use_splice) {
    r = splice(c->pipe_fd, NULL, c->log_fd, NULL, kBuf, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  } else {
    r = read(c->pipe_fd, buf, kBuf);
    if (r > 0 && write_all(c->log_fd, buf, (size_t)r) < 0) die("write");
  }
  if (r > 0) {
    n_reads++;
    c->bytes += r;
    return 0;
  }
  if (r == 0) return 1;
  if (errno == EAGAIN || errno == EINTR) return 0;
  die(use_splice ? "splice" : "read");
  return 1;
}

int main(int argc, char** argv) {
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--splice") == 0) use_splice = 1;
    else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc && n_extra_env < kMaxEnv) extra_env[n_extra_env++] = argv[++i];
    else break;
  }
  if (i != argc - 1) {
    fprintf(stderr, "usage: pump [--splice] [--env NAME=VALUE]... SPECFILE\n");
    return 2;
  }
  int n;
  struct child* kids = read_spec(argv[i], &n);

  sigset_t chld, old_mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &chld, &old_mask) < 0) die("sigprocmask");
  int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) die("signalfd");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)-1};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0) die("epoll_ctl");

  printf("ready\n");
  fflush(stdout);
  char go[64];
  if (!fgets(go, sizeof go, stdin)) return 0;

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int k = 0; k < n; k++) {
    spawn(&kids[k], &old_mask);
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)k};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, kids[k].pipe_fd, &e) < 0) die("epoll_ctl");
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double spawn_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  printf("spawned {\"ms\":%.3f}\n", spawn_ms);
  fflush(stdout);

  char* buf = malloc(kBuf);
  struct epoll_event ready[256];
  int open_pipes = n, reaped = 0;
  long long total = 0, n_waits = 0;
  while (open_pipes > 0 || reaped < n) {
    int m = epoll_wait(ep, ready, 256, -1);
    n_waits++;
    if (m < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int j = 0; j < m; j++) {
      uint64_t tok = ready[j].data.u64;
      if (tok == (uint64_t)-1) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        }
        int status;
        while (waitpid(-1, &status, WNOHANG) > 0) reaped++;
        continue;
      }
      struct child* c = &kids[tok];
      if (c->pipe_fd < 0) continue;
      if (serve(c, buf)) {
        close(c->pipe_fd);  // also leaves the epoll set
        c->pipe_fd = -1;
        close(c->log_fd);
        c->log_fd = -1;
        total += c->bytes;
        open_pipes--;
      }
    }
  }

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("done {\"cpuUser\":%.6f,\"cpuSystem\":%.6f,\"spawnMs\":%.3f,\"bytes\":%lld,\"reads\":%lld,\"waits\":%lld,\"bytesPerRead\":%.0f}\n",
         (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, spawn_ms, total, n_reads, n_waits,
         n_reads ? (double)total / (double)n_reads : 0.0);
  fflush(stdout);
  while (fgets(go, sizeof go, stdin)) {
  }
  return 0;
}
