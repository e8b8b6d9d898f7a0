// SPDX-License-Identifier: MIT
// The I/O thread (see io_loop.h). Methods above run() are JS-thread entry
// points; run() and everything below it run on the I/O thread.
#include "io_loop.h"

#include "mono_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include <cstring>

namespace fv {
namespace {

// Tokens name what became ready by child handle (or notify socket id), never
// by fd: an fd number can be closed and reused within one wave, a handle is
// never reused.
enum TokenKind : uint64_t { kTokWake = 1, kTokChannel = 2, kTokPid = 3, kTokStdin = 4, kTokNotify = 5, kTokSyslog = 6 };
uint64_t token(TokenKind k, int stream, uint32_t handle) {
  return (static_cast<uint64_t>(k) << 56) | (static_cast<uint64_t>(stream) << 32) | handle;
}

constexpr size_t kReadBuffer = 256 * 1024;
// One flooding child must not starve the others: at most this much per fd
// per wave, then the next ready fd gets its turn.
constexpr size_t kFdBudget = 1 << 20;
// A wave whose largest read stayed below this came from trickling writers:
// their pipes are far from full, so the loop can wait a few milliseconds and
// pick up many lines per read instead of one (see run()).
constexpr size_t kTrickleBytes = 16 * 1024;
constexpr int kMaxReady = 1024;
// Datagrams taken from one notify socket per wave: a child spamming its
// socket must not starve the pipes. Readiness is level-triggered, so the
// rest waits for the next wave.
constexpr int kNotifyBurst = 64;
// Per fd served in a trickling wave, this much wait before the next wave, up
// to the lag bound (batch_ms_): 5 chatty children -> 5 ms, 30 or more -> the
// default bound. Each fd served costs a pipe read and a file write (~2-4 µs
// of mostly kernel time, whatever their size: see run()), so trickling output
// costs well under 1 % of a core however many children write it, until the
// bound caps the wait; a handful of children see a few ms at most.
constexpr int64_t kWindowPerFdUs = 1000;
// After a wave with a big read, no coalescing wait for this long: a stream
// read in pieces of alternating size (a big one after a wait, small ones while
// the loop keeps up) must not be made to wait, and block on a full pipe, every
// time a piece happens to be small.
constexpr int64_t kHotHoldMs = 1000;

double wall_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void decode_status(int status, double* code, double* sig, double* core) {
  *code = -1;
  *sig = 0;
  *core = 0;
  if (WIFEXITED(status)) {
    *code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    *sig = WTERMSIG(status);
#ifdef WCOREDUMP
    *core = WCOREDUMP(status) ? 1 : 0;
#endif
  }
}

}  // namespace

IoLoop::IoLoop() = default;

IoLoop::~IoLoop() { stop(); }

// ---- JS thread -------------------------------------------------------------

int IoLoop::start(const Options& opts, EventQueue::Notify notify, void* ctx) {
  if (running()) return -EALREADY;
  backend_ = make_backend(opts.backend);
  if (!backend_) return -ENOENT;
  int rc = backend_->init();
  if (rc < 0) {
    backend_.reset();
    return rc;
  }
  needs_sigchld_ = !backend_->watches_pids();
  set_batch_ms(opts.batch_ms);
#if defined(__linux__)
  wake_r_ = wake_w_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_r_ < 0) return -errno;
#else
  int p[2];
  if (pipe(p) != 0) return -errno;
  for (int fd : p) {
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  wake_r_ = p[0];
  wake_w_ = p[1];
#endif
  rc = backend_->add(wake_r_, token(kTokWake, 0, 0), kRead);
  if (rc < 0) return rc;
  buf_.resize(kReadBuffer);
  scratch_.resize(kReadBuffer + 1);
  ready_.resize(kMaxReady);
  events_.set_notify(notify, ctx);
  // The syslog socket leaves the backend before its fd is closed (and its
  // number perhaps reused by a child's pipe).
  syslog_.set_close_hook([this](int fd) {
    if (fd != syslog_polled_fd_) return;
    backend_->remove(fd);
    syslog_polled_fd_ = -1;
  });
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return 0;
}

void IoLoop::stop() {
  if (!running()) return;
  post(Command(Cmd::kStop, 0));
  thread_.join();
  // The thread is gone: its state can be torn down from here. Children keep
  // running; deciding their fate is the supervisor's job, not the pump's.
  for (auto& [handle, c] : children_) {
    for (int s = 1; s <= 2; s++)
      if (c->ch[s].fd >= 0) close(c->ch[s].fd);
    if (c->stdin_fd >= 0) close(c->stdin_fd);
    if (c->pidfd >= 0) close(c->pidfd);
  }
  children_.clear();
  by_pid_.clear();
  for (auto& sink : partial_sinks_) sink->partial_listed = false;
  partial_sinks_.clear();
  for (auto& [id, fd] : notify_fds_) close(fd);
  notify_fds_.clear();
  {
    std::lock_guard<std::mutex> lock(reg_mu_);
    shared_.clear();
    sinks_.clear();
    for (auto& [id, name] : notify_names_) notify_unlink(name);
    notify_names_.clear();
  }
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    // Only the JS thread opens notify sockets and it is in here, so none
    // should wait; but an fd in a command nobody will run would leak.
    for (auto& c : commands_)
      if (c.cmd == Cmd::kAddNotify && c.fd >= 0) close(c.fd);
    commands_.clear();
  }
  if (wake_r_ >= 0) close(wake_r_);
  if (wake_w_ >= 0 && wake_w_ != wake_r_) close(wake_w_);
  wake_r_ = wake_w_ = -1;
  if (syslog_polled_fd_ >= 0) backend_->remove(syslog_polled_fd_);
  syslog_polled_fd_ = -1;
  syslog_.set_close_hook(nullptr);
  backend_.reset();
}

