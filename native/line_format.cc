// SPDX-License-Identifier: MIT
// Line formats (see line_format.h). Runs on the I/O thread for every line of
// a formatted channel, so the common case (ASCII lines, many per read) only
// copies: a stamp cached per second, escapes found by a table.
#include "line_format.h"

#include <time.h>

#include <cmath>
#include <cstring>
#include <utility>

namespace fv {
namespace {

// 0: copied as is; 1: escaped; 2: a UTF-8 lead or stray byte to check.
struct EscapeTable {
  uint8_t kind[256];
  EscapeTable() {
    for (int c = 0; c < 256; c++) kind[c] = c < 0x20 || c == '"' || c == '\\' || c == 0x7f ? 1 : c >= 0x80 ? 2 : 0;
  }
};
const EscapeTable kTable;

// Length of the valid UTF-8 sequence at p (Unicode Table 3-7), or minus the
// length of its maximal invalid subpart (at least 1): what one U+FFFD replaces.
int utf8_seq(const uint8_t* p, size_t n) {
  uint8_t c = p[0];
  int len;
  uint8_t lo = 0x80, hi = 0xbf;  // the second byte's range
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c == 0xe0) len = 3, lo = 0xa0;
  else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) len = 3;
  else if (c == 0xed) len = 3, hi = 0x9f;  // no surrogates
  else if (c == 0xf0) len = 4, lo = 0x90;
  else if (c >= 0xf1 && c <= 0xf3) len = 4;
  else if (c == 0xf4) len = 4, hi = 0x8f;  // nothing past U+10FFFF
  else return -1;
  for (int i = 1; i < len; i++) {
    if (static_cast<size_t>(i) >= n) return -i;
    uint8_t b = p[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return -i;
  }
  return len;
}

// Whether any of 8 bytes needs more than a copy: a control character, '"',
// '\\', DEL, or a byte >= 0x80 (SWAR: the usual has-zero-byte trick, one
// word at a time instead of a table lookup per byte).
inline bool word_needs_care(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\')) | has_zero(w ^ (kOnes * 0x7f)) |
          (w & kHigh)) != 0;
}

void append_int(int64_t v, std::string* out) {
  char buf[24];
  char* end = buf + sizeof buf;
  char* p = end;
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  out->append(p, static_cast<size_t>(end - p));
}

}  // namespace

void json_escape(const uint8_t* p, size_t n, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < n) {
    size_t run = i;
    for (uint64_t w; run + 8 <= n; run += 8) {
      memcpy(&w, p + run, 8);
      if (word_needs_care(w)) break;
    }
    while (run < n && kTable.kind[p[run]] == 0) run++;
    if (run > i) out->append(reinterpret_cast<const char*>(p + i), run - i);
    i = run;
    if (i >= n) break;
    uint8_t c = p[i];
    if (kTable.kind[c] == 1) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        default: {
          char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out->append(u, 6);
        }
      }
      i++;
      continue;
    }
    int len = utf8_seq(p + i, n - i);
    if (len > 0) {
      out->append(reinterpret_cast<const char*>(p + i), static_cast<size_t>(len));
      i += static_cast<size_t>(len);
    } else {
      out->append("\xef\xbf\xbd");
      i += static_cast<size_t>(-len);
    }
  }
}

size_t utf8_cut(const uint8_t* p, size_t n) {
  // Walk back over at most 3 continuation bytes to the sequence's lead.
  size_t i = n;
  int back = 0;
  while (i > 0 && back < 3 && (p[i - 1] & 0xc0) == 0x80) i--, back++;
  if (i == 0) return n;
  uint8_t lead = p[i - 1];
  size_t want = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 && lead < 0xe0 ? 2 : 1;
  if (want == 1) return n;                 // ASCII or a stray byte: nothing to keep together
  size_t have = n - (i - 1);
  if (have >= want) return n;              // the sequence is complete
  return i - 1 > 0 ? i - 1 : n;            // cut before its lead
}

LineFormatter::LineFormatter(LineFormatSpec spec) : spec_(std::move(spec)) {
  if (spec_.max_line == 0) spec_.max_line = 1;
  auto field = [this](const char* name, const std::string& v) {
    json_mid_.append(",\"").append(name).append("\":\"");
    json_escape(reinterpret_cast<const uint8_t*>(v.data()), v.size(), &json_mid_);
    json_mid_.push_back('"');
  };
  json_mid_ = "\"";  // closes the time
  field("program", spec_.program);
  field("process", spec_.process);
  field("group", spec_.group);
  field("stream", spec_.stream);
  json_mid_.append(",\"pid\":");
  prefix_ = spec_.process + " " + spec_.stream + " | ";
}

