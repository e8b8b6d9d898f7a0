// SPDX-License-Identifier: MIT
// The syslog socket writer (see syslog.h). configure() may run on any thread;
// everything else runs on the I/O thread.
#include "syslog.h"

#include "dgram_socket.h"

#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

namespace fv {
namespace {

constexpr int64_t kRetryMs = 1000;
// What a full socket may hold back: a few seconds of a chatty child's lines
// while the syslog daemon is busy, not an unbounded heap when it is stuck.
constexpr size_t kBacklogMax = 256 * 1024;
// LOG_USER | LOG_INFO: Python's syslog.syslog(msg) without a priority.
constexpr int kPriority = (1 << 3) | 6;
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

#if !defined(MSG_NOSIGNAL)
#define MSG_NOSIGNAL 0
#endif


}  // namespace

const char* syslog_default_path() {
#if defined(__APPLE__)
  return "/var/run/syslog";
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__)
  return "/var/run/log";
#else
  return "/dev/log";
#endif
}

SyslogWriter::SyslogWriter() {
  // localtime_r need not read TZ itself; do it once here, off the I/O thread.
  tzset();
}

SyslogWriter::~SyslogWriter() {
  // Not disconnect(): the loop that the hook reaches is being torn down.
  if (fd_ >= 0) close(fd_);
}

void SyslogWriter::configure(const std::string& path, const std::string& ident) {
  std::lock_guard<std::mutex> lock(cfg_mu_);
  cfg_path_ = path;
  cfg_ident_ = ident;
  cfg_changed_.store(true, std::memory_order_release);
}

std::string SyslogWriter::path() const {
  std::lock_guard<std::mutex> lock(cfg_mu_);
  return cfg_path_.empty() ? syslog_default_path() : cfg_path_;
}

void SyslogWriter::apply_config() {
  if (!cfg_changed_.exchange(false, std::memory_order_acq_rel)) return;
  {
    std::lock_guard<std::mutex> lock(cfg_mu_);
    path_ = cfg_path_.empty() ? syslog_default_path() : cfg_path_;
    ident_ = cfg_ident_;
  }
  header_sec_ = -1;  // the ident may have changed
  disconnect();
  retry_at_ms_ = 0;
  backlog_.clear();
  backlog_bytes_ = 0;
}

// glibc's "<%d>%h %e %T %s: ", in the C locale's month names and local time;
// made once a second (localtime_r takes the time zone lock), as the line
// formatter's stamps are.
void SyslogWriter::header() {
  time_t now = time(nullptr);
  if (now != header_sec_) {
    struct tm tm;
    localtime_r(&now, &tm);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "<%d>%s %2d %02d:%02d:%02d ", kPriority, kMonths[tm.tm_mon % 12], tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
    header_.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
    header_ += ident_;
    header_ += ": ";
    header_sec_ = now;
  }
  msg_ = header_;
}

int SyslogWriter::connect_socket() {
  // Like a log file, the socket must not take the daemon's last descriptors.
  if (fds_short(1)) return -EMFILE;
  int fd = unix_dgram_socket();
  if (fd < 0) return fd;
  struct sockaddr_un addr;
  socklen_t len = unix_path_addr(path_, &addr);
  if (len == 0) {
    close(fd);
    return -ENAMETOOLONG;
  }
  if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), len) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  fd_ = fd;
  return 0;
}

void SyslogWriter::disconnect() {
  if (fd_ < 0) return;
  if (close_hook_) close_hook_(fd_);
  close(fd_);
  fd_ = -1;
}

void SyslogWriter::drop(int err, SinkObserver* obs) {
  counters.dropped.fetch_add(1, std::memory_order_relaxed);
  episode_dropped_++;
  if (!faulted_ || counters.fault_errno.load(std::memory_order_relaxed) != err) {
    faulted_ = true;
    counters.fault_errno.store(err, std::memory_order_relaxed);
    obs->sink_fault(kSyslogSinkId, err, SinkOp::kWrite);
  }
}

