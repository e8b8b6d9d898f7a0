// SPDX-License-Identifier: MIT
// Log file writing with rotation. I/O thread, except open_initial().
//
// Nothing here may block the loop or sleep: a failing step (open, rename)
// sets a retry deadline and returns, like s6-log's rotator, and the loop keeps
// serving the other channels. A write error drops the bytes (the child must
// never block on a full pipe because a disk is full), counts them, and is
// reported once per episode; the first good write ends the episode.
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

namespace fv {
namespace {
constexpr int64_t kRetryMs = 1000;
}

LogSink::LogSink(uint32_t id, std::string path, uint64_t maxbytes, int backups)
    : id_(id), path_(std::move(path)), maxbytes_(maxbytes), backups_(backups < 0 ? 0 : backups) {}

LogSink::~LogSink() {
  if (fd_ >= 0) close(fd_);
}

int LogSink::open_append(int extra_flags) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra_flags, 0644);
  if (fd < 0) return -errno;
  struct stat st;
  if (fstat(fd, &st) == 0) {
    regular_ = S_ISREG(st.st_mode);
    size_ = regular_ ? static_cast<uint64_t>(st.st_size) : 0;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  counters.size.store(size_, std::memory_order_relaxed);
  return 0;
}

int LogSink::open_initial() { return open_append(0); }

void LogSink::drop(size_t n, int err, SinkOp op, SinkObserver* obs) {
  counters.dropped.fetch_add(n, std::memory_order_relaxed);
  episode_dropped_ += n;
  if (!faulted_ || counters.fault_errno.load(std::memory_order_relaxed) != err) {
    faulted_ = true;
    counters.fault_errno.store(err, std::memory_order_relaxed);
    obs->sink_fault(id_, err, op);
  }
}

void LogSink::healthy(SinkObserver* obs) {
  if (!faulted_) return;
  faulted_ = false;
  counters.fault_errno.store(0, std::memory_order_relaxed);
  obs->sink_recovered(id_, episode_dropped_);
  episode_dropped_ = 0;
}

void LogSink::write(const uint8_t* p, size_t n, int64_t now_ms, SinkObserver* obs) {
  if (fd_ < 0) {
    if (now_ms < retry_at_ms_) return drop(n, counters.fault_errno.load(std::memory_order_relaxed), SinkOp::kOpen, obs);
    int rc = open_append(0);
    if (rc < 0) {
      retry_at_ms_ = now_ms + kRetryMs;
      return drop(n, -rc, SinkOp::kOpen, obs);
    }
  }
  const bool rotating = maxbytes_ > 0 && regular_;
  if (rotating && (rotate_pending_ || size_ >= maxbytes_) && now_ms >= retry_at_ms_) rotate(now_ms, obs);

  while (n > 0) {
    size_t chunk = n;
    // Split at maxbytes exactly, so every file but the current one holds
    // maxbytes bytes, and nothing is written twice or lost. (supervisord
    // writes the whole chunk first and may overshoot by a read's worth.)
    // When rotation is failing, keep appending past maxbytes rather than drop.
    if (rotating && !rotate_pending_ && size_ < maxbytes_ && maxbytes_ - size_ < chunk)
      chunk = static_cast<size_t>(maxbytes_ - size_);
    ssize_t w = ::write(fd_, p, chunk);
    if (w < 0) {
      if (errno == EINTR) continue;
      return drop(n, errno, SinkOp::kWrite, obs);
    }
    size_ += static_cast<uint64_t>(w);
    counters.size.store(size_, std::memory_order_relaxed);
    counters.written.fetch_add(static_cast<uint64_t>(w), std::memory_order_relaxed);
    p += w;
    n -= static_cast<size_t>(w);
    healthy(obs);
    if (rotating && !rotate_pending_ && size_ >= maxbytes_) rotate(now_ms, obs);
  }
}

// supervisord loggers.py doRollover(): name.(N-1) -> name.N ... name -> name.1,
// then a fresh name. Renaming first and opening second means that if the open
// fails, the old fd (now name.1) still takes the bytes: late rotation, no loss.
int LogSink::rotate(int64_t now_ms, SinkObserver* obs) {
  rotate_pending_ = false;
  if (backups_ > 0) {
    char src[4096], dst[4096];
    for (int i = backups_ - 1; i >= 1; i--) {
      snprintf(src, sizeof src, "%s.%d", path_.c_str(), i);
      snprintf(dst, sizeof dst, "%s.%d", path_.c_str(), i + 1);
      if (::rename(src, dst) != 0 && errno != ENOENT) {
        rotate_pending_ = true;
        retry_at_ms_ = now_ms + kRetryMs;
        obs->sink_fault(id_, errno, SinkOp::kRotate);
        return -errno;
      }
    }
    snprintf(dst, sizeof dst, "%s.1", path_.c_str());
    if (::rename(path_.c_str(), dst) != 0 && errno != ENOENT) {
      rotate_pending_ = true;
      retry_at_ms_ = now_ms + kRetryMs;
      obs->sink_fault(id_, errno, SinkOp::kRotate);
      return -errno;
    }
  }
  int rc = open_append(O_TRUNC);
  if (rc < 0) {
    // Keep writing to the old fd; try a fresh file again after the deadline.
    rotate_pending_ = true;
    retry_at_ms_ = now_ms + kRetryMs;
    obs->sink_fault(id_, -rc, SinkOp::kRotate);
    return rc;
  }
  counters.rotations.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

int LogSink::reopen(SinkObserver* obs) {
  int rc = open_append(0);
  if (rc < 0) {
    obs->sink_fault(id_, -rc, SinkOp::kOpen);
    return rc;
  }
  rotate_pending_ = false;
  retry_at_ms_ = 0;
  return 0;
}

// supervisord's clearProcessLogs: remove the current file (backups stay), then
// reopen a fresh one.
int LogSink::clear(SinkObserver* obs) {
  if (regular_ && ::unlink(path_.c_str()) != 0 && errno != ENOENT) return -errno;
  return reopen(obs);
}

}  // namespace fv
