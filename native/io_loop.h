// SPDX-License-Identifier: MIT
// The I/O thread: owns every child pipe, every log file, every notify socket
// and the backend; reaps children; reports to JS through the EventQueue. The
// public methods are called on the JS thread and reach the I/O thread through
// a command queue (mutex + wake fd) or through atomics.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ansi.h"
#include "backend.h"
#include "events.h"
#include "logfile.h"
#include "notify.h"
#include "spawn.h"
#include "syslog.h"

namespace fv {

struct ChannelSpec {
  std::shared_ptr<LogSink> sink;  // null: the bytes are read and discarded
  bool tap = false;               // also hand the bytes to JS
  bool strip_ansi = false;
  bool syslog = false;            // also to syslog, one message per line: "<syslog_prefix> <line>"
  std::string syslog_prefix;
};

// The part of a child that the JS thread may touch: counters and stdin.
struct ChildShared {
  std::atomic<uint64_t> read_bytes[3] = {{0}, {0}, {0}};  // [1] stdout, [2] stderr
  std::atomic<bool> tap[3] = {{false}, {false}, {false}};
  std::mutex stdin_mu;
  std::string stdin_buf;          // bytes JS wrote that the child has not taken yet
  bool stdin_closed = false;      // no more writes accepted
  bool stdin_close_requested = false;
  bool stdin_wake_queued = false;
};

class IoLoop final : public SinkObserver, public ForkObserver {
 public:
  IoLoop();
  ~IoLoop() override;

  static constexpr int kDefaultBatchMs = 30;
  struct Options {
    std::string backend = "default";
    // The capture lag bound ([supervisord] capture_lag_ms): the longest a
    // trickle of output waits in its pipe before it is read and written to
    // its log. 0: read at every wake-up (no coalescing).
    int batch_ms = kDefaultBatchMs;
  };
  // JS thread. 0 or -errno (-ENOENT: no such backend in this build).
  int start(const Options& opts, EventQueue::Notify notify, void* ctx);
  void stop();
  bool running() const { return thread_.joinable(); }
  const char* backend_name() const { return backend_ ? backend_->name() : "none"; }
  // True when exits are only noticed through SIGCHLD (the addon then
  // subscribes to it through libuv and calls request_reap_scan()).
  bool needs_sigchld() const { return needs_sigchld_; }
  bool wants_pidfd() const { return backend_ && backend_->wants_pidfd(); }
  // Any thread: a new capture lag bound (a reload), from the next wave on.
  void set_batch_ms(int ms) { batch_ms_.store(ms < 0 ? 0 : ms, std::memory_order_relaxed); }

  // Any thread: spawn_child() with this loop as its fork observer, so that the
  // orphan reaper never takes a child that is not registered yet.
  int spawn(const SpawnPlan& plan, SpawnResult* out);
  // Any thread: hand a freshly spawned child to the I/O thread. A request
  // other than 0 makes the I/O thread report kSpawned(request) before any
  // other event of the child.
  uint32_t add_child(const SpawnResult& r, ChannelSpec out, ChannelSpec err, uint32_t request = 0);
  // Any thread: an asynchronous spawn failed. Reported as kSpawnFailed through
  // the I/O thread, so outcomes reach JS in the order the spawns ran.
  void spawn_failed(uint32_t request, pid_t pid, int err, SpawnStage stage);
  // 0, -EAGAIN (the bounded buffer is full; nothing was taken), -EPIPE (closed),
  // -ESRCH (no such child).
  int write_stdin(uint32_t child, const uint8_t* p, size_t n);
  int close_stdin(uint32_t child);
  int set_tap(uint32_t child, int stream, bool on);
  bool child_counters(uint32_t child, double out[3]);