int IoLoop::spawn(const SpawnPlan& plan, SpawnResult* out) {
  int rc = spawn_child(plan, out, this);
  int delay = register_delay_ms_.load();
  if (rc == 0 && delay > 0) {
    struct timespec ts{delay / 1000, (delay % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
  }
  return rc;
}

void IoLoop::spawn_failed(uint32_t request, pid_t pid, int err, SpawnStage stage) {
  Command c(Cmd::kSpawnFailed, request);
  c.pid = pid;
  c.err = err;
  c.stage = static_cast<int>(stage);
  post(std::move(c));
}

void IoLoop::before_fork() {
  std::lock_guard<std::mutex> lock(fork_mu_);
  forks_in_flight_++;
}

void IoLoop::after_fork(pid_t pid) {
  bool rescan = false;
  {
    std::lock_guard<std::mutex> lock(fork_mu_);
    if (pid > 0) forked_[pid] = kNoStatus;
    forks_in_flight_--;
    if (forks_in_flight_ == 0 && rescan_after_fork_) {
      rescan_after_fork_ = false;
      rescan = true;
    }
  }
  // The sweep stopped at a zombie it could not place while we forked.
  if (rescan && running()) request_reap_scan();
}

void IoLoop::reaped_by_spawn(pid_t pid) {
  std::lock_guard<std::mutex> lock(fork_mu_);
  forked_.erase(pid);
}

uint32_t IoLoop::add_child(const SpawnResult& r, ChannelSpec out, ChannelSpec err, uint32_t request) {
  auto c = std::make_unique<Child>();
  c->request = request;
  c->pid = r.pid;
  c->pidfd = r.pidfd;
  c->stdin_fd = r.stdin_fd;
  c->ch[1].fd = r.stdout_fd;
  c->ch[1].stream = 1;
  c->ch[2].fd = r.stderr_fd;
  c->ch[2].stream = 2;
  c->shared = std::make_shared<ChildShared>();
  // No stdin pipe (an fcgi-program's fd 0 is its socket): writes get NO_FILE.
  c->shared->stdin_closed = r.stdin_fd < 0;
  c->shared->tap[1] = out.tap;
  c->shared->tap[2] = err.tap;
  c->ch[1].spec = std::move(out);
  c->ch[2].spec = std::move(err);
  {
    std::lock_guard<std::mutex> lock(reg_mu_);
    c->handle = next_child_++;
    shared_[c->handle] = c->shared;
  }
  uint32_t handle = c->handle;
  Command cmd(Cmd::kAddChild, handle);
  cmd.child = std::move(c);
  post(std::move(cmd));
  return handle;
}

int IoLoop::write_stdin(uint32_t child, const uint8_t* p, size_t n) {
  std::shared_ptr<ChildShared> s;
  {
    std::lock_guard<std::mutex> lock(reg_mu_);
    auto it = shared_.find(child);
    if (it == shared_.end()) return -ESRCH;
    s = it->second;
  }
  bool queue_wake;
  {
    std::lock_guard<std::mutex> lock(s->stdin_mu);
    if (s->stdin_closed) return -EPIPE;
    if (s->stdin_buf.size() + n > kStdinLimit) return -EAGAIN;
    s->stdin_buf.append(reinterpret_cast<const char*>(p), n);
    queue_wake = !s->stdin_wake_queued;
    s->stdin_wake_queued = true;
  }
  if (queue_wake) post(Command(Cmd::kStdinWake, child));
  return 0;
}

int IoLoop::close_stdin(uint32_t child) {
  std::shared_ptr<ChildShared> s;
  {
    std::lock_guard<std::mutex> lock(reg_mu_);
    auto it = shared_.find(child);
    if (it == shared_.end()) return -ESRCH;
    s = it->second;
  }
  {
    std::lock_guard<std::mutex> lock(s->stdin_mu);
    s->stdin_closed = true;
    s->stdin_close_requested = true;
  }
  post(Command(Cmd::kCloseStdin, child));
  return 0;
}

int IoLoop::set_tap(uint32_t child, int stream, bool on) {
  if (stream != 1 && stream != 2) return -EINVAL;
  std::lock_guard<std::mutex> lock(reg_mu_);
  auto it = shared_.find(child);
  if (it == shared_.end()) return -ESRCH;
  it->second->tap[stream].store(on, std::memory_order_relaxed);
  return 0;
}

bool IoLoop::child_counters(uint32_t child, double out[3]) {
  std::lock_guard<std::mutex> lock(reg_mu_);
  auto it = shared_.find(child);
  if (it == shared_.end()) return false;
  out[0] = static_cast<double>(it->second->read_bytes[1].load(std::memory_order_relaxed));
  out[1] = static_cast<double>(it->second->read_bytes[2].load(std::memory_order_relaxed));
  {
    std::lock_guard<std::mutex> slock(it->second->stdin_mu);
    out[2] = static_cast<double>(it->second->stdin_buf.size());
  }
  return true;
}

std::shared_ptr<LogSink> IoLoop::open_sink(const std::string& path, uint64_t maxbytes, int backups, int* err) {
  uint32_t id;
  {
    std::lock_guard<std::mutex> lock(reg_mu_);
    id = next_sink_++;
  }
  // Like a spawn, a new log file must not take the daemon's last descriptors.
  if (fds_short(1)) {
    *err = -EMFILE;
    return nullptr;
  }
  auto sink = std::make_shared<LogSink>(id, path, maxbytes, backups);
  *err = sink->open_initial();
  if (*err < 0) return nullptr;
  std::lock_guard<std::mutex> lock(reg_mu_);
  sinks_[id] = sink;
  return sink;
}

void IoLoop::close_sink(uint32_t id) {
  std::shared_ptr<LogSink> keep;  // destroyed after the lock is released
  std::lock_guard<std::mutex> lock(reg_mu_);
  auto it = sinks_.find(id);
  if (it == sinks_.end()) return;
  keep = std::move(it->second);
  sinks_.erase(it);
}

std::shared_ptr<LogSink> IoLoop::find_sink(uint32_t id) {
  std::lock_guard<std::mutex> lock(reg_mu_);
  auto it = sinks_.find(id);
  return it == sinks_.end() ? nullptr : it->second;
}

int IoLoop::reopen_sinks(uint32_t id) { return post_sync(Cmd::kReopen, id); }
int IoLoop::rotate_sink(uint32_t id) { return id == 0 ? -ENOENT : post_sync(Cmd::kRotate, id); }

uint32_t IoLoop::open_notify(const std::string& path, const NotifyOwner& owner, int* err) {
  // Only the I/O thread's loop reads it: one not running would never.
  if (!running()) {
    *err = -ESRCH;
    return 0;
  }
  if (fds_short(1)) {
    *err = -EMFILE;
    return 0;
  }
  NotifyName name;
  int fd = notify_open(path, owner, &name);
  if (fd < 0) {
    *err = fd;
    return 0;
  }
  uint32_t id;
  {
    std::lock_guard<std::mutex> lock(reg_mu_);
    id = next_notify_++;
    notify_names_[id] = std::move(name);
  }
  // The backend is the I/O thread's: it registers the fd. Commands run in
  // order, so a close_notify right after this one finds it registered.
  Command c(Cmd::kAddNotify, id);
  c.fd = fd;
  post(std::move(c));
  *err = 0;
  return id;
}

void IoLoop::close_notify(uint32_t id) {
  NotifyName name;
  {
    std::lock_guard<std::mutex> lock(reg_mu_);
    auto it = notify_names_.find(id);
    if (it == notify_names_.end()) return;
    name = std::move(it->second);
    notify_names_.erase(it);
  }
  // Here, not on the I/O thread: once closeNotify returns, a send to the path
  // fails, and a new socket may be bound there at once.
  notify_unlink(name);
  post(Command(Cmd::kCloseNotify, id));
}

int IoLoop::write_sink(uint32_t id, const uint8_t* p, size_t n, int pid) {
  auto sink = find_sink(id);
  if (!sink) return -ENOENT;
  Command c(Cmd::kSinkWrite, id);
  c.sink = std::move(sink);
  c.pid = pid;
  c.data.assign(reinterpret_cast<const char*>(p), n);
  post(std::move(c));
  return 0;
}
void IoLoop::write_syslog(const std::string& prefix, bool chunk, const uint8_t* p, size_t n) {
  Command c(Cmd::kSyslogWrite, 0);
  c.prefix = prefix;
  c.stage = chunk ? 1 : 0;
  c.data.assign(reinterpret_cast<const char*>(p), n);
  post(std::move(c));
}
int IoLoop::clear_sink(uint32_t id) { return post_sync(Cmd::kClear, id); }
void IoLoop::request_reap_scan() { post(Command(Cmd::kReapScan, 0)); }
void IoLoop::set_reap_orphans(bool on) { reap_orphans_.store(on); }

void IoLoop::post(Command c) {
  bool woken;
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    commands_.push_back(std::move(c));
    woken = commands_pending_.exchange(true, std::memory_order_acq_rel);
  }
  // Pending already: a wake-up is on its way or consumed, and run_commands,
  // which clears the flag under this lock, has not taken the queue yet, so it
  // takes this command too. A burst of main-log lines and spawns (thousands at
  // start-up) costs one wake-up per batch instead of a write(2) each.
  if (!woken) wake();
}

int IoLoop::post_sync(Cmd cmd, uint32_t id) {
  if (!running()) return -ESRCH;
  auto sync = std::make_shared<SyncResult>();
  Command c(cmd, id);
  c.sync = sync;
  post(std::move(c));
  // The I/O thread never waits on JS, so this cannot deadlock; it only waits
  // for the current wave (bounded by kFdBudget per fd) to finish.
  std::unique_lock<std::mutex> lock(sync->mu);
  sync->cv.wait(lock, [&] { return sync->done; });
  return sync->value;
}

void IoLoop::wake() {
  uint64_t one = 1;
  // EAGAIN means a wake-up is already pending, which is all we need.
  ssize_t r = ::write(wake_w_, &one, wake_w_ == wake_r_ ? sizeof one : 1);
  (void)r;
}

// ---- I/O thread ------------------------------------------------------------

void IoLoop::run() {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "fastvisor-io");
#elif defined(__APPLE__)
  pthread_setname_np("fastvisor-io");
#endif
  now_ms_ = mono_ms();
  while (!stopping_) {
    // Where exits are only known through SIGCHLD (the poll backend), a
    // child's exit must never hang on one lost or late wake-up: while such
    // children run, look at them at least once a second anyway.
    const bool scan = needs_sigchld_ && has_unwatched_children();
    int timeout = scan ? kUnwatchedScanMs : -1;
    // A formatted log's partial line is written out when it is due.
    if (!partial_sinks_.empty()) timeout = partial_timeout(timeout);
    int n = backend_->wait(ready_.data(), kMaxReady, timeout);
    const int64_t wave_start_us = mono_us();
    now_ms_ = wave_start_us / 1000;
    if (scan && now_ms_ - last_unwatched_scan_ms_ >= kUnwatchedScanMs) {
      last_unwatched_scan_ms_ = now_ms_;
      reap_scan();
    }
    if (n < 0) continue;  // EINTR is folded into 0; nothing else is expected
    size_t wave_bytes = 0, max_read = 0, fds_served = 0;
    for (int i = 0; i < n; i++) {
      const Ready& r = ready_[static_cast<size_t>(i)];
      if ((r.token >> 56) == kTokChannel) {
        uint32_t handle = static_cast<uint32_t>(r.token);
        int stream = static_cast<int>((r.token >> 32) & 0xff);
        auto it = children_.find(handle);
        if (it == children_.end()) continue;
        size_t got = drain(*it->second, stream, kFdBudget, false);
        wave_bytes += got;
        fds_served += got > 0;
        if (got > max_read) max_read = got;
      } else {
        handle_ready(r);
      }
    }
    if (commands_pending_.load(std::memory_order_acquire)) run_commands();
    if (!partial_sinks_.empty()) flush_due_partials();
    // Coalescing: 200 children each writing 500 short lines a second would
    // otherwise wake this thread for nearly every line (that is what the
    // plain C loop does, and why it burns a quarter of a core). Once a wave
    // has found only trickles, the floor is the kernel's cost per read and
    // per file write (a pipe read and an ext4 append: a few µs each, whatever
    // their size): so wait before the next wave, and each read takes many
    // lines and each log gets one larger write. The wait grows with the number
    // of fds the wave served (kWindowPerFdUs each), so trickling output costs
    // a bounded share of a core however many children there are, and a
    // handful of chatty children see little delay; it is counted from the
    // start of the wave and never exceeds the lag bound batch_ms_, so no
    // trickle waits longer than that for its file. Commands still wake us at
    // once; a wave with a big read (a pipe filling up) never waits, nor does
    // any wave for kHotHoldMs after one, so bulk output is unaffected; an exit
    // seen meanwhile is drained before it is reported (child_exited).
    const int lag_ms = batch_ms_.load(std::memory_order_relaxed);
    if (max_read >= kTrickleBytes) hot_until_ms_ = now_ms_ + kHotHoldMs;
    if (lag_ms > 0 && wave_bytes > 0 && max_read < kTrickleBytes && now_ms_ >= hot_until_ms_ && !stopping_) {
      int64_t us = static_cast<int64_t>(fds_served) * kWindowPerFdUs;
      int64_t cap = static_cast<int64_t>(lag_ms) * 1000;
      if (us > cap) us = cap;
      us -= mono_us() - wave_start_us;
      if (us > 0) wait_batch_window(static_cast<int>(us));
    }
  }
}

