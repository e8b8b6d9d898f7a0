// SPDX-License-Identifier: MIT
// Line formats (see line_format.h). Runs on the I/O thread for every line of
// a formatted channel, so the common case (ASCII lines, many per read) only
// copies: a stamp cached per second, escapes found by a table.
#include "line_format.h"

#include <time.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if !defined(__SSE2__)
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
#else
// One bit per byte of the 16 at p that needs more than a copy. A signed
// "less than 0x20" catches the control characters and every byte >= 0x80.
inline unsigned block_care_mask(const uint8_t* p) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i m = _mm_or_si128(
      _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(x, _mm_set1_epi8('"'))),
      _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\')), _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f))));
  return static_cast<unsigned>(_mm_movemask_epi8(m));
}
#endif

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

size_t json_clean_prefix(const uint8_t* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16)
    if (unsigned m = block_care_mask(p + i)) return i + static_cast<size_t>(__builtin_ctz(m));
  if (i < n && n >= 16) {
    // The last few bytes: one more block ending at n, without the bytes seen.
    unsigned m = block_care_mask(p + n - 16) >> (16 - (n - i));
    return m ? i + static_cast<size_t>(__builtin_ctz(m)) : n;
  }
#else
  for (uint64_t w; i + 8 <= n; i += 8) {
    memcpy(&w, p + i, 8);
    if (word_needs_care(w)) break;
  }
#endif
  while (i < n && kTable.kind[p[i]] == 0) i++;
  return i;
}

char* json_escape(const uint8_t* p, size_t n, char* w) {
  static const char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < n) {
    size_t run = i + json_clean_prefix(p + i, n - i);
    memcpy(w, p + i, run - i);
    w += run - i;
    i = run;
    if (i >= n) break;
    uint8_t c = p[i];
    if (kTable.kind[c] == 1) {
      *w++ = '\\';
      switch (c) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '\n': *w++ = 'n'; break;
        case '\r': *w++ = 'r'; break;
        case '\t': *w++ = 't'; break;
        case '\b': *w++ = 'b'; break;
        case '\f': *w++ = 'f'; break;
        default:
          memcpy(w, "u00", 3);
          w[3] = kHex[c >> 4];
          w[4] = kHex[c & 15];
          w += 5;
      }
      i++;
      continue;
    }
    int len = utf8_seq(p + i, n - i);
    if (len > 0) {
      memcpy(w, p + i, static_cast<size_t>(len));
      w += len;
      i += static_cast<size_t>(len);
    } else {
      memcpy(w, "\xef\xbf\xbd", 3);
      w += 3;
      i += static_cast<size_t>(-len);
    }
  }
  return w;
}

void json_escape(const uint8_t* p, size_t n, std::string* out) {
  size_t old = out->size();
  out->resize(old + 6 * n);
  char* end = json_escape(p, n, &(*out)[old]);
  out->resize(static_cast<size_t>(end - out->data()));
}

