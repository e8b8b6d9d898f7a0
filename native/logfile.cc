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

#include <cstring>
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
  obs->sink_recovered(id_, episode_dropped_, SinkOp::kWrite);
  episode_dropped_ = 0;
}

void LogSink::set_format(const LineFormatSpec& spec) {
  if (spec.mode == LineMode::kRaw) fmt_.reset();
  else fmt_ = std::make_unique<LineFormatter>(spec);
}

void LogSink::feed(const uint8_t* p, size_t n, int pid, double wall_ms, int64_t now_ms, SinkObserver* obs) {
  if (!fmt_) return write(p, n, now_ms, obs);
  fmt_out_.clear();
  fmt_->feed(p, n, wall_ms, now_ms, pid, &fmt_out_);
  if (!fmt_out_.empty()) write_impl(reinterpret_cast<const uint8_t*>(fmt_out_.data()), fmt_out_.size(), now_ms, obs, true);
  // A big burst once must not keep its buffer for ever.
  if (fmt_out_.capacity() > (4u << 20)) std::string().swap(fmt_out_);
}

int64_t LogSink::partial_due() const {
  return fmt_ && fmt_->has_partial() ? fmt_->partial_since() + kPartialFlushMs : -1;
}

void LogSink::flush_partial(int64_t now_ms, bool all, SinkObserver* obs) {
  if (!fmt_ || !fmt_->has_partial()) return;
  fmt_out_.clear();
  fmt_->flush(now_ms, all, &fmt_out_);
  if (!fmt_out_.empty()) write_impl(reinterpret_cast<const uint8_t*>(fmt_out_.data()), fmt_out_.size(), now_ms, obs, true);
}

void LogSink::write(const uint8_t* p, size_t n, int64_t now_ms, SinkObserver* obs) {
  write_impl(p, n, now_ms, obs, false);
}

// whole_lines: p holds whole records ending in \n (a formatted sink): a
// rotation comes between two of them, never inside one. A file may then end
// short of maxbytes, and one record longer than maxbytes goes whole into a
// fresh file.
void LogSink::write_impl(const uint8_t* p, size_t n, int64_t now_ms, SinkObserver* obs, bool whole_lines) {
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
  // The failed rotation found the open file removed (rotate_failed).
  if (fd_ < 0) return drop(n, counters.fault_errno.load(std::memory_order_relaxed), SinkOp::kOpen, obs);

  while (n > 0) {
    size_t chunk = n;
    // Split at maxbytes exactly, so every file but the current one holds
    // maxbytes bytes, and nothing is written twice or lost. (supervisord
    // writes the whole chunk first and may overshoot by a read's worth.)
    // When rotation is failing, keep appending past maxbytes rather than drop.
    if (rotating && !rotate_pending_ && size_ < maxbytes_ && maxbytes_ - size_ < chunk) {
      chunk = static_cast<size_t>(maxbytes_ - size_);
      if (whole_lines) {
        // The last record that still fits; none fits: rotate first (when the
        // file holds anything), or write the one record whole.
        size_t last = chunk;
        while (last > 0 && p[last - 1] != '\n') last--;  // memrchr is not everywhere
        if (last > 0) {
          chunk = last;
        } else if (size_ > 0) {
          rotate(now_ms, obs);
          if (fd_ < 0) return drop(n, counters.fault_errno.load(std::memory_order_relaxed), SinkOp::kOpen, obs);
          continue;
        } else {
          const void* end = memchr(p, '\n', n);
          chunk = end ? static_cast<size_t>(static_cast<const uint8_t*>(end) - p) + 1 : n;
        }
      }
    }
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
    if (fd_ < 0) return drop(n, counters.fault_errno.load(std::memory_order_relaxed), SinkOp::kOpen, obs);
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
      if (::rename(src, dst) != 0 && errno != ENOENT) return rotate_failed(errno, now_ms, obs);
    }
    snprintf(dst, sizeof dst, "%s.1", path_.c_str());
    if (::rename(path_.c_str(), dst) != 0 && errno != ENOENT) return rotate_failed(errno, now_ms, obs);
  }
  int rc = open_append(O_TRUNC);
  // Keep writing to the old fd; try a fresh file again after the deadline.
  if (rc < 0) return rotate_failed(-rc, now_ms, obs);
  counters.rotations.fetch_add(1, std::memory_order_relaxed);
  if (rotate_faulted_) {
    rotate_faulted_ = false;
    obs->sink_recovered(id_, 0, SinkOp::kRotate);
  }
  return 0;
}

// A rotation failure is one episode, reported once, retried every kRetryMs.
// The bytes keep going to the file already open, past maxbytes, so nothing
// is lost -- unless that file is gone (its directory removed): then writing
// on would only fill an invisible file, so it is closed and the bytes are
// dropped (and counted) until the path can be created again.
int LogSink::rotate_failed(int err, int64_t now_ms, SinkObserver* obs) {
  rotate_pending_ = true;
  retry_at_ms_ = now_ms + kRetryMs;
  struct stat st;
  if (fd_ >= 0 && fstat(fd_, &st) == 0 && st.st_nlink == 0) {
    close(fd_);
    fd_ = -1;
    rotate_pending_ = false;
    rotate_faulted_ = false;
    drop(0, err, SinkOp::kOpen, obs);
    return -err;
  }
  if (!rotate_faulted_) {
    rotate_faulted_ = true;
    obs->sink_fault(id_, err, SinkOp::kRotate);
  }
  return -err;
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