void IoLoop::wait_batch_window(int us) {
  if (us < 100) return;
  struct pollfd p{wake_r_, POLLIN, 0};
#if defined(__linux__)
  // ppoll for sub-millisecond windows; poll() would round them to 0 or 1 ms.
  struct timespec ts{us / 1000000, (us % 1000000) * 1000L};
  while (ppoll(&p, 1, &ts, nullptr) < 0 && errno == EINTR) {
  }
#else
  int ms = (us + 999) / 1000;
  while (poll(&p, 1, ms) < 0 && errno == EINTR) {
  }
#endif
}

void IoLoop::handle_ready(const Ready& r) {
  uint64_t kind = r.token >> 56;
  uint32_t handle = static_cast<uint32_t>(r.token);
  if (kind == kTokWake) {
    uint64_t v;
    while (::read(wake_r_, &v, sizeof v) > 0) {
    }
    return;
  }
  if (kind == kTokNotify) return read_notify(handle);
  if (kind == kTokSyslog) {
    syslog_.flush(now_ms_, this);
    return watch_syslog();
  }
  auto it = children_.find(handle);
  if (it == children_.end()) return;
  if (kind == kTokPid) check_exit(*it->second);
  else if (kind == kTokStdin) flush_stdin(*it->second);
}

void IoLoop::run_commands() {
  std::deque<Command> batch;
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    batch.swap(commands_);
    commands_pending_.store(false, std::memory_order_relaxed);
  }
  for (auto& cmd : batch) {
    int result = 0;
    switch (cmd.cmd) {
      case Cmd::kAddChild: {
        uint32_t h = cmd.id;
        Child& c = *cmd.child;
        // The asynchronous spawn's result goes first: JS learns the handle
        // before any output, EOF or exit of it.
        if (c.request != 0)
          events_.push(Event{EventKind::kSpawned, c.request, c.pid, 0, static_cast<double>(h), 0, 0, wall_ms()});
        // The orphan sweep may have reaped it already (see reap_scan).
        int early = kNoStatus;
        {
          std::lock_guard<std::mutex> lock(fork_mu_);
          auto f = forked_.find(c.pid);
          if (f != forked_.end()) {
            early = f->second;
            forked_.erase(f);
          }
        }
        by_pid_[c.pid] = h;
        for (int s = 1; s <= 2; s++) {
          if (c.ch[s].fd >= 0 && backend_->add(c.ch[s].fd, token(kTokChannel, s, h), kRead) < 0) {
            close(c.ch[s].fd);
            c.ch[s].fd = -1;
          }
        }
        // A reaped pid may already belong to someone else: never watch it.
        c.watching = early == kNoStatus && backend_->watch_pid(c.pid, c.pidfd, token(kTokPid, 0, h)) == 0;
        if (!c.watching && c.pidfd >= 0) {
          close(c.pidfd);
          c.pidfd = -1;
        }
        children_[h] = std::move(cmd.child);
        if (early != kNoStatus) {
          child_exited(*children_[h], early);
        } else {
          // An exit before the watch was in place (SIGCHLD mode, or kqueue's
          // ESRCH for a zombie) would otherwise never be seen.
          check_exit(*children_[h]);
        }
        break;
      }
      case Cmd::kSpawnFailed:
        events_.push(Event{EventKind::kSpawnFailed, cmd.id, cmd.pid, 0, static_cast<double>(cmd.err),
                           static_cast<double>(cmd.stage), 0, wall_ms()});
        break;
      case Cmd::kStdinWake:
      case Cmd::kCloseStdin: {
        auto it = children_.find(cmd.id);
        if (it != children_.end()) flush_stdin(*it->second);
        break;
      }
      case Cmd::kReopen:
      case Cmd::kRotate:
      case Cmd::kClear: {
        std::vector<std::shared_ptr<LogSink>> targets;
        {
          std::lock_guard<std::mutex> lock(reg_mu_);
          if (cmd.id == 0) {
            for (auto& [id, s] : sinks_) targets.push_back(s);
          } else {
            auto it = sinks_.find(cmd.id);
            if (it != sinks_.end()) targets.push_back(it->second);
            else result = -ENOENT;
          }
        }
        for (auto& s : targets) {
          int rc = cmd.cmd == Cmd::kClear    ? s->clear(this)
                   : cmd.cmd == Cmd::kRotate ? s->rotate_now(now_ms_, this)
                                             : s->reopen(this);
          if (rc < 0 && result == 0) result = rc;
        }
        break;
      }
      case Cmd::kSinkWrite:
        cmd.sink->feed(reinterpret_cast<const uint8_t*>(cmd.data.data()), cmd.data.size(), cmd.pid,
                       cmd.sink->formatted() ? wall_ms() : 0, now_ms_, this);
        note_partial(cmd.sink);
        break;
      case Cmd::kSyslogWrite: {
        auto* p = reinterpret_cast<const uint8_t*>(cmd.data.data());
        if (cmd.stage == 1) syslog_.send_chunk(cmd.prefix, p, cmd.data.size(), now_ms_, this);
        else syslog_.send_message(p, cmd.data.size(), now_ms_, this);
        watch_syslog();
        break;
      }
      case Cmd::kReapScan:
        reap_scan();
        break;
      case Cmd::kUnpark:
        unpark_all();
        break;
      case Cmd::kAddNotify:
        // Unwatched, nobody would ever read it: close it, so that senders get
        // ECONNREFUSED rather than a queue that silently fills.
        if (backend_->add(cmd.fd, token(kTokNotify, 0, cmd.id), kRead) < 0) close(cmd.fd);
        else notify_fds_[cmd.id] = cmd.fd;
        break;
      case Cmd::kCloseNotify:
        close_notify_fd(cmd.id);
        break;
      case Cmd::kStop:
        stopping_ = true;
        break;
    }
    if (cmd.sync) {
      std::lock_guard<std::mutex> lock(cmd.sync->mu);
      cmd.sync->value = result;
      cmd.sync->done = true;
      cmd.sync->cv.notify_one();
    }
  }
}