void RecordBuffer::grow(size_t n) {
  size_t cap = cap_ < 64 * 1024 ? 64 * 1024 : cap_ * 2;
  while (cap - len_ < n) cap *= 2;
  std::unique_ptr<char[]> bigger(new char[cap]);  // not zeroed: only written bytes are read
  if (len_) memcpy(bigger.get(), buf_.get(), len_);
  buf_ = std::move(bigger);
  cap_ = cap;
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

namespace {
void split_ms(double wall_ms, int64_t* sec, int* frac) {
  int64_t ms = static_cast<int64_t>(std::floor(wall_ms));
  *sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  *frac = static_cast<int>(ms - *sec * 1000);
}

void put_ms(int frac, char* w) {
  w[0] = static_cast<char>('0' + frac / 100);
  w[1] = static_cast<char>('0' + frac / 10 % 10);
  w[2] = static_cast<char>('0' + frac % 10);
}
}  // namespace

size_t LineFormatter::stamp(double wall_ms, std::string* out) {
  const bool rfc = spec_.mode == LineMode::kJson || spec_.time == TimeStyle::kRfc3339;
  int64_t sec;
  int frac;
  split_ms(wall_ms, &sec, &frac);
  if (sec != cached_sec_) {
    time_t t = static_cast<time_t>(sec);
    struct tm tm;
    if (rfc) gmtime_r(&t, &tm);
    else localtime_r(&t, &tm);
    cached_len_ = strftime(cached_, sizeof cached_, rfc ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
    cached_sec_ = sec;
  }
  out->append(cached_, cached_len_);
  char tail[5] = {rfc ? '.' : ',', 0, 0, 0, 'Z'};
  put_ms(frac, tail + 1);
  out->append(tail, rfc ? 5 : 4);
  return out->size() - (rfc ? 4 : 3);
}

const std::string& LineFormatter::head(double wall_ms, int pid) {
  if (wall_ms == head_ms_ && pid == head_pid_ && !head_.empty()) return head_;
  int64_t sec;
  int frac;
  split_ms(wall_ms, &sec, &frac);
  head_ms_ = wall_ms;
  if (sec == head_sec_ && pid == head_pid_ && !head_.empty()) {
    put_ms(frac, &head_[head_frac_]);
    return head_;
  }
  head_sec_ = sec;
  head_pid_ = pid;
  head_.clear();
  if (spec_.mode == LineMode::kJson) {
    head_.append("{\"time\":\"");
    head_frac_ = stamp(wall_ms, &head_);
    head_.append(json_mid_);
    append_int(pid, &head_);
    head_.append(",\"line\":\"");
  } else {
    head_frac_ = stamp(wall_ms, &head_);
    head_.push_back(' ');
  }
  return head_;
}

void LineFormatter::emit(const uint8_t* p, size_t n, double wall_ms, int pid, bool partial, RecordBuffer* out) {
  static const char kPartialEnd[] = "\",\"partial\":true}\n";
  const std::string& h = spec_.mode == LineMode::kPrefixed ? prefix_ : head(wall_ms, pid);
  const bool json = spec_.mode == LineMode::kJson;
  char* w = out->room(h.size() + (json ? 6 * n + sizeof kPartialEnd : n + 1));
  memcpy(w, h.data(), h.size());
  w += h.size();
  if (json) {
    w = json_escape(p, n, w);
    if (partial) {
      memcpy(w, kPartialEnd, sizeof kPartialEnd - 1);
      w += sizeof kPartialEnd - 1;
    } else {
      memcpy(w, "\"}\n", 3);
      w += 3;
    }
  } else {  // timestamped, prefixed (raw bytes never come here)
    memcpy(w, p, n);
    w += n;
    *w++ = '\n';
  }
  out->commit(w);
}

// A complete line (without its \n), cut into max_line pieces when longer.
void LineFormatter::emit_long(const uint8_t* p, size_t n, double wall_ms, int pid, RecordBuffer* out) {
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

// json's common case: the lines at p that need no escaping, no \r dropped
// and no cut (printable ASCII up to the \n, within max_line), each made in
// one pass: the scan for escapes finds the \n too. Returns the bytes used
// (whole lines only); 0 when the first line needs the general path.
size_t LineFormatter::feed_clean_json(const uint8_t* p, size_t n, double wall_ms, int pid, RecordBuffer* out) {
  const std::string& h = head(wall_ms, pid);
  const size_t scan_max = spec_.max_line + 1;
  size_t used = 0;
  while (used < n) {
    const uint8_t* line = p + used;
    const size_t left = n - used;
    const size_t clean = json_clean_prefix(line, left < scan_max ? left : scan_max);
    if (clean == left || line[clean] != '\n' || clean > spec_.max_line) break;
    char* w = out->room(h.size() + clean + 3);
    memcpy(w, h.data(), h.size());
    w += h.size();
    memcpy(w, line, clean);
    w += clean;
    memcpy(w, "\"}\n", 3);
    out->commit(w + 3);
    used += clean + 1;
  }
  return used;
}

void LineFormatter::feed(const uint8_t* p, size_t n, double wall_ms, int64_t mono_ms, int pid, RecordBuffer* out) {
  while (n > 0) {
    if (spec_.mode == LineMode::kJson && pending_.empty()) {
      size_t used = feed_clean_json(p, n, wall_ms, pid, out);
      p += used;
      n -= used;
      if (n == 0) return;
    }
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

void LineFormatter::flush(int64_t mono_ms, bool all, RecordBuffer* out) {
  if (pending_.empty()) return;
  // Hold back an incomplete UTF-8 sequence at the end (its rest may be on
  // its way; it waits one more deadline), unless that is all there is.
  size_t cut = all ? pending_.size() : utf8_cut(reinterpret_cast<const uint8_t*>(pending_.data()), pending_.size());
  emit(reinterpret_cast<const uint8_t*>(pending_.data()), cut, pending_wall_, pending_pid_, true, out);
  pending_.erase(0, cut);
  pending_mono_ = mono_ms;
}

}  // namespace fv
