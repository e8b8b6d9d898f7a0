// SPDX-License-Identifier: MIT
// Line formats for child log files (fastvisor's *_logfile_format and
// [supervisord] child_log_format): cuts a channel's byte stream into lines and
// writes each one stamped (timestamped), labelled (prefixed) or as one JSON
// object (json). Pure: no clock, no fd; the caller hands in the read times
// and takes the bytes. raw never comes here (the sink writes bytes as read).
//
// Nothing is dropped or written twice: a line longer than max_line, or one
// whose \n has not come within the flush deadline (the caller's), goes out as
// far as it got, marked partial in json; the rest follows as the next record.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace fv {

enum class LineMode : uint8_t { kRaw = 0, kTimestamped = 1, kJson = 2, kPrefixed = 3 };
enum class TimeStyle : uint8_t { kRfc3339 = 0, kLocal = 1 };

struct LineFormatSpec {
  LineMode mode = LineMode::kRaw;
  TimeStyle time = TimeStyle::kRfc3339;  // timestamped only; json is always RFC 3339 UTC
  size_t max_line = 16 * 1024;
  std::string program, process, group, stream;
};

// A growable byte buffer the formatter writes records into: room for a
// record is made once (room), then filled through a plain pointer (commit),
// with no capacity check and no zero-fill per append as std::string has.
class RecordBuffer {
 public:
  RecordBuffer() = default;
  RecordBuffer(const RecordBuffer&) = delete;
  RecordBuffer& operator=(const RecordBuffer&) = delete;
  const char* data() const { return buf_ ? buf_.get() : ""; }
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  size_t capacity() const { return cap_; }
  void clear() { len_ = 0; }
  // Where up to n more bytes may be written; commit(end) keeps them.
  char* room(size_t n) {
    if (cap_ - len_ < n) grow(n);
    return buf_.get() + len_;
  }
  void commit(const char* end) { len_ = static_cast<size_t>(end - buf_.get()); }
  // Gives the memory back (a big burst once must not keep it for ever).
  void release() {
    buf_.reset();
    len_ = cap_ = 0;
  }

 private:
  void grow(size_t n);
  std::unique_ptr<char[]> buf_;
  size_t len_ = 0, cap_ = 0;
};

class LineFormatter {
 public:
  explicit LineFormatter(LineFormatSpec spec);

  // Appends the records of every line completed by [p, p+n) to out. wall_ms:
  // when these bytes were read (epoch ms); mono_ms: the caller's monotonic
  // clock, for partial_since(); pid: the writer, for json.
  void feed(const uint8_t* p, size_t n, double wall_ms, int64_t mono_ms, int pid, RecordBuffer* out);
  // Appends the pending partial line, if any, as a partial record. Unless
  // all (the writer is gone), an incomplete UTF-8 sequence at its end stays
  // pending, now since mono_ms.
  void flush(int64_t mono_ms, bool all, RecordBuffer* out);
  bool has_partial() const { return !pending_.empty(); }
  // Monotonic ms when the pending partial's first byte was read.
  int64_t partial_since() const { return pending_mono_; }

 private:
  void emit(const uint8_t* p, size_t n, double wall_ms, int pid, bool partial, RecordBuffer* out);
  void emit_long(const uint8_t* p, size_t n, double wall_ms, int pid, RecordBuffer* out);
  size_t feed_clean_json(const uint8_t* p, size_t n, double wall_ms, int pid, RecordBuffer* out);
  // Appends the time; returns the offset in out of its millisecond digits.
  size_t stamp(double wall_ms, std::string* out);
  const std::string& head(double wall_ms, int pid);

  LineFormatSpec spec_;
  std::string json_mid_;  // ","program":"…",…,"pid":  (between the time and the pid)
  std::string prefix_;    // prefixed: "process stream | "
  std::string pending_;   // a line's bytes without its \n yet
  double pending_wall_ = 0;
  int64_t pending_mono_ = 0;
  int pending_pid_ = 0;
  // The stamp of the last second formatted ("2026-12-06T09:24:06"): lines
  // come in bursts, so the calendar arithmetic runs about once a second.
  int64_t cached_sec_ = INT64_MIN;
  char cached_[32];
  size_t cached_len_ = 0;
  // Everything a record has before its text, for the last (read time, pid):
  // the lines of one read share it, so most records are three appends.
  // Within the same second and pid only its three millisecond digits
  // change: they are rewritten in place (at head_frac_), not the whole head.
  std::string head_;
  double head_ms_ = -1;
  int64_t head_sec_ = INT64_MIN;
  size_t head_frac_ = 0;
  int head_pid_ = 0;
};

// Appends the JSON string body of [p, p+n) (no quotes): ", \ and control
// characters (and DEL) escaped, each maximal invalid UTF-8 subpart replaced
// by U+FFFD, so the output is always valid UTF-8 JSON.
void json_escape(const uint8_t* p, size_t n, std::string* out);
// The same into w, which has room for 6 * n bytes; returns the end.
char* json_escape(const uint8_t* p, size_t n, char* w);

// How many bytes from p on need no JSON escaping (printable ASCII other than
// '"' and '\\'), looking at no more than n: the first byte that does (a
// control character such as '\n', '"', '\\', DEL, any byte >= 0x80) is at the
// returned index, or n.
size_t json_clean_prefix(const uint8_t* p, size_t n);

// The largest m <= n such that cutting [p, p+n) at m does not split a UTF-8
// sequence (n itself when the tail is not an incomplete sequence, or when the
// cut would leave nothing).
size_t utf8_cut(const uint8_t* p, size_t n);

}  // namespace fv