  std::shared_ptr<LogSink> open_sink(const std::string& path, uint64_t maxbytes, int backups, int* err);
  void close_sink(uint32_t id);
  std::shared_ptr<LogSink> find_sink(uint32_t id);
  // Synchronous: run on the I/O thread, wait for the result.
  int reopen_sinks(uint32_t id);  // id 0: every sink
  int rotate_sink(uint32_t id);   // rotate now, whatever the size (fastvisorctl rotate)
  // Where sinks post the after-work of their rotations (compression, retention).
  BackupWorker* backup_worker() { return &backup_worker_; }
  // Appends bytes from JS (the daemon's own log) through the same rotation and
  // error handling as child output. Asynchronous, in call order.
  // pid: whose output it is (a formatted sink's json "pid"), 0 for none.
  int write_sink(uint32_t id, const uint8_t* p, size_t n, int pid = 0);
  int clear_sink(uint32_t id);
  // Any thread: a message for syslog, sent by the I/O thread in call order.
  // chunk: child output, split into lines as for a channel with syslog on
  // (prefix = the process name); else data is one message (the main log).
  void write_syslog(const std::string& prefix, bool chunk, const uint8_t* p, size_t n);
  SyslogWriter& syslog() { return syslog_; }

  // JS thread: an sd_notify socket at path (notify.h) whose datagrams come as
  // kNotify events. Returns its id (> 0), or 0 with *err = -errno.
  uint32_t open_notify(const std::string& path, const NotifyOwner& owner, int* err);
  // JS thread: removes the path at once (a sender then finds nothing there);
  // the I/O thread closes the fd. Unknown ids are ignored.
  void close_notify(uint32_t id);

  void request_reap_scan();
  // JS thread, after it took a batch: channels parked for want of tap room
  // (their bytes have no file to go to but JS) may read again.
  void tap_drained();
  void set_reap_orphans(bool on);

  EventQueue& events() { return events_; }
  static constexpr size_t kStdinLimit = 1u << 20;

  // ForkObserver (the spawning thread).
  void before_fork() override;
  void after_fork(pid_t pid) override;
  void reaped_by_spawn(pid_t pid) override;
  // Tests only: sleep this long between fork and registration, widening the
  // window that a reaper's waitpid(-1) could once fall into.
  void set_register_delay_ms(int ms) { register_delay_ms_.store(ms); }

  // SinkObserver (I/O thread).
  void sink_fault(uint32_t sink_id, int err, SinkOp op) override;
  void sink_recovered(uint32_t sink_id, uint64_t dropped, SinkOp op) override;

 private:
  struct Channel {
    int fd = -1;
    int stream = 0;
    ChannelSpec spec;
    AnsiStripper ansi;
    bool parked = false;  // out of the backend until JS takes tap data (tap-only channel)
  };
  struct Child {
    uint32_t handle = 0;
    uint32_t request = 0;    // asynchronous spawn request, reported once added
    pid_t pid = -1;
    int pidfd = -1;
    bool watching = false;   // the backend reports this pid's exit
    bool exited = false;
    bool exit_pending = false;  // reaped, but a parked channel still holds output
    int exit_status = 0;
    int stdin_fd = -1;
    bool stdin_polling = false;
    Channel ch[3];           // [1] stdout, [2] stderr
    std::shared_ptr<ChildShared> shared;
  };
  enum class Cmd { kAddChild, kSpawnFailed, kStdinWake, kCloseStdin, kReopen, kClear, kRotate, kSinkWrite, kSyslogWrite, kReapScan, kUnpark, kAddNotify, kCloseNotify, kStop };
  struct SyncResult {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    int value = 0;
  };
  struct Command {
    explicit Command(Cmd c, uint32_t i = 0) : cmd(c), id(i) {}
    Cmd cmd;
    uint32_t id = 0;
    std::unique_ptr<Child> child;
    std::shared_ptr<SyncResult> sync;
    std::shared_ptr<LogSink> sink;
    std::string data;
    int pid = 0, err = 0, stage = 0;  // kSpawnFailed
    int fd = -1;                      // kAddNotify
    std::string prefix;               // kSyslogWrite (stage 1: a chunk of child output)
  };