size_t IoLoop::drain(Child& c, int stream, size_t budget, bool until_eagain) {
  Channel& ch = c.ch[stream];
  // A channel whose bytes go only to JS (capture mode, an event listener's
  // protocol stream) reads no more than JS can be handed: past that it is
  // parked, and the child blocks on a full pipe instead of losing output.
  const bool tap_only = !ch.spec.sink && c.shared->tap[stream].load(std::memory_order_relaxed);
  size_t total = 0;
  while (ch.fd >= 0 && !ch.parked) {
    size_t want = buf_.size();
    if (tap_only) {
      size_t room = events_.tap_room();
      if (room == 0) {
        park(c, stream);
        break;
      }
      if (room < want) want = room;
    }
    ssize_t r = ::read(ch.fd, buf_.data(), want);
    if (r > 0) {
      deliver(c, ch, buf_.data(), static_cast<size_t>(r));
      total += static_cast<size_t>(r);
      // A short read means the pipe is empty now; asking again would only
      // cost an EAGAIN. Level-triggered readiness brings us back if more
      // arrived meanwhile.
      if (!until_eagain && (static_cast<size_t>(r) < want || total >= budget)) break;
      continue;
    }
    if (r == 0) {
      close_channel(c, stream);
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) close_channel(c, stream);
    break;
  }
  return total;
}

