// SPDX-License-Identifier: MIT
// Events from the I/O thread to JS: fixed-size records plus one byte arena for
// tap data and notify datagrams, double-buffered under a mutex. The producer
// (I/O thread) wakes JS only when the queue goes from empty to non-empty; the
// JS side clears the flag before it takes the batch, so nothing pushed after
// the take is missed.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace fv {

enum class EventKind : int32_t {
  kExit = 1,           // id=child, pid, a=exit code (-1 if signalled), b=signal, c=core dumped
  kEof = 2,            // id=child, stream: the pipe closed (child or all holders gone)
  kSinkFault = 3,      // id=sink, a=errno, b=SinkOp
  kSinkRecovered = 4,  // id=sink, b=SinkOp of the episode, c=bytes dropped in it
  kTap = 5,            // id=child, stream, a=offset, b=length in the batch's data
  kTapDropped = 6,     // id=child, stream, c=bytes not delivered (JS too slow)
  kOrphan = 7,         // pid, a=exit code, b=signal: an orphan reaped (PID 1 / subreaper)
  kStdinClosed = 8,    // id=child, a=errno: stdin can take no more (child closed it)
  kSpawned = 9,        // id=request, pid, a=child handle: an asynchronous spawn ran its program
  kSpawnFailed = 10,   // id=request, pid (>0: failed after fork, already reaped), a=errno, b=SpawnStage
  kNotify = 11,        // id=notify socket, pid=sender (0: unknown), a=offset, b=length in the batch's data
};

struct Event {
  EventKind kind;
  uint32_t id;
  int32_t pid;
  int32_t stream;  // 1 stdout, 2 stderr
  double a, b, c;
  double time_ms;  // wall clock, when the I/O thread saw it
};

// Doubles so that a batch crosses to JS as one Float64Array.
constexpr int kEventFields = 8;

class EventQueue {
 public:
  using Notify = void (*)(void* ctx);
  void set_notify(Notify fn, void* ctx) {
    notify_ = fn;
    ctx_ = ctx;
  }

  // I/O thread.
  void push(const Event& e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
    }
    wake();
  }
  // Tap data is bounded: past kMaxTapBytes waiting for JS the bytes are not
  // queued and the caller counts them as dropped. Returns false then.
  bool push_tap(uint32_t child, int32_t stream, const uint8_t* p, size_t n, double now) {
    return push_data(EventKind::kTap, child, 0, stream, p, n, now);
  }
  // A notify datagram shares the tap bound; refused, it is simply lost (the
  // protocol repeats its state, so the next one says the same).
  bool push_notify(uint32_t socket, int32_t pid, const uint8_t* p, size_t n, double now) {
    return push_data(EventKind::kNotify, socket, pid, 0, p, n, now);
  }

  // Bytes of tap data that may still be queued before push_tap refuses.
  size_t tap_room() {
    std::lock_guard<std::mutex> lock(mu_);
    return data_.size() >= kMaxTapBytes ? 0 : kMaxTapBytes - data_.size();
  }

  // JS thread: clear the flag first, then take; see the file comment.
  void take(std::vector<Event>* events, std::vector<uint8_t>* data) {
    pending_.store(false, std::memory_order_release);
    std::lock_guard<std::mutex> lock(mu_);
    events->clear();
    data->clear();
    events_.swap(*events);
    data_.swap(*data);
  }

  static constexpr size_t kMaxTapBytes = 16u << 20;

 private:
  bool push_data(EventKind kind, uint32_t id, int32_t pid, int32_t stream, const uint8_t* p, size_t n, double now) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (data_.size() + n > kMaxTapBytes) return false;
      Event e{kind, id, pid, stream, static_cast<double>(data_.size()), static_cast<double>(n), 0, now};
      data_.insert(data_.end(), p, p + n);
      events_.push_back(e);
    }
    wake();
    return true;
  }
  void wake() {
    if (!pending_.exchange(true, std::memory_order_acq_rel) && notify_) notify_(ctx_);
  }
  std::mutex mu_;
  std::vector<Event> events_;
  std::vector<uint8_t> data_;
  std::atomic<bool> pending_{false};
  Notify notify_ = nullptr;
  void* ctx_ = nullptr;
};

}  // namespace fv