void LineFormatter::stamp(double wall_ms, std::string* out) {
  const bool rfc = spec_.mode == LineMode::kJson || spec_.time == TimeStyle::kRfc3339;
  int64_t ms = static_cast<int64_t>(std::floor(wall_ms));
  int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int frac = static_cast<int>(ms - sec * 1000);
  if (sec != cached_sec_) {
    time_t t = static_cast<time_t>(sec);
    struct tm tm;
    if (rfc) gmtime_r(&t, &tm);
    else localtime_r(&t, &tm);
    cached_len_ = strftime(cached_, sizeof cached_, rfc ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
    cached_sec_ = sec;
  }
  out->append(cached_, cached_len_);
  char tail[6] = {rfc ? '.' : ',', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                  static_cast<char>('0' + frac % 10), 'Z', 0};
  out->append(tail, rfc ? 5 : 4);
}

const std::string& LineFormatter::head(double wall_ms, int pid) {
  if (wall_ms == head_ms_ && pid == head_pid_ && !head_.empty()) return head_;
  head_ms_ = wall_ms;
  head_pid_ = pid;
  head_.clear();
  if (spec_.mode == LineMode::kJson) {
    head_.append("{\"time\":\"");
    stamp(wall_ms, &head_);
    head_.append(json_mid_);
    append_int(pid, &head_);
    head_.append(",\"line\":\"");
  } else {
    stamp(wall_ms, &head_);
    head_.push_back(' ');
  }
  return head_;
}

void LineFormatter::emit(const uint8_t* p, size_t n, double wall_ms, int pid, bool partial, std::string* out) {
  switch (spec_.mode) {
    case LineMode::kRaw:  // not used: raw bytes never come through here
    case LineMode::kTimestamped:
      out->append(head(wall_ms, pid));
      out->append(reinterpret_cast<const char*>(p), n);
      out->push_back('\n');
      return;
    case LineMode::kPrefixed:
      out->append(prefix_);
      out->append(reinterpret_cast<const char*>(p), n);
      out->push_back('\n');
      return;
    case LineMode::kJson:
      out->append(head(wall_ms, pid));
      json_escape(p, n, out);
      out->append(partial ? "\",\"partial\":true}\n" : "\"}\n");
      return;
  }
}

// A complete line (without its \n), cut into max_line pieces when longer.
void LineFormatter::emit_long(const uint8_t* p, size_t n, double wall_ms, int pid, std::string* out) {
  // json drops the \r of a CRLF ending; the text formats keep the bytes as written.
  if (spec_.mode == LineMode::kJson && n > 0 && p[n - 1] == '\r') n--;
  while (n > spec_.max_line) {
    size_t cut = utf8_cut(p, spec_.max_line);
    emit(p, cut, wall_ms, pid, true, out);
    p += cut;
    n -= cut;
  }
  emit(p, n, wall_ms, pid, false, out);
}

void LineFormatter::feed(const uint8_t* p, size_t n, double wall_ms, int64_t mono_ms, int pid, std::string* out) {
  while (n > 0) {
    const uint8_t* nl = static_cast<const uint8_t*>(memchr(p, '\n', n));
    if (!nl) {
      size_t old = pending_.size();  // bytes read before this call
      if (old == 0) {
        pending_wall_ = wall_ms;
        pending_mono_ = mono_ms;
        pending_pid_ = pid;
      }
      pending_.append(reinterpret_cast<const char*>(p), n);
      // Too long to wait for its end: out with what fits, the rest waits on.
      size_t done = 0;
      while (pending_.size() - done > spec_.max_line) {
        const uint8_t* q = reinterpret_cast<const uint8_t*>(pending_.data()) + done;
        size_t cut = utf8_cut(q, spec_.max_line);
        emit(q, cut, pending_wall_, pending_pid_, true, out);
        done += cut;
        if (done >= old) {  // the rest was read now
          pending_wall_ = wall_ms;
          pending_mono_ = mono_ms;
          pending_pid_ = pid;
        }
      }
      if (done > 0) pending_.erase(0, done);
      return;
    }
    size_t len = static_cast<size_t>(nl - p);
    if (pending_.empty()) {
      emit_long(p, len, wall_ms, pid, out);
    } else {
      pending_.append(reinterpret_cast<const char*>(p), len);
      emit_long(reinterpret_cast<const uint8_t*>(pending_.data()), pending_.size(), pending_wall_, pending_pid_, out);
      pending_.clear();
    }
    p = nl + 1;
    n -= len + 1;
  }
}

void LineFormatter::flush(int64_t mono_ms, bool all, std::string* out) {
  if (pending_.empty()) return;
  // Hold back an incomplete UTF-8 sequence at the end (its rest may be on
  // its way; it waits one more deadline), unless that is all there is.
  size_t cut = all ? pending_.size() : utf8_cut(reinterpret_cast<const uint8_t*>(pending_.data()), pending_.size());
  emit(reinterpret_cast<const uint8_t*>(pending_.data()), cut, pending_wall_, pending_pid_, true, out);
  pending_.erase(0, cut);
  pending_mono_ = mono_ms;
}

}  // namespace fv