void IoLoop::park(Child& c, int stream) {
  Channel& ch = c.ch[stream];
  if (ch.parked || ch.fd < 0) return;
  backend_->remove(ch.fd);
  ch.parked = true;
  parked_.fetch_add(1, std::memory_order_acq_rel);
}

void IoLoop::tap_drained() {
  if (parked_.load(std::memory_order_acquire) > 0 && !unpark_queued_.exchange(true, std::memory_order_acq_rel))
    post(Command(Cmd::kUnpark, 0));
}

void IoLoop::unpark_all() {
  unpark_queued_.store(false, std::memory_order_release);
  std::vector<uint32_t> handles;
  for (auto& [h, c] : children_)
    if (c->ch[1].parked || c->ch[2].parked) handles.push_back(h);
  for (uint32_t h : handles) {
    for (int s = 1; s <= 2; s++) {
      // Looked up each time: closing a channel may forget an exited child.
      auto it = children_.find(h);
      if (it == children_.end()) break;
      Channel& ch = it->second->ch[s];
      if (!ch.parked) continue;
      ch.parked = false;
      parked_.fetch_sub(1, std::memory_order_acq_rel);
      if (backend_->add(ch.fd, token(kTokChannel, s, h), kRead) < 0) close_channel(*it->second, s);
    }
    // A reaped child whose exit waited for its output: finish it once all is
    // read. (exit_pending children are never forgotten: exited is false.)
    auto it = children_.find(h);
    if (it == children_.end() || !it->second->exit_pending) continue;
    Child& c = *it->second;
    drain(c, 1, SIZE_MAX, true);
    drain(c, 2, SIZE_MAX, true);
    if (!c.ch[1].parked && !c.ch[2].parked) finish_exit(c, c.exit_status);
  }
}