// The episode ends once everything waiting went out: a reader slower than
// the writer keeps the backlog full and must not make it flap, one line per
// message that slips through.
void SyslogWriter::healthy(SinkObserver* obs) {
  counters.sent.fetch_add(1, std::memory_order_relaxed);
  if (!faulted_ || !backlog_.empty()) return;
  faulted_ = false;
  counters.fault_errno.store(0, std::memory_order_relaxed);
  obs->sink_recovered(kSyslogSinkId, episode_dropped_, SinkOp::kWrite);
  episode_dropped_ = 0;
}

// 0: sent; -EAGAIN: the socket is full (keep the message); else -errno: the
// message is lost. A receiver that went away (syslogd restarted:
// ECONNREFUSED) gets one fresh connect at once, as glibc's syslog does; a
// socket that cannot be connected is not tried again before the retry
// deadline, so a host without syslog costs one failed connect a second, not
// one per line.
int SyslogWriter::transmit(const std::string& m, int64_t now_ms) {
  for (int attempt = 0; attempt < 2; attempt++) {
    if (fd_ < 0) {
      if (now_ms < retry_at_ms_) return -connect_err_;
      int rc = connect_socket();
      if (rc < 0) {
        retry_at_ms_ = now_ms + kRetryMs;
        connect_err_ = -rc;
        return rc;
      }
    }
    ssize_t w;
    do {
      w = ::send(fd_, m.data(), m.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    if (w >= 0) return 0;
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) return -EAGAIN;
    if (err == EMSGSIZE) return -EMSGSIZE;
    disconnect();
    if (attempt == 1) {
      retry_at_ms_ = now_ms + kRetryMs;
      connect_err_ = err;
      return -err;
    }
  }
  return -EIO;
}

// Sends msg_, or parks it behind the messages already waiting (order is kept).
void SyslogWriter::send_built(int64_t now_ms, SinkObserver* obs) {
  // Readiness brings flush() too; trying here as well costs one EAGAIN while
  // the socket is full and never leaves messages waiting on a missed wake-up.
  if (!backlog_.empty()) flush(now_ms, obs);
  if (backlog_.empty()) {
    int rc = transmit(msg_, now_ms);
    if (rc == 0) return healthy(obs);
    if (rc != -EAGAIN) return drop(-rc, obs);
  }
  if (backlog_bytes_ + msg_.size() > kBacklogMax) return drop(EAGAIN, obs);
  backlog_bytes_ += msg_.size();
  backlog_.push_back(msg_);
}

void SyslogWriter::flush(int64_t now_ms, SinkObserver* obs) {
  while (!backlog_.empty()) {
    int rc = transmit(backlog_.front(), now_ms);
    if (rc == -EAGAIN) return;
    backlog_bytes_ -= backlog_.front().size();
    backlog_.pop_front();
    if (rc == 0) healthy(obs);
    else drop(-rc, obs);  // the socket is gone: the rest follows at once
  }
}

void SyslogWriter::send_chunk(const std::string& prefix, const uint8_t* p, size_t n, int64_t now_ms,
                              SinkObserver* obs) {
  if (n == 0) return;
  apply_config();
  header();
  msg_ += prefix;
  msg_ += ' ';
  const size_t base = msg_.size();
  // message.rstrip('\n').split('\n')
  size_t end = n;
  while (end > 0 && p[end - 1] == '\n') end--;
  size_t start = 0;
  for (;;) {
    const void* nl = memchr(p + start, '\n', end - start);
    size_t stop = nl ? static_cast<size_t>(static_cast<const uint8_t*>(nl) - p) : end;
    // Python hands the line to syslog(3) as a C string: a NUL ends it.
    const void* nul = memchr(p + start, '\0', stop - start);
    size_t len = (nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - p) : stop) - start;
    msg_.resize(base);
    msg_.append(reinterpret_cast<const char*>(p + start), len);
    send_built(now_ms, obs);
    if (!nl) break;
    start = stop + 1;
  }
}

void SyslogWriter::send_message(const uint8_t* p, size_t n, int64_t now_ms, SinkObserver* obs) {
  apply_config();
  header();
  const void* nul = memchr(p, '\0', n);
  if (nul) n = static_cast<size_t>(static_cast<const uint8_t*>(nul) - p);
  msg_.append(reinterpret_cast<const char*>(p), n);
  send_built(now_ms, obs);
}

}  // namespace fv