  void post(Command c);
  int post_sync(Cmd cmd, uint32_t id);
  void run();
  void run_commands();
  void handle_ready(const Ready& r);
  size_t drain(Child& c, int stream, size_t budget, bool until_eagain);
  void deliver(Child& c, Channel& ch, const uint8_t* p, size_t n);
  void close_channel(Child& c, int stream);
  void check_exit(Child& c);
  void child_exited(Child& c, int status);
  void finish_exit(Child& c, int status);
  void park(Child& c, int stream);
  void unpark_all();
  void reap_scan();
  bool has_unwatched_children() const;
  pid_t sweep_one(int* status);
  void flush_stdin(Child& c);
  void close_child_stdin(Child& c, int err);
  void maybe_forget(uint32_t handle);
  void read_notify(uint32_t id);
  void close_notify_fd(uint32_t id);
  void wait_batch_window(int us);
  void watch_syslog();
  void note_partial(const std::shared_ptr<LogSink>& sink);
  int partial_timeout(int timeout);
  void flush_due_partials();
  void wake();
  int64_t now_ms() const { return now_ms_; }

  // First, so destroyed last: every sink (and its raw pointer to it) is gone by then.
  BackupWorker backup_worker_;
  std::unique_ptr<Backend> backend_;
  bool needs_sigchld_ = false;
  std::atomic<int> batch_ms_{kDefaultBatchMs};
  std::thread thread_;
  int wake_r_ = -1, wake_w_ = -1;  // eventfd (both the same) or a pipe
  std::mutex cmd_mu_;
  std::deque<Command> commands_;
  std::atomic<bool> commands_pending_{false};
  EventQueue events_;

  // JS-visible registries.
  std::mutex reg_mu_;
  std::unordered_map<uint32_t, std::shared_ptr<ChildShared>> shared_;
  std::unordered_map<uint32_t, std::shared_ptr<LogSink>> sinks_;
  std::unordered_map<uint32_t, NotifyName> notify_names_;  // open notify sockets' files
  uint32_t next_child_ = 1, next_sink_ = 1, next_notify_ = 1;
  std::atomic<bool> reap_orphans_{false};
  // Forked but not yet added on the I/O thread (guarded by fork_mu_): pid ->
  // exit status if the orphan sweep reaped it meanwhile, else kNoStatus.
  static constexpr int kNoStatus = -2;
  std::mutex fork_mu_;
  std::unordered_map<pid_t, int> forked_;
  int forks_in_flight_ = 0;
  bool rescan_after_fork_ = false;
  std::atomic<int> register_delay_ms_{0};
  std::atomic<int> parked_{0};
  std::atomic<bool> unpark_queued_{false};
  SyslogWriter syslog_;  // configured from any thread, written by the I/O thread

  // I/O thread only.
  std::unordered_map<uint32_t, std::unique_ptr<Child>> children_;
  std::unordered_map<pid_t, uint32_t> by_pid_;
  std::unordered_map<uint32_t, int> notify_fds_;
  std::vector<uint8_t> buf_, scratch_;
  std::vector<Ready> ready_;
  // Formatted sinks holding a partial line, each once (LogSink::partial_listed).
  std::vector<std::shared_ptr<LogSink>> partial_sinks_;
  int64_t now_ms_ = 0;
  int64_t hot_until_ms_ = 0;  // no coalescing wait before this (a recent wave had a big read)
  int syslog_polled_fd_ = -1;  // the syslog socket, polled for writing while messages wait
  // The poll backend's safety net: a scan of SIGCHLD-only children at least this often.
  static constexpr int kUnwatchedScanMs = 1000;
  int64_t last_unwatched_scan_ms_ = 0;
  bool stopping_ = false;
};

}  // namespace fv