void IoLoop::deliver(Child& c, Channel& ch, const uint8_t* p, size_t n) {
  c.shared->read_bytes[ch.stream].fetch_add(n, std::memory_order_relaxed);
  if (ch.spec.strip_ansi) {
    n = ch.ansi.strip(p, n, scratch_.data());
    p = scratch_.data();
    if (n == 0) return;
  }
  if (ch.spec.sink) {
    LogSink& sink = *ch.spec.sink;
    // Formatted: stamped with the time of this read (line_format.h).
    sink.feed(p, n, c.pid, sink.formatted() ? wall_ms() : 0, now_ms_, this);
    note_partial(ch.spec.sink);
  }
  // After the file, as supervisord's handlers run; never blocks (syslog.h).
  if (ch.spec.syslog) {
    syslog_.send_chunk(ch.spec.syslog_prefix, p, n, now_ms_, this);
    watch_syslog();
  }
  if (c.shared->tap[ch.stream].load(std::memory_order_relaxed)) {
    if (!events_.push_tap(c.handle, ch.stream, p, n, wall_ms())) {
      events_.push(Event{EventKind::kTapDropped, c.handle, c.pid, ch.stream, 0, 0,
                         static_cast<double>(n), wall_ms()});
    }
  }
}

void IoLoop::close_channel(Child& c, int stream) {
  Channel& ch = c.ch[stream];
  if (ch.fd < 0) return;
  backend_->remove(ch.fd);
  close(ch.fd);
  ch.fd = -1;
  // Nobody is left to end a partial line of this pipe.
  if (ch.spec.sink) ch.spec.sink->flush_partial(now_ms_, true, this);
  events_.push(Event{EventKind::kEof, c.handle, c.pid, stream, 0, 0, 0, wall_ms()});
  maybe_forget(c.handle);
}

