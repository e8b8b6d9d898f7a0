// SPDX-License-Identifier: MIT
// strip_ansi: supervisord's stripEscapes (dispatchers.py) drops "ESC [" and
// everything up to one of its terminator letters. Its version works per read
// and misses an escape split across two reads; this one keeps state between
// reads. I/O thread.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fv {

class AnsiStripper {
 public:
  // Writes the kept bytes of [p, p+n) to out (room for n + 1 bytes: an ESC
  // held back from the previous read may come out now) and
  // returns how many.
  size_t strip(const uint8_t* p, size_t n, uint8_t* out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
      uint8_t ch = p[i];
      switch (state_) {
        case kText:
          if (ch == 0x1b) state_ = kEsc;
          else out[k++] = ch;
          break;
        case kEsc:
          if (ch == '[') {
            state_ = kCsi;
          } else {
            out[k++] = 0x1b;  // a lone ESC is kept, as supervisord keeps it
            if (ch == 0x1b) break;
            out[k++] = ch;
            state_ = kText;
          }
          break;
        case kCsi:
          if (is_terminator(ch)) state_ = kText;
          break;
      }
    }
    return k;
  }

 private:
  static bool is_terminator(uint8_t c) {
    switch (c) {
      case 'H': case 'f': case 'A': case 'B': case 'C': case 'D': case 'R': case 's':
      case 'u': case 'J': case 'K': case 'h': case 'l': case 'p': case 'm':
        return true;
      default:
        return false;
    }
  }
  enum State : uint8_t { kText, kEsc, kCsi };
  State state_ = kText;
};

}  // namespace fv
