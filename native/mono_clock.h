// SPDX-License-Identifier: MIT
// The monotonic clock the I/O thread and the log sinks schedule by (retry
// deadlines, rotation periods, the capture lag window): never steps with the
// wall clock.
#pragma once
#include <time.h>

#include <cstdint>

namespace fv {

inline int64_t mono_us() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

inline int64_t mono_ms() { return mono_us() / 1000; }

}  // namespace fv
