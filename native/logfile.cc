// SPDX-License-Identifier: MIT
// Log file writing with rotation. I/O thread, except open_initial().
//
// Nothing here may block the loop or sleep: a failing step (open, rename)
// sets a retry deadline and returns, like s6-log's rotator, and the loop keeps
// serving the other channels. A write error drops the bytes (the child must
// never block on a full pipe because a disk is full), counts them, and is
// reported once per episode; the first good write ends the episode.
#include "logfile.h"

#include "mono_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace fv {
namespace {
constexpr int64_t kRetryMs = 1000;

// /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: the daemon's own fd
// N, or -1. open() of these fails with ENXIO when the fd is a socket
// (systemd's journal stream, a parent's socketpair): dup it instead.
int own_fd_named(const std::string& path) {
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  const char* rest = nullptr;
  if (path.rfind("/dev/fd/", 0) == 0) rest = path.c_str() + 8;
  else if (path.rfind("/proc/self/fd/", 0) == 0) rest = path.c_str() + 14;
  if (!rest || *rest < '0' || *rest > '9') return -1;
  char* end = nullptr;
  long n = strtol(rest, &end, 10);
  return *end == '\0' && n >= 0 && n < (1L << 20) ? static_cast<int>(n) : -1;
}
}  // namespace

int64_t next_calendar_boundary(RotateEvery every, int64_t wall_s) {
  time_t t = static_cast<time_t>(wall_s);
  struct tm tm;
  localtime_r(&t, &tm);
  tm.tm_sec = 0;
  tm.tm_min = 0;
  if (every == RotateEvery::kHourly) {
    tm.tm_hour += 1;
  } else {
    tm.tm_hour = 0;
    int days = 1;
    if (every == RotateEvery::kWeekly) {
      days = (8 - tm.tm_wday) % 7;  // to the next Monday (tm_wday 1)
      if (days == 0) days = 7;
    }
    tm.tm_mday += days;
  }
  tm.tm_isdst = -1;  // mktime decides, for the boundary's own date
  int64_t next = static_cast<int64_t>(mktime(&tm));
  // An hour repeated by a DST change could map back to the past.
  return next > wall_s ? next : wall_s + 3600;
}

LogSink::LogSink(uint32_t id, std::string path, uint64_t maxbytes, int backups)
    : id_(id), path_(std::move(path)), maxbytes_(maxbytes), backups_(backups < 0 ? 0 : backups) {}

LogSink::~LogSink() {
  if (fd_ >= 0) close(fd_);
}

int LogSink::open_append(int extra_flags) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra_flags, 0644);
  if (fd < 0 && errno == ENXIO) {
    int own = own_fd_named(path_);
    if (own >= 0) fd = fcntl(own, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) errno = ENXIO;  // the name's own error, not the dup's
  }
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

