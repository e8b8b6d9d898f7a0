// SPDX-License-Identifier: MIT
// The bench's child program: it writes to stdout and exits, nothing else.
//
//   writer bytes N [LINE]     N bytes in ~64 KiB write()s of a recognisable pattern,
//                             lines of LINE bytes (64; at least 17)
//   writer lines RATE COUNT   COUNT lines of exactly 100 bytes at RATE lines/s, one
//                             write() per line, paced with absolute deadlines
//                             (clock_nanosleep TIMER_ABSTIME), so a late wake-up
//                             does not slow the average rate
//
// Each line in "lines" mode starts with the CLOCK_REALTIME time it was written
// ("t=SECONDS.MICROS"), so the bench can read a log's last line and see how
// long it took to reach the file. Exit status: 0, or 1 on a short write.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { kBlock = 64 * 1024, kLine = 100 };

static int write_all(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int bytes_mode(long long total, size_t line) {
  static char block[kBlock];
  // "fastvisor-bench 0123456789abcdef...\n" lines, `line` bytes each; a
  // block is whole lines, so every write() ends at a line's end.
  static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const size_t size = kBlock / line * line;
  for (size_t i = 0; i < size; i += line) {
    memcpy(block + i, "fastvisor-bench ", 16);
    for (size_t j = 16; j < line - 1; j++) block[i + j] = alphabet[(i / line + j) % 62];
    block[i + line - 1] = '\n';
  }
  while (total > 0) {
    size_t n = total < (long long)size ? (size_t)total : size;
    if (write_all(block, n) < 0) return 1;
    total -= (long long)n;
  }
  return 0;
}

static void add_ns(struct timespec* t, long long ns) {
  t->tv_sec += ns / 1000000000LL;
  t->tv_nsec += ns % 1000000000LL;
  if (t->tv_nsec >= 1000000000L) {
    t->tv_sec++;
    t->tv_nsec -= 1000000000L;
  }
}

static int lines_mode(long rate, long count) {
  char line[kLine + 1];
  const long long step = 1000000000LL / rate;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (long n = 0; n < count; n++) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int len = snprintf(line, sizeof line, "t=%lld.%06ld pid=%d n=%ld ", (long long)now.tv_sec, now.tv_nsec / 1000,
                       (int)getpid(), n);
    if (len < 0 || len > kLine - 1) return 1;
    memset(line + len, 'x', (size_t)(kLine - 1 - len));
    line[kLine - 1] = '\n';
    if (write_all(line, kLine) < 0) return 1;
    add_ns(&next, step);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "bytes") == 0) {
    long line = argc == 4 ? atol(argv[3]) : 64;
    if (line < 17 || line > kBlock) return 2;
    return bytes_mode(atoll(argv[2]), (size_t)line);
  }
  if (argc == 4 && strcmp(argv[1], "lines") == 0) {
    long rate = atol(argv[2]), count = atol(argv[3]);
    if (rate <= 0 || count < 0) return 2;
    return lines_mode(rate, count);
  }
  fprintf(stderr, "usage: writer bytes N [LINE] | writer lines RATE COUNT\n");
  return 2;
}
