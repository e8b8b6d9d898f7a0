// SPDX-License-Identifier: MIT
// A log file with supervisord's size rotation (name.1 ... name.N), reopen and
// clear. Opened on the JS thread (so a bad path fails at once), then written,
// rotated and reopened only by the I/O thread. Counters are atomics any thread
// may read.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "compress.h"
#include "line_format.h"

namespace fv {

enum class SinkOp : int32_t { kWrite = 1, kOpen = 2, kRotate = 3 };

struct SinkCounters {
  std::atomic<uint64_t> written{0};    // bytes that reached a file, all files together
  std::atomic<uint64_t> dropped{0};    // bytes lost to write errors, ever
  std::atomic<uint64_t> size{0};       // bytes in the current file
  std::atomic<uint64_t> rotations{0};
  std::atomic<int32_t> fault_errno{0}; // the open episode's errno, 0 when healthy
};

// fastvisor's *_logfile_rotate_every / _max_age / _compress (none set: a
// supervisord log, rotated by size alone).
enum class RotateEvery : uint8_t { kNone = 0, kHourly, kDaily, kWeekly, kSeconds };
struct RotationSpec {
  RotateEvery every = RotateEvery::kNone;
  int64_t every_s = 0;    // kSeconds: the period
  int64_t max_age_s = 0;  // > 0: delete backups last written longer ago, at each rotation
  bool gzip = false;      // compress each backup into NAME.k.gz (the BackupWorker)
};

// The next start of an hour, a day or a week (Monday 00:00) after wall_s, in
// local time (a DST change moves the boundary with the clock). Epoch seconds.
int64_t next_calendar_boundary(RotateEvery every, int64_t wall_s);

// What a sink tells its owner; the I/O loop turns these into events for JS.
class SinkObserver {
 public:
  virtual ~SinkObserver() = default;
  virtual void sink_fault(uint32_t sink_id, int err, SinkOp op) = 0;
  // op kRotate: rotation works again (nothing was dropped: the bytes went to
  // the file already open); otherwise writing works again after drops.
  virtual void sink_recovered(uint32_t sink_id, uint64_t dropped, SinkOp op) = 0;
};

class LogSink {
 public:
  // maxbytes 0: never rotate. backups 0 with maxbytes: truncate at maxbytes,
  // as supervisord does (its doRollover reopens with 'wb').
  LogSink(uint32_t id, std::string path, uint64_t maxbytes, int backups);
  ~LogSink();
  LogSink(const LogSink&) = delete;
  LogSink& operator=(const LogSink&) = delete;

  // JS thread, before the sink is shared with the I/O thread.
  int open_initial();
  // JS thread, right after open_initial: lines written through feed() are
  // formatted (line_format.h), and rotation never cuts one in two.
  void set_format(const LineFormatSpec& spec);
  bool formatted() const { return fmt_ != nullptr; }
  // JS thread, right after open_initial: time rotation, retention and
  // compression, their after-work posted to worker (which outlives the sink's
  // use: the I/O loop owns both). Plain backups left by an earlier run (a
  // crash mid-compression) are queued for compression at once.
  void set_rotation(const RotationSpec& spec, BackupWorker* worker);

  // I/O thread: rotate now (fastvisorctl rotate), whatever the size. With
  // backups 0 the file is truncated, as a size rotation does.
  int rotate_now(int64_t now_ms, SinkObserver* obs);

  // I/O thread: a child's bytes (or JS's for it): formatted when a format is
  // set, else written as they are. pid: the writer (json's "pid").
  void feed(const uint8_t* p, size_t n, int pid, double wall_ms, int64_t now_ms, SinkObserver* obs);
  // Monotonic ms when the pending partial line is due (kPartialFlushMs after
  // its first byte), or -1 when none waits.
  int64_t partial_due() const;
  // Writes the pending partial line now (marked); all: its writer is gone,
  // so even an incomplete UTF-8 sequence goes.
  void flush_partial(int64_t now_ms, bool all, SinkObserver* obs);
  static constexpr int64_t kPartialFlushMs = 250;
  // I/O thread: the loop's list of sinks with a partial line waiting holds this one.
  bool partial_listed = false;

  // I/O thread. now_ms is the loop's monotonic time, for retry deadlines.
  void write(const uint8_t* p, size_t n, int64_t now_ms, SinkObserver* obs);
  int reopen(SinkObserver* obs);
  int clear(SinkObserver* obs);

  uint32_t id() const { return id_; }
  const std::string& path() const { return path_; }
  SinkCounters counters;

 private:
  int open_append(int extra_flags);
  void write_formatted(RecordBuffer& out, int64_t now_ms, SinkObserver* obs);
  void write_impl(const uint8_t* p, size_t n, int64_t now_ms, SinkObserver* obs, bool whole_lines);
  int rotate(int64_t now_ms, SinkObserver* obs);
  bool time_due(int64_t now_ms);
  void schedule_next(int64_t now_ms);
  void shift_backups_locked();
  int rotate_failed(int err, int64_t now_ms, SinkObserver* obs);
  void drop(size_t n, int err, SinkOp op, SinkObserver* obs);
  void healthy(SinkObserver* obs);

  const uint32_t id_;
  const std::string path_;
  const uint64_t maxbytes_;
  const int backups_;
  int fd_ = -1;
  bool regular_ = true;        // rotation applies to regular files only (not /dev/stdout)
  uint64_t size_ = 0;
  bool faulted_ = false;
  uint64_t episode_dropped_ = 0;
  int64_t retry_at_ms_ = 0;    // no open or rotation attempt before this
  bool rotate_pending_ = false;
  bool rotate_faulted_ = false;  // a rotation failure episode is open (reported once)
  RotationSpec rot_;
  BackupWorker* worker_ = nullptr;
  std::shared_ptr<std::mutex> names_ = std::make_shared<std::mutex>();  // with the worker
  int64_t next_mono_ms_ = 0;   // kSeconds: the next boundary on the loop's clock
  int64_t next_wall_s_ = 0;    // calendar periods: the next boundary, epoch seconds
  std::unique_ptr<LineFormatter> fmt_;
};

}  // namespace fv