// Reap only pids we started: libuv reaps its own children with the same
// waitpid(pid) and treats ECHILD as theft, so never waitpid(-1) here.
void IoLoop::check_exit(Child& c) {
  if (c.exited || c.exit_pending) return;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(c.pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == c.pid) child_exited(c, status);
  else if (r < 0 && errno == ECHILD) child_exited(c, -1);  // reaped elsewhere: status unknown
}

void IoLoop::child_exited(Child& c, int status) {
  if (c.exited || c.exit_pending) return;
  // Everything the child wrote before it died is in its pipes now: move it
  // to the log before JS hears of the exit, so a reader that reacts to the
  // exit (tail, an event listener, a test) finds every byte on disk.
  // (exited is still false here, so an EOF cannot make maybe_forget free c.)
  drain(c, 1, SIZE_MAX, true);
  drain(c, 2, SIZE_MAX, true);
  // Its partial lines too (a formatted log): the exit ends them.
  for (int s = 1; s <= 2; s++)
    if (c.ch[s].spec.sink) c.ch[s].spec.sink->flush_partial(now_ms_, true, this);
  if (c.watching) backend_->unwatch_pid(c.pid, c.pidfd);
  c.watching = false;
  if (c.pidfd >= 0) close(c.pidfd);
  c.pidfd = -1;
  by_pid_.erase(c.pid);
  if (c.ch[1].parked || c.ch[2].parked) {
    // JS has not taken the output queued so far: the exit follows the rest
    // of the output once it could be read (unpark_all).
    c.exit_pending = true;
    c.exit_status = status;
    return;
  }
  finish_exit(c, status);
}

void IoLoop::finish_exit(Child& c, int status) {
  uint32_t handle = c.handle;
  c.exit_pending = false;
  c.exited = true;
  close_child_stdin(c, 0);
  double code = -1, sig = 0, core = 0;
  if (status != -1) decode_status(status, &code, &sig, &core);
  events_.push(Event{EventKind::kExit, handle, c.pid, 0, code, sig, core, wall_ms()});
  maybe_forget(handle);
}

bool IoLoop::has_unwatched_children() const {
  for (const auto& [h, c] : children_)
    if (!c->exited && !c->watching) return true;
  return false;
}

void IoLoop::reap_scan() {
  if (reap_orphans_.load()) {
    // PID 1 or subreaper: orphaned grandchildren are ours to reap, and the
    // sweep reaps our own children too, so route those to child_exited.
    for (;;) {
      int status = 0;
      pid_t r = sweep_one(&status);
      if (r <= 0) break;
      auto it = by_pid_.find(r);
      if (it != by_pid_.end()) {
        auto ct = children_.find(it->second);
        if (ct != children_.end()) {
          child_exited(*ct->second, status);
          continue;
        }
      }
      double code, sig, core;
      decode_status(status, &code, &sig, &core);
      events_.push(Event{EventKind::kOrphan, 0, r, 0, code, sig, core, wall_ms()});
    }
  }
  // Children whose exits the backend cannot watch (the poll backend). Copy the
  // handles first: child_exited may erase entries.
  std::vector<uint32_t> unwatched;
  for (auto& [h, c] : children_)
    if (!c->exited && !c->watching) unwatched.push_back(h);
  for (uint32_t h : unwatched) {
    auto it = children_.find(h);
    if (it != children_.end()) check_exit(*it->second);
  }
}