void LogSink::set_rotation(const RotationSpec& spec, BackupWorker* worker) {
  rot_ = spec;
  worker_ = spec.gzip || spec.max_age_s > 0 ? worker : nullptr;
  if (rot_.every == RotateEvery::kSeconds) next_mono_ms_ = mono_ms() + rot_.every_s * 1000;
  else if (rot_.every != RotateEvery::kNone) next_wall_s_ = next_calendar_boundary(rot_.every, time(nullptr));
  if (!worker_ || !rot_.gzip) return;
  // Plain backups an earlier run left (stopped or crashed mid-compression).
  for (int k = 1; k <= backups_; k++) {
    struct stat st;
    if (stat(backup_name(path_, k).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    worker_->post(BackupJob{path_, backups_, true, st.st_dev, st.st_ino, 0, names_});
  }
}

// A time boundary passed. An empty file is not rotated (no empty backups from
// a quiet program); its next boundary is simply the following one.
bool LogSink::time_due(int64_t now_ms) {
  if (rot_.every == RotateEvery::kNone) return false;
  if (rot_.every == RotateEvery::kSeconds) {
    if (now_ms < next_mono_ms_) return false;
  } else if (static_cast<int64_t>(time(nullptr)) < next_wall_s_) {
    return false;
  }
  schedule_next(now_ms);
  return size_ > 0;
}

void LogSink::schedule_next(int64_t now_ms) {
  if (rot_.every == RotateEvery::kSeconds) {
    // Boundaries stay N s apart from the start of capture, whenever the
    // rotation actually ran (lazily, at the first write after one).
    const int64_t period = rot_.every_s * 1000;
    if (next_mono_ms_ <= now_ms) next_mono_ms_ += ((now_ms - next_mono_ms_) / period + 1) * period;
  } else if (rot_.every != RotateEvery::kNone) {
    next_wall_s_ = next_calendar_boundary(rot_.every, time(nullptr));
  }
}

namespace {
// The formatted records of one feed, for every sink of the thread (the I/O
// thread): one buffer that stays warm in the cache, instead of one per sink
// that a read of another child's pipe has evicted by the time it is used.
RecordBuffer& records_buffer() {
  thread_local RecordBuffer buf;
  buf.clear();
  return buf;
}
}  // namespace

void LogSink::feed(const uint8_t* p, size_t n, int pid, double wall_ms, int64_t now_ms, SinkObserver* obs) {
  if (!fmt_) return write(p, n, now_ms, obs);
  RecordBuffer& out = records_buffer();
  fmt_->feed(p, n, wall_ms, now_ms, pid, &out);
  write_formatted(out, now_ms, obs);
}

// The records the formatter just made (whole lines: rotation falls between
// them), in one write() when no rotation falls inside.
void LogSink::write_formatted(RecordBuffer& out, int64_t now_ms, SinkObserver* obs) {
  if (!out.empty()) write_impl(reinterpret_cast<const uint8_t*>(out.data()), out.size(), now_ms, obs, true);
  // A big burst once must not keep its buffer for ever.
  if (out.capacity() > (4u << 20)) out.release();
}

int64_t LogSink::partial_due() const {
  return fmt_ && fmt_->has_partial() ? fmt_->partial_since() + kPartialFlushMs : -1;
}

void LogSink::flush_partial(int64_t now_ms, bool all, SinkObserver* obs) {
  if (!fmt_ || !fmt_->has_partial()) return;
  RecordBuffer& out = records_buffer();
  fmt_->flush(now_ms, all, &out);
  write_formatted(out, now_ms, obs);
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
  // Time rotation is lazy: at the first write after a boundary, before it,
  // so between two whole records in a formatted sink.
  const bool timed = regular_ && rot_.every != RotateEvery::kNone && time_due(now_ms);
  if ((timed || (regular_ && rotate_pending_) || (rotating && size_ >= maxbytes_)) && now_ms >= retry_at_ms_)
    rotate(now_ms, obs);
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
  // The file about to become NAME.1, by inode: the worker compresses it wherever later shifts put it.
  struct stat old;
  const bool have_old = worker_ && rot_.gzip && fd_ >= 0 && fstat(fd_, &old) == 0;
  if (backups_ > 0) {
    // With a worker, names change under its mutex (compress.h): it holds it
    // for a few renames and stats, never while compressing.
    std::unique_lock<std::mutex> lock(*names_, std::defer_lock);
    if (worker_) lock.lock();
    if (rot_.gzip) {
      // The oldest drops out whichever form it has; otherwise a stale
      // NAME.N.gz would sit beside the NAME.N shifted onto it.
      ::unlink(backup_name(path_, backups_).c_str());
      ::unlink(backup_name(path_, backups_, true).c_str());
    }
    for (int i = backups_ - 1; i >= 1; i--) {
      for (bool gz : {false, true}) {
        if (gz && !rot_.gzip) continue;
        if (::rename(backup_name(path_, i, gz).c_str(), backup_name(path_, i + 1, gz).c_str()) != 0 && errno != ENOENT)
          return rotate_failed(errno, now_ms, obs);
      }
    }
    if (::rename(path_.c_str(), backup_name(path_, 1).c_str()) != 0 && errno != ENOENT) return rotate_failed(errno, now_ms, obs);
  }
  int rc = open_append(O_TRUNC);
  // Keep writing to the old fd; try a fresh file again after the deadline.
  if (rc < 0) return rotate_failed(-rc, now_ms, obs);
  counters.rotations.fetch_add(1, std::memory_order_relaxed);
  if (worker_ && backups_ > 0)
    worker_->post(BackupJob{path_, backups_, have_old, have_old ? old.st_dev : 0,
                            have_old ? old.st_ino : 0, rot_.max_age_s, names_});
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

int LogSink::rotate_now(int64_t now_ms, SinkObserver* obs) {
  // Nothing to rotate: not a regular file (/dev/stdout), or none open (its
  // fault episode reopens it at the next write).
  if (fd_ < 0 || !regular_) return 0;
  return rotate(now_ms, obs);
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
