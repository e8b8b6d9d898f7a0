// SPDX-License-Identifier: MIT
// Messages to the local syslog socket, in the bytes supervisord 4.2.5 sends
// through Python's syslog module (glibc syslog(3) with no openlog options):
//   <14>Dec  6 16:45:15 supervisord: hello one
// facility user, priority info, the local time, the tag, no pid, no NUL.
//
// Written only by the I/O thread, never blocking it: a non-blocking datagram
// socket, connected lazily. glibc's socket blocks when the syslog daemon's
// queue is full (Linux queues only max_dgram_qlen datagrams, 10 by default:
// one burst of lines fills it), so supervisord waits there, and its children
// with it. Here a full socket parks messages in a bounded backlog that the
// I/O loop sends as soon as the socket is writable again (fd()/wants_write()
// and flush()), in order. Past the backlog's bound, or with no socket at all
// (no syslog daemon), a message is dropped and counted, and the episode is
// reported once through the SinkObserver, as a log file's write errors are;
// the first message that goes through again ends it. A socket that cannot be
// connected is tried again at most once a second.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "logfile.h"

namespace fv {

// The sink id under which syslog's fault episodes reach JS (kSinkFault /
// kSinkRecovered). Log file sinks count up from 1 and never get here.
constexpr uint32_t kSyslogSinkId = 0xffffffffu;

// The platform's syslog socket: /dev/log (Linux), /var/run/syslog (macOS),
// /var/run/log (the BSDs).
const char* syslog_default_path();

struct SyslogCounters {
  std::atomic<uint64_t> sent{0};        // messages the socket took
  std::atomic<uint64_t> dropped{0};     // messages lost (no socket, full, too big)
  std::atomic<int32_t> fault_errno{0};  // the open episode's errno, 0 when healthy
};

class SyslogWriter {
 public:
  SyslogWriter();
  ~SyslogWriter();
  SyslogWriter(const SyslogWriter&) = delete;
  SyslogWriter& operator=(const SyslogWriter&) = delete;

  // Any thread: where to send and the tag. Empty path: the platform's. Takes
  // effect at the next message (the socket is reconnected).
  void configure(const std::string& path, const std::string& ident);
  std::string path() const;

  // I/O thread. One read of a child's output, as supervisord's SyslogHandler
  // takes it: trailing newlines stripped, then one message per line, each
  // "<prefix> <line>" (an empty chunk sends nothing; empty lines inside do).
  void send_chunk(const std::string& prefix, const uint8_t* p, size_t n, int64_t now_ms, SinkObserver* obs);
  // I/O thread. One message as it is (the daemon's own log line).
  void send_message(const uint8_t* p, size_t n, int64_t now_ms, SinkObserver* obs);

  // I/O thread: messages wait for the socket to take them: poll fd() for
  // writing and call flush() when it is writable.
  bool wants_write() const { return fd_ >= 0 && !backlog_.empty(); }
  int fd() const { return fd_; }
  void flush(int64_t now_ms, SinkObserver* obs);
  // I/O thread: called with the fd just before it is closed (to unregister it).
  void set_close_hook(std::function<void(int)> hook) { close_hook_ = std::move(hook); }

  SyslogCounters counters;

 private:
  void apply_config();
  void header();
  void send_built(int64_t now_ms, SinkObserver* obs);
  int transmit(const std::string& m, int64_t now_ms);
  int connect_socket();
  void disconnect();
  void drop(int err, SinkObserver* obs);
  void healthy(SinkObserver* obs);

  mutable std::mutex cfg_mu_;
  std::string cfg_path_, cfg_ident_ = "supervisord";
  std::atomic<bool> cfg_changed_{true};

  // I/O thread only.
  std::string path_, ident_;
  int fd_ = -1;
  int64_t retry_at_ms_ = 0;  // no connect attempt before this
  int connect_err_ = 0;      // why the last connect failed
  std::deque<std::string> backlog_;  // waiting for a full socket, oldest first
  size_t backlog_bytes_ = 0;
  std::function<void(int)> close_hook_;
  bool faulted_ = false;
  uint64_t episode_dropped_ = 0;
  std::string msg_;          // the datagram being built
  std::string header_;       // "<14>Mmm dd HH:MM:SS ident: " of header_sec_
  time_t header_sec_ = -1;   // -1: build it again
};

}  // namespace fv