// One zombie for the orphan sweep: its pid and status, 0 when there is none
// to take now. A waitpid(-1) would also take a child that was just forked
// and is not registered yet, and lose its status to the orphan report. So
// look first without reaping (WNOWAIT): a pid forked but not yet added keeps
// its status for kAddChild; a pid nobody knows while a fork is in flight may
// be that fork's child, so the sweep stops and after_fork() starts it again.
pid_t IoLoop::sweep_one(int* status) {
#if defined(WNOWAIT)
  for (;;) {
    std::lock_guard<std::mutex> lock(fork_mu_);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    pid_t pid = si.si_pid;
    if (pid <= 0) return 0;
    auto f = forked_.find(pid);
    if (f == forked_.end() && by_pid_.find(pid) == by_pid_.end() && forks_in_flight_ > 0) {
      rescan_after_fork_ = true;
      return 0;
    }
    pid_t r;
    do {
      r = waitpid(pid, status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r != pid) continue;  // spawn_child reaped its failed child first
    if (f != forked_.end()) {
      f->second = *status;  // kAddChild reports it
      continue;
    }
    return pid;
  }
#else
  for (;;) {
    pid_t r = waitpid(-1, status, WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    return r > 0 ? r : 0;
  }
#endif
}

void IoLoop::flush_stdin(Child& c) {
  int err = 0;
  bool close_now = false, want_poll = false;
  {
    std::lock_guard<std::mutex> lock(c.shared->stdin_mu);
    c.shared->stdin_wake_queued = false;
    std::string& buf = c.shared->stdin_buf;
    size_t off = 0;
    while (c.stdin_fd >= 0 && off < buf.size()) {
      ssize_t w = ::write(c.stdin_fd, buf.data() + off, buf.size() - off);
      if (w > 0) {
        off += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else {
        if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
        break;
      }
    }
    buf.erase(0, off);
    if (err) {
      buf.clear();
      c.shared->stdin_closed = true;
    }
    close_now = err != 0 || (buf.empty() && c.shared->stdin_close_requested);
    want_poll = !buf.empty() && !close_now;
  }
  if (close_now) return close_child_stdin(c, err);
  if (c.stdin_fd < 0) return;
  if (want_poll && !c.stdin_polling) {
    c.stdin_polling = backend_->add(c.stdin_fd, token(kTokStdin, 0, c.handle), kWrite) == 0;
  } else if (!want_poll && c.stdin_polling) {
    backend_->remove(c.stdin_fd);
    c.stdin_polling = false;
  }
}

void IoLoop::close_child_stdin(Child& c, int err) {
  if (c.stdin_fd < 0) return;
  if (c.stdin_polling) backend_->remove(c.stdin_fd);
  c.stdin_polling = false;
  close(c.stdin_fd);
  c.stdin_fd = -1;
  {
    std::lock_guard<std::mutex> lock(c.shared->stdin_mu);
    c.shared->stdin_closed = true;
    c.shared->stdin_buf.clear();
  }
  if (err) events_.push(Event{EventKind::kStdinClosed, c.handle, c.pid, 0, static_cast<double>(err), 0, 0, wall_ms()});
}

// A child is forgotten once it has exited and both pipes are closed; until
// then a grandchild may still be writing into its log.
void IoLoop::maybe_forget(uint32_t handle) {
  auto it = children_.find(handle);
  if (it == children_.end()) return;
  Child& c = *it->second;
  if (!c.exited || c.ch[1].fd >= 0 || c.ch[2].fd >= 0) return;
  {
    std::lock_guard<std::mutex> lock(reg_mu_);
    shared_.erase(handle);
  }
  children_.erase(it);
}

// A datagram the arena has no room for is lost (push_notify); so is one that
// fails to read. Either way the socket stays open for the next.
void IoLoop::read_notify(uint32_t id) {
  auto it = notify_fds_.find(id);
  if (it == notify_fds_.end()) return;
  for (int i = 0; i < kNotifyBurst; i++) {
    pid_t pid = 0;
    ssize_t n = notify_read(it->second, buf_.data(), &pid);
    if (n < 0) return;  // -EAGAIN: all read
    if (n > 0) events_.push_notify(id, pid, buf_.data(), static_cast<size_t>(n), wall_ms());
  }
}

void IoLoop::close_notify_fd(uint32_t id) {
  auto it = notify_fds_.find(id);
  if (it == notify_fds_.end()) return;
  backend_->remove(it->second);
  close(it->second);
  notify_fds_.erase(it);
}

// Poll the syslog socket for writing exactly while messages wait for it.
void IoLoop::watch_syslog() {
  int want = syslog_.wants_write() ? syslog_.fd() : -1;
  if (want == syslog_polled_fd_) return;
  if (syslog_polled_fd_ >= 0) backend_->remove(syslog_polled_fd_);
  syslog_polled_fd_ = -1;
  if (want >= 0 && backend_->add(want, token(kTokSyslog, 0, 0), kWrite) == 0) syslog_polled_fd_ = want;
}

void IoLoop::note_partial(const std::shared_ptr<LogSink>& sink) {
  if (sink->partial_listed || sink->partial_due() < 0) return;
  sink->partial_listed = true;
  partial_sinks_.push_back(sink);
}

int IoLoop::partial_timeout(int timeout) {
  int64_t now = mono_ms();
  for (auto& s : partial_sinks_) {
    int64_t due = s->partial_due();
    if (due < 0) continue;
    int64_t wait = due > now ? due - now : 0;
    if (timeout < 0 || wait < timeout) timeout = static_cast<int>(wait);
  }
  return timeout;
}

void IoLoop::flush_due_partials() {
  now_ms_ = mono_ms();
  size_t keep = 0;
  for (size_t i = 0; i < partial_sinks_.size(); i++) {
    auto& s = partial_sinks_[i];
    int64_t due = s->partial_due();
    if (due >= 0 && due <= now_ms_) {
      s->flush_partial(now_ms_, false, this);
      due = s->partial_due();
    }
    if (due < 0) {
      s->partial_listed = false;
      continue;
    }
    if (keep != i) partial_sinks_[keep] = std::move(s);
    keep++;
  }
  partial_sinks_.resize(keep);
}

void IoLoop::sink_fault(uint32_t sink_id, int err, SinkOp op) {
  events_.push(Event{EventKind::kSinkFault, sink_id, 0, 0, static_cast<double>(err),
                     static_cast<double>(op), 0, wall_ms()});
}

void IoLoop::sink_recovered(uint32_t sink_id, uint64_t dropped, SinkOp op) {
  events_.push(Event{EventKind::kSinkRecovered, sink_id, 0, 0, 0, static_cast<double>(op), static_cast<double>(dropped), wall_ms()});
}

}  // namespace fv
