// SPDX-License-Identifier: MIT
// The Node-API surface: check and convert arguments, call the core, and turn
// event batches into one JS call each. JS thread only, except notify_js(),
// which the I/O thread calls. Runtime failures come back as values
// ({ errno, stage } or -errno); only misuse (wrong argument types) throws.
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <napi.h>

#include <cstring>
#include <memory>
#include <vector>

#include "cgroup.h"
#include "fcgi_socket.h"
#include "io_loop.h"
#include "notify.h"
#include "procstat.h"
#include "spawn.h"
#include "spawner.h"
#include "user.h"

namespace fv {
namespace {

struct Addon;
void call_js(Napi::Env env, Napi::Function cb, Addon* addon, void* data);
using Tsfn = Napi::TypedThreadSafeFunction<Addon, void, call_js>;

struct Addon {
  IoLoop loop;
  Spawner spawner{&loop};  // declared after loop: destroyed (joined) first
  Tsfn tsfn;
  uv_signal_t* sigchld = nullptr;  // only when exits need SIGCHLD (poll backend, orphan reaping)
  std::vector<Event> batch;
  std::vector<uint8_t> batch_data;
  ProcStatReader procstat;  // JS thread only
};

void notify_js(void* ctx) {
  // I/O thread. Non-blocking with an unlimited queue: never waits on JS.
  static_cast<Addon*>(ctx)->tsfn.NonBlockingCall();
}

void call_js(Napi::Env env, Napi::Function cb, Addon* addon, void*) {
  if (env == nullptr || cb == nullptr) return;
  addon->loop.events().take(&addon->batch, &addon->batch_data);
  addon->loop.tap_drained();
  if (addon->batch.empty()) return;
  size_t n = addon->batch.size();
  auto records = Napi::Float64Array::New(env, n * kEventFields);
  double* r = records.Data();
  for (size_t i = 0; i < n; i++) {
    const Event& e = addon->batch[i];
    double* o = r + i * kEventFields;
    o[0] = static_cast<double>(e.kind);
    o[1] = e.id;
    o[2] = e.pid;
    o[3] = e.stream;
    o[4] = e.a;
    o[5] = e.b;
    o[6] = e.c;
    o[7] = e.time_ms;
  }
  auto data = Napi::Buffer<uint8_t>::Copy(env, addon->batch_data.data(), addon->batch_data.size());
  cb.Call({records, data});
}

void on_sigchld(uv_signal_t* h, int) { static_cast<Addon*>(h->data)->loop.request_reap_scan(); }

// SIGCHLD is process-wide and libuv owns the handler: subscribe through a
// uv_signal_t (libuv fans one signal out to every watcher), never sigaction.
void ensure_sigchld(Napi::Env env, Addon* a) {
  if (a->sigchld) return;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return;
  a->sigchld = new uv_signal_t;
  uv_signal_init(loop, a->sigchld);
  a->sigchld->data = a;
  uv_signal_start(a->sigchld, on_sigchld, SIGCHLD);
  uv_unref(reinterpret_cast<uv_handle_t*>(a->sigchld));
}

void stop_addon(Addon* a) {
  if (a->sigchld) {
    uv_signal_stop(a->sigchld);
    uv_close(reinterpret_cast<uv_handle_t*>(a->sigchld),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_signal_t*>(h); });
    a->sigchld = nullptr;
  }
  // Join the spawn thread, then the I/O thread, before releasing the
  // function they call.
  a->spawner.stop();
  a->loop.stop();
  if (a->tsfn) {
    a->tsfn.Release();
    a->tsfn = Tsfn();
  }
}

Addon* get(const Napi::CallbackInfo& info) { return info.Env().GetInstanceData<Addon>(); }

Napi::Value usage(Napi::Env env, const char* text) {
  Napi::TypeError::New(env, text).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool misuse(Napi::Env env, const char* text) {
  usage(env, text);
  return false;
}

Napi::Object errno_result(Napi::Env env, int neg_errno) {
  auto o = Napi::Object::New(env);
  o.Set("errno", -neg_errno);
  return o;
}

// start({ backend, batchMs }, onEvents(records: Float64Array, data: Buffer))
Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
    return usage(env, "Usage: start({ backend?: string, batchMs?: number }, onEvents: Function)");
  Addon* a = get(info);
  if (a->loop.running()) return usage(env, "the I/O loop is already running; call stop() first");
  auto opts = info[0].As<Napi::Object>();
  IoLoop::Options o;
  if (opts.Has("backend") && opts.Get("backend").IsString()) o.backend = opts.Get("backend").As<Napi::String>();
  if (opts.Has("batchMs") && opts.Get("batchMs").IsNumber()) o.batch_ms = opts.Get("batchMs").As<Napi::Number>().Int32Value();
  a->tsfn = Tsfn::New(env, info[1].As<Napi::Function>(), "fastvisor-io", 0, 1, a);
  a->tsfn.Unref(env);  // the daemon's own servers keep the process alive, not the pump
  int rc = a->loop.start(o, notify_js, a);
  if (rc < 0) {
    a->tsfn.Release();
    a->tsfn = Tsfn();
    return Napi::Number::New(env, rc);
  }
  if (a->loop.needs_sigchld()) ensure_sigchld(env, a);
  return Napi::String::New(env, a->loop.backend_name());
}

// setBatchMs(ms): a new capture lag bound for the running loop (a reload).
Napi::Value SetBatchMs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(env, "Usage: setBatchMs(ms: number)");
  get(info)->loop.set_batch_ms(info[0].As<Napi::Number>().Int32Value());
  return env.Undefined();
}

Napi::Value Stop(const Napi::CallbackInfo& info) {
  stop_addon(get(info));
  return info.Env().Undefined();
}

bool read_channel(Napi::Env env, Addon* a, Napi::Value v, StdioMode* mode, ChannelSpec* spec, bool is_stderr) {
  if (!v.IsObject()) return false;
  auto o = v.As<Napi::Object>();
  std::string m = o.Has("mode") ? o.Get("mode").ToString().Utf8Value() : "pipe";
  if (m == "pipe") *mode = StdioMode::kPipe;
  else if (m == "null") *mode = StdioMode::kDevNull;
  else if (m == "stdout" && is_stderr) *mode = StdioMode::kStdout;
  else return false;
  if (o.Has("sink") && o.Get("sink").IsNumber()) {
    uint32_t id = o.Get("sink").As<Napi::Number>().Uint32Value();
    spec->sink = a->loop.find_sink(id);
    if (!spec->sink) return false;
  }
  spec->tap = o.Has("tap") && o.Get("tap").ToBoolean();
  spec->strip_ansi = o.Has("stripAnsi") && o.Get("stripAnsi").ToBoolean();
  if (o.Has("syslog") && o.Get("syslog").IsString()) {
    spec->syslog = true;
    spec->syslog_prefix = o.Get("syslog").As<Napi::String>().Utf8Value();
  }
  (void)env;
  return true;
}

bool read_strings(Napi::Value v, std::vector<std::string>* out) {
  if (!v.IsArray()) return false;
  auto arr = v.As<Napi::Array>();
  out->reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value e = arr.Get(i);
    if (!e.IsString()) return false;
    std::string s = e.As<Napi::String>().Utf8Value();
    // A NUL would silently cut the string short at exec.
    if (s.find('\0') != std::string::npos) return false;
    out->push_back(std::move(s));
  }
  return true;
}

constexpr const char* kSpawnUsage =
    "Usage: spawn({ file: string, argv: string[], env: string[], cwd?: string, umask?: number, "
    "uid?: number, gid?: number, groups?: number[], pgroup?: 0|1|2, "
    "stdout: { mode: 'pipe'|'null', sink?: number, tap?: boolean, stripAnsi?: boolean, syslog?: string }, "
    "stderr: { mode: 'pipe'|'null'|'stdout', ... } })";

// Reads a spawn plan; on misuse throws (a JS TypeError) and returns false.
bool read_plan(Napi::Env env, Addon* a, Napi::Value v, SpawnPlan* plan, ChannelSpec* out, ChannelSpec* err) {
  if (!v.IsObject()) return misuse(env, kSpawnUsage);
  if (!a->loop.running()) return misuse(env, "start() the I/O loop before spawn()");
  auto o = v.As<Napi::Object>();
  if (!o.Get("file").IsString()) return misuse(env, kSpawnUsage);
  plan->file = o.Get("file").As<Napi::String>().Utf8Value();
  if (plan->file.find('\0') != std::string::npos) return misuse(env, "spawn: file contains a NUL byte");
  if (!read_strings(o.Get("argv"), &plan->argv) || plan->argv.empty())
    return misuse(env, "spawn: argv must be a non-empty array of strings without NUL bytes");
  if (!read_strings(o.Get("env"), &plan->envp))
    return misuse(env, "spawn: env must be an array of 'KEY=value' strings");
  if (o.Has("cwd") && o.Get("cwd").IsString()) plan->cwd = o.Get("cwd").As<Napi::String>().Utf8Value();
  if (o.Has("umask") && o.Get("umask").IsNumber()) plan->umask = o.Get("umask").As<Napi::Number>().Int32Value();
  if (o.Has("uid") && o.Get("uid").IsNumber()) {
    plan->set_user = true;
    plan->uid = o.Get("uid").As<Napi::Number>().Uint32Value();
    plan->gid = o.Has("gid") && o.Get("gid").IsNumber() ? o.Get("gid").As<Napi::Number>().Uint32Value() : 0;
    if (o.Has("groups") && o.Get("groups").IsArray()) {
      auto g = o.Get("groups").As<Napi::Array>();
      for (uint32_t i = 0; i < g.Length(); i++) plan->groups.push_back(g.Get(i).As<Napi::Number>().Uint32Value());
    } else {
      plan->groups.push_back(plan->gid);
    }
  }
  if (o.Has("pgroup") && o.Get("pgroup").IsNumber()) {
    int pg = o.Get("pgroup").As<Napi::Number>().Int32Value();
    if (pg < 0 || pg > 2) return misuse(env, kSpawnUsage);
    plan->pgroup = static_cast<ProcessGroup>(pg);
  }
  if (o.Has("cgroupProcs") && !o.Get("cgroupProcs").IsUndefined() && !read_strings(o.Get("cgroupProcs"), &plan->cgroup_procs))
    return misuse(env, "spawn: cgroupProcs must be an array of cgroup.procs paths");
  if (o.Has("cgroupDir") && o.Get("cgroupDir").IsString()) plan->cgroup_dir = o.Get("cgroupDir").As<Napi::String>().Utf8Value();
  if (o.Has("stdinFd") && o.Get("stdinFd").IsNumber()) {
    // The daemon's own descriptor (an fcgi-program's socket), never 0-2.
    plan->stdin_fd = o.Get("stdinFd").As<Napi::Number>().Int32Value();
    if (plan->stdin_fd < 3) return misuse(env, "spawn: stdinFd must be a descriptor >= 3");
  }
  if (!read_channel(env, a, o.Get("stdout"), &plan->stdout_mode, out, false) ||
      !read_channel(env, a, o.Get("stderr"), &plan->stderr_mode, err, true))
    return misuse(env, "spawn: stdout/stderr must be { mode, sink? } with an open sink id");
  return true;
}

// spawn(plan) -> { pid, child } | { errno, stage, pid? }. Synchronous: the
// calling thread waits until the child has exec'd. The daemon uses
// spawnAsync; this stays for tools and tests that want the answer at once.
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = get(info);
  SpawnPlan plan;
  ChannelSpec out, err;
  if (!read_plan(env, a, info.Length() > 0 ? info[0] : env.Undefined(), &plan, &out, &err)) return env.Undefined();
  plan.want_pidfd = a->loop.wants_pidfd();

  SpawnResult r;
  int rc = a->loop.spawn(plan, &r);
  if (rc < 0) {
    auto res = errno_result(env, rc);
    res.Set("stage", static_cast<int32_t>(r.stage));
    if (r.pid > 0) res.Set("pid", r.pid);  // failed after fork, already reaped
    return res;
  }
  uint32_t handle = a->loop.add_child(r, std::move(out), std::move(err));
  auto res = Napi::Object::New(env);
  res.Set("pid", r.pid);
  res.Set("child", handle);
  return res;
}

// spawnAsync(request, plan) -> undefined. The spawn thread runs it; the
// outcome comes back as a kSpawned or kSpawnFailed event naming request.
Napi::Value SpawnAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = get(info);
  if (info.Length() < 2 || !info[0].IsNumber()) return usage(env, "Usage: spawnAsync(request: number, plan)");
  uint32_t request = info[0].As<Napi::Number>().Uint32Value();
  if (request == 0) return usage(env, "spawnAsync: request must be a positive integer");
  SpawnPlan plan;
  ChannelSpec out, err;
  if (!read_plan(env, a, info[1], &plan, &out, &err)) return env.Undefined();
  a->spawner.submit(request, std::move(plan), std::move(out), std::move(err));
  return env.Undefined();
}

// fdReserve(n?) -> the reserve now. Spawns and log file opens that would
// leave fewer free descriptors than this fail with EMFILE.
Napi::Value FdReserve(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) set_fd_reserve(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), fd_reserve());
}

// fdHeadroom(want) -> how many more descriptors could be opened, up to want.
Napi::Value FdHeadroom(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(info.Env(), "Usage: fdHeadroom(want: number)");
  return Napi::Number::New(info.Env(), fd_headroom(info[0].As<Napi::Number>().Int32Value()));
}

// trimMemory() -> whether the C heap could be trimmed (false where the libc
// has no malloc_trim). glibc keeps freed memory of big bursts (request
// bodies, replies) mapped; after a garbage collection this returns it.
Napi::Value TrimMemory(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  malloc_trim(0);
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// tuneMalloc() -> whether it applied. The daemon's own call, at start: glibc
// raises its mmap threshold each time a big block is freed (up to 32 MiB),
// so after one burst of multi-megabyte request bodies every later big buffer
// comes from the heap, whose freed pages stay mapped. A fixed threshold keeps
// big buffers in their own mappings, returned whole when freed.
Napi::Value TuneMalloc(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  bool ok = mallopt(M_MMAP_THRESHOLD, 256 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 1024 * 1024) == 1;
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

bool read_line_format(Napi::Value v, LineFormatSpec* spec);

// formatLines(format, chunks: Array<[Buffer, wallMs, monoMs, pid?]>, flushAll?) -> Buffer:
// the pure line formatter (line_format.h) driven from tests, no file, no
// thread: what a formatted log would hold after those reads (and, with
// flushAll, after the writer went away). An empty Buffer stands for the
// partial-line deadline passing at monoMs.
Napi::Value FormatLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kUsage = "Usage: formatLines(format, chunks: Array<[Buffer, wallMs, monoMs, pid?]>, flushAll?: boolean)";
  LineFormatSpec spec;
  if (info.Length() < 2 || !read_line_format(info[0], &spec) || spec.mode == LineMode::kRaw || !info[1].IsArray())
    return usage(env, kUsage);
  LineFormatter f(spec);
  RecordBuffer out;
  auto chunks = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < chunks.Length(); i++) {
    Napi::Value cv = chunks.Get(i);
    if (!cv.IsArray() || !cv.As<Napi::Array>().Get(0u).IsBuffer()) return usage(env, kUsage);
    auto c = cv.As<Napi::Array>();
    auto buf = c.Get(0u).As<Napi::Buffer<uint8_t>>();
    double wall = c.Get(1u).ToNumber().DoubleValue();
    auto mono = static_cast<int64_t>(c.Get(2u).ToNumber().DoubleValue());
    int pid = c.Length() > 3 ? c.Get(3u).ToNumber().Int32Value() : 0;
    if (buf.Length() == 0) f.flush(mono, false, &out);
    else f.feed(buf.Data(), buf.Length(), wall, mono, pid, &out);
  }
  if (info.Length() > 2 && info[2].ToBoolean()) f.flush(0, true, &out);
  return Napi::Buffer<char>::Copy(env, out.data(), out.size());
}

// testHooks({ registerDelayMs, sharedTable }): fault injection and the spawn
// path without slots, for tests only.
Napi::Value TestHooks(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject())
    return usage(info.Env(), "Usage: testHooks({ registerDelayMs?: number, sharedTable?: boolean })");
  auto o = info[0].As<Napi::Object>();
  if (o.Has("registerDelayMs") && o.Get("registerDelayMs").IsNumber())
    get(info)->loop.set_register_delay_ms(o.Get("registerDelayMs").As<Napi::Number>().Int32Value());
  if (o.Has("sharedTable") && o.Get("sharedTable").IsBoolean())
    return Napi::Boolean::New(info.Env(), spawn_slots_enable(o.Get("sharedTable").As<Napi::Boolean>()));
  return info.Env().Undefined();
}

// kill(pid, signal, group) -> 0 | -errno
Napi::Value Kill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber())
    return usage(env, "Usage: kill(pid: number, signal: number, group: boolean)");
  int pid = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  // pid <= 1 would signal a whole group or every process: never what a
  // supervisor means, so refuse rather than trust the caller.
  if (pid <= 1) return Napi::Number::New(env, -EINVAL);
  int rc = ::kill(info[2].ToBoolean() ? -pid : pid, sig);
  return Napi::Number::New(env, rc == 0 ? 0 : -errno);
}

// childExited(pid) -> true when the child has exited: a zombie, or already
// reaped by the I/O thread (its exit event is on the way to JS). Looks
// without reaping (WNOWAIT), so the I/O thread still gets the status. What
// supervisord's reap() right after a kill would have seen.
Napi::Value ChildExited(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(env, "Usage: childExited(pid: number)");
  int pid = info[0].As<Napi::Number>().Int32Value();
  if (pid <= 1) return Napi::Boolean::New(env, false);
#if defined(WNOWAIT)
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do {
    rc = waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return Napi::Boolean::New(env, errno == ECHILD);
  return Napi::Boolean::New(env, si.si_pid == pid);
#else
  return Napi::Boolean::New(env, false);
#endif
}

// cgroupSetup(dirs: string[], writes: [path, value][]) -> 0 | { errno, path }
Napi::Value CgroupSetup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> dirs;
  if (info.Length() < 2 || !read_strings(info[0], &dirs) || !info[1].IsArray())
    return usage(env, "Usage: cgroupSetup(dirs: string[], writes: [path: string, value: string][])");
  std::vector<std::pair<std::string, std::string>> writes;
  auto arr = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    std::vector<std::string> pair;
    if (!read_strings(arr.Get(i), &pair) || pair.size() != 2) return usage(env, "cgroupSetup: each write is [path, value]");
    writes.emplace_back(std::move(pair[0]), std::move(pair[1]));
  }
  std::string failed;
  int rc = cgroup_setup(dirs, writes, &failed);
  if (rc == 0) return Napi::Number::New(env, 0);
  auto res = errno_result(env, rc);
  res.Set("path", failed);
  return res;
}

// cgroupSignal(dir, signal) -> processes signalled | -errno
Napi::Value CgroupSignal(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    return usage(info.Env(), "Usage: cgroupSignal(dir: string, signal: number)");
  return Napi::Number::New(info.Env(), cgroup_signal(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value()));
}

// cgroupKill(dir, how: 0 v2 | 1 v1 freezer | 2 v1) -> processes signalled | -errno
Napi::Value CgroupKill(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    return usage(info.Env(), "Usage: cgroupKill(dir: string, how: 0 | 1 | 2)");
  int how = info[1].As<Napi::Number>().Int32Value();
  if (how < 0 || how > 2) return usage(info.Env(), "cgroupKill: how is 0 (v2), 1 (v1 freezer) or 2 (v1)");
  return Napi::Number::New(info.Env(), cgroup_kill(info[0].As<Napi::String>().Utf8Value(), static_cast<CgroupKillHow>(how)));
}

// cgroupRead(path) -> string | -errno
Napi::Value CgroupRead(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) return usage(info.Env(), "Usage: cgroupRead(path: string)");
  std::string text;
  int rc = cgroup_read(info[0].As<Napi::String>().Utf8Value(), &text);
  if (rc < 0) return Napi::Number::New(info.Env(), rc);
  return Napi::String::New(info.Env(), text);
}

// cgroupRemove(dir) -> 0 | -errno
Napi::Value CgroupRemove(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) return usage(info.Env(), "Usage: cgroupRemove(dir: string)");
  return Napi::Number::New(info.Env(), cgroup_remove(info[0].As<Napi::String>().Utf8Value()));
}

// procStats(pids: Int32Array, out: Float64Array(pids.length * 4), cache: boolean)
// -> descriptors cached now. Caller-allocated: one scrape allocates nothing
// here. out per pid = [cpuSeconds, rssBytes, threads, openFds], NaN where
// unreadable (procstat.h).
Napi::Value ProcStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::Float64Array>().ElementLength() < info[0].As<Napi::Int32Array>().ElementLength() * kProcStatFields)
    return usage(env, "Usage: procStats(pids: Int32Array, out: Float64Array(pids.length * 4), cache?: boolean)");
  auto pids = info[0].As<Napi::Int32Array>();
  ProcStatReader& r = get(info)->procstat;
  r.read(pids.Data(), pids.ElementLength(), info[1].As<Napi::Float64Array>().Data(), info.Length() > 2 && info[2].ToBoolean());
  return Napi::Number::New(env, static_cast<double>(r.cached()));
}

// procStatsForget(pid?) -> undefined: the child was reaped; close its cached
// /proc/PID/stat. Without a pid: close them all.
Napi::Value ProcStatsForget(const Napi::CallbackInfo& info) {
  ProcStatReader& r = get(info)->procstat;
  if (info.Length() > 0 && info[0].IsNumber()) r.forget(info[0].As<Napi::Number>().Int32Value());
  else r.clear();
  return info.Env().Undefined();
}

Napi::Value WriteStdin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer())
    return usage(env, "Usage: writeStdin(child: number, data: Buffer)");
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  int rc = get(info)->loop.write_stdin(info[0].As<Napi::Number>().Uint32Value(), buf.Data(), buf.Length());
  return Napi::Number::New(env, rc);
}

Napi::Value CloseStdin(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(info.Env(), "Usage: closeStdin(child: number)");
  return Napi::Number::New(info.Env(), get(info)->loop.close_stdin(info[0].As<Napi::Number>().Uint32Value()));
}

Napi::Value SetTap(const Napi::CallbackInfo& info) {
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber())
    return usage(info.Env(), "Usage: setTap(child: number, stream: 1|2, on: boolean)");
  int rc = get(info)->loop.set_tap(info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Int32Value(),
                                   info[2].ToBoolean());
  return Napi::Number::New(info.Env(), rc);
}

// childCounters(child) -> [stdoutBytes, stderrBytes, stdinPending] | null
Napi::Value ChildCounters(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(info.Env(), "Usage: childCounters(child: number)");
  double c[3];
  if (!get(info)->loop.child_counters(info[0].As<Napi::Number>().Uint32Value(), c)) return info.Env().Null();
  auto arr = Napi::Array::New(info.Env(), 3);
  for (uint32_t i = 0; i < 3; i++) arr.Set(i, c[i]);
  return arr;
}

// A line format from JS: { mode: 'timestamped'|'json'|'prefixed'|'raw',
// time?: 'rfc3339'|'local', maxLine?, program?, process?, group?, stream? }.
// False for anything else.
bool read_line_format(Napi::Value v, LineFormatSpec* spec) {
  if (!v.IsObject()) return false;
  auto o = v.As<Napi::Object>();
  auto str = [&o](const char* k) { return o.Has(k) && o.Get(k).IsString() ? o.Get(k).As<Napi::String>().Utf8Value() : std::string(); };
  std::string mode = str("mode");
  if (mode == "raw") spec->mode = LineMode::kRaw;
  else if (mode == "timestamped") spec->mode = LineMode::kTimestamped;
  else if (mode == "json") spec->mode = LineMode::kJson;
  else if (mode == "prefixed") spec->mode = LineMode::kPrefixed;
  else return false;
  std::string time = str("time");
  if (time == "local") spec->time = TimeStyle::kLocal;
  else if (time.empty() || time == "rfc3339") spec->time = TimeStyle::kRfc3339;
  else return false;
  if (o.Has("maxLine") && o.Get("maxLine").IsNumber()) {
    double m = o.Get("maxLine").As<Napi::Number>().DoubleValue();
    if (!(m >= 1 && m <= 1e9)) return false;
    spec->max_line = static_cast<size_t>(m);
  }
  spec->program = str("program");
  spec->process = str("process");
  spec->group = str("group");
  spec->stream = str("stream");
  return true;
}

// 'hourly' | 'daily' | 'weekly' -> its calendar period; kNone for anything else.
RotateEvery calendar_every(const std::string& w) {
  return w == "hourly" ? RotateEvery::kHourly : w == "daily" ? RotateEvery::kDaily : w == "weekly" ? RotateEvery::kWeekly : RotateEvery::kNone;
}

// Rotation options from JS: { every?: 'hourly'|'daily'|'weekly'|seconds,
// maxAge?: seconds, compress?: 'gzip'|'none' }. False for anything else.
bool read_rotation(Napi::Value v, RotationSpec* spec) {
  if (!v.IsObject()) return false;
  auto o = v.As<Napi::Object>();
  if (o.Has("every") && !o.Get("every").IsUndefined()) {
    auto e = o.Get("every");
    if (e.IsNumber()) {
      double n = e.As<Napi::Number>().DoubleValue();
      if (!(n >= 1 && n <= 1e9)) return false;
      spec->every = RotateEvery::kSeconds;
      spec->every_s = static_cast<int64_t>(n);
    } else if (e.IsString()) {
      spec->every = calendar_every(e.As<Napi::String>().Utf8Value());
      if (spec->every == RotateEvery::kNone) return false;
    } else {
      return false;
    }
  }
  if (o.Has("maxAge") && !o.Get("maxAge").IsUndefined()) {
    if (!o.Get("maxAge").IsNumber()) return false;
    double a = o.Get("maxAge").As<Napi::Number>().DoubleValue();
    if (!(a >= 0 && a <= 1e12)) return false;
    spec->max_age_s = static_cast<int64_t>(a);
  }
  if (o.Has("compress") && !o.Get("compress").IsUndefined()) {
    if (!o.Get("compress").IsString()) return false;
    std::string c = o.Get("compress").As<Napi::String>().Utf8Value();
    if (c == "gzip") spec->gzip = true;
    else if (c != "none") return false;
  }
  return true;
}

// openSink(path, maxbytes, backups, format?, rotation?) -> { sink } | { errno }
Napi::Value OpenSink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber())
    return usage(env, "Usage: openSink(path: string, maxbytes: number, backups: number)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos) return errno_result(env, -EINVAL);
  LineFormatSpec format;
  if (info.Length() > 3 && !info[3].IsUndefined() && !read_line_format(info[3], &format))
    return usage(env, "openSink: format must be { mode: 'raw'|'timestamped'|'json'|'prefixed', time?: 'rfc3339'|'local', maxLine?: number, program?, process?, group?, stream? }");
  RotationSpec rotation;
  if (info.Length() > 4 && !info[4].IsUndefined() && !read_rotation(info[4], &rotation))
    return usage(env, "openSink: rotation must be { every?: 'hourly'|'daily'|'weekly'|seconds, maxAge?: seconds, compress?: 'gzip'|'none' }");
  double maxbytes = info[1].As<Napi::Number>().DoubleValue();
  int err = 0;
  auto sink = get(info)->loop.open_sink(path, maxbytes > 0 ? static_cast<uint64_t>(maxbytes) : 0,
                                        info[2].As<Napi::Number>().Int32Value(), &err);
  if (!sink) return errno_result(env, err);
  // Before JS has the id, so before any child or write can reach the sink.
  sink->set_format(format);
  sink->set_rotation(rotation, get(info)->loop.backup_worker());
  auto res = Napi::Object::New(env);
  res.Set("sink", sink->id());
  return res;
}

Napi::Value CloseSink(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(info.Env(), "Usage: closeSink(sink: number)");
  get(info)->loop.close_sink(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

// sinkCounters(sink, out: Float64Array(5)) -> boolean. Caller-allocated, so
// reading counters for hundreds of processes allocates nothing.
// out = [written, dropped, size, rotations, faultErrno]
Napi::Value SinkCountersJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::Float64Array>().ElementLength() < 5)
    return usage(env, "Usage: sinkCounters(sink: number, out: Float64Array(5))");
  auto sink = get(info)->loop.find_sink(info[0].As<Napi::Number>().Uint32Value());
  if (!sink) return Napi::Boolean::New(env, false);
  double* o = info[1].As<Napi::Float64Array>().Data();
  o[0] = static_cast<double>(sink->counters.written.load());
  o[1] = static_cast<double>(sink->counters.dropped.load());
  o[2] = static_cast<double>(sink->counters.size.load());
  o[3] = static_cast<double>(sink->counters.rotations.load());
  o[4] = sink->counters.fault_errno.load();
  return Napi::Boolean::New(env, true);
}

Napi::Value WriteSink(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer())
    return usage(info.Env(), "Usage: writeSink(sink: number, data: Buffer)");
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  int pid = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
  return Napi::Number::New(info.Env(), get(info)->loop.write_sink(info[0].As<Napi::Number>().Uint32Value(), buf.Data(), buf.Length(), pid));
}

Napi::Value ReopenSinks(const Napi::CallbackInfo& info) {
  uint32_t id = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
  return Napi::Number::New(info.Env(), get(info)->loop.reopen_sinks(id));
}

// Tests: nextRotationBoundary('hourly'|'daily'|'weekly', wallSecs) -> epoch seconds (local time).
Napi::Value NextRotationBoundary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    return usage(env, "Usage: nextRotationBoundary(every: 'hourly'|'daily'|'weekly', wallSecs: number)");
  RotateEvery e = calendar_every(info[0].As<Napi::String>().Utf8Value());
  if (e == RotateEvery::kNone) return usage(env, "nextRotationBoundary: every must be hourly, daily or weekly");
  return Napi::Number::New(env, static_cast<double>(next_calendar_boundary(e, info[1].As<Napi::Number>().Int64Value())));
}

Napi::Value RotateSink(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(info.Env(), "Usage: rotateSink(sink: number)");
  return Napi::Number::New(info.Env(), get(info)->loop.rotate_sink(info[0].As<Napi::Number>().Uint32Value()));
}

Napi::Value ClearSink(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(info.Env(), "Usage: clearSink(sink: number)");
  return Napi::Number::New(info.Env(), get(info)->loop.clear_sink(info[0].As<Napi::Number>().Uint32Value()));
}

// syslogConfigure(path, ident) -> the socket path in use ('' = the platform's).
Napi::Value SyslogConfigure(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString())
    return usage(info.Env(), "Usage: syslogConfigure(path: string, ident: string)");
  auto& w = get(info)->loop.syslog();
  w.configure(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value());
  return Napi::String::New(info.Env(), w.path());
}

// writeSyslog(data, prefix?): with a prefix, a chunk of a child's output (one
// message per line, "prefix line"); without, one message as it is.
Napi::Value WriteSyslog(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBuffer() || (info.Length() > 1 && !info[1].IsString() && !info[1].IsUndefined()))
    return usage(info.Env(), "Usage: writeSyslog(data: Buffer, prefix?: string)");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  bool chunk = info.Length() > 1 && info[1].IsString();
  std::string prefix = chunk ? info[1].As<Napi::String>().Utf8Value() : std::string();
  get(info)->loop.write_syslog(prefix, chunk, buf.Data(), buf.Length());
  return info.Env().Undefined();
}

// syslogCounters() -> [sent, dropped, faultErrno] (messages)
Napi::Value SyslogCountersJs(const Napi::CallbackInfo& info) {
  auto& c = get(info)->loop.syslog().counters;
  auto arr = Napi::Array::New(info.Env(), 3);
  arr.Set(0u, static_cast<double>(c.sent.load()));
  arr.Set(1u, static_cast<double>(c.dropped.load()));
  arr.Set(2u, static_cast<double>(c.fault_errno.load()));
  return arr;
}

// openNotify(path, uid?, gid?) -> { socket } | { errno }. The socket is bound
// before this returns; its datagrams come as kNotify events.
Napi::Value OpenNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    return usage(env, "Usage: openNotify(path: string, uid?: number, gid?: number)");
  Addon* a = get(info);
  if (!a->loop.running()) return usage(env, "start() the I/O loop before openNotify()");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos) return errno_result(env, -EINVAL);
  NotifyOwner owner;
  if (info.Length() >= 3 && info[1].IsNumber() && info[2].IsNumber()) {
    owner.set = true;
    owner.uid = info[1].As<Napi::Number>().Uint32Value();
    owner.gid = info[2].As<Napi::Number>().Uint32Value();
  }
  int err = 0;
  uint32_t id = a->loop.open_notify(path, owner, &err);
  if (id == 0) return errno_result(env, err);
  auto res = Napi::Object::New(env);
  res.Set("socket", id);
  return res;
}

// sdNotify(path, text) -> 0 | -errno. The daemon's own sd_notify to its
// supervisor (systemd); no I/O loop needed.
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) return usage(env, "Usage: sdNotify(path: string, text: string)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string text = info[1].As<Napi::String>().Utf8Value();
  return Napi::Number::New(env, notify_send(path, text));
}

Napi::Value CloseNotify(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(info.Env(), "Usage: closeNotify(socket: number)");
  get(info)->loop.close_notify(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

// fcgiListen({ path, uid?, gid?, mode?, backlog? } | { host, port, backlog? })
//   -> { fd } | { errno, step, text }. A listening socket for an fcgi-program.
Napi::Value FcgiListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kUsage =
      "Usage: fcgiListen({ path: string, uid?: number, gid?: number, mode?: number, backlog?: number } | "
      "{ host: string, port: number, backlog?: number })";
  if (info.Length() < 1 || !info[0].IsObject()) return usage(env, kUsage);
  auto o = info[0].As<Napi::Object>();
  FcgiSocketSpec spec;
  if (o.Get("path").IsString()) {
    spec.unix_domain = true;
    spec.path = o.Get("path").As<Napi::String>().Utf8Value();
    if (spec.path.empty() || spec.path.find('\0') != std::string::npos) return usage(env, kUsage);
    if (o.Get("uid").IsNumber()) {
      spec.set_owner = true;
      spec.uid = static_cast<uid_t>(o.Get("uid").As<Napi::Number>().Int64Value());
      spec.gid = o.Get("gid").IsNumber() ? static_cast<gid_t>(o.Get("gid").As<Napi::Number>().Int64Value()) : static_cast<gid_t>(-1);
    }
    if (o.Get("mode").IsNumber()) spec.mode = o.Get("mode").As<Napi::Number>().Int32Value();
  } else if (o.Get("host").IsString() && o.Get("port").IsNumber()) {
    spec.host = o.Get("host").As<Napi::String>().Utf8Value();
    spec.port = o.Get("port").As<Napi::Number>().Int32Value();
    if (spec.host.find('\0') != std::string::npos || spec.port < 0 || spec.port > 65535) return usage(env, kUsage);
  } else {
    return usage(env, kUsage);
  }
  if (o.Get("backlog").IsNumber()) spec.backlog = o.Get("backlog").As<Napi::Number>().Int32Value();
  FcgiFailure failure;
  int fd = fcgi_listen(spec, &failure);
  auto res = Napi::Object::New(env);
  if (fd < 0) {
    res.Set("errno", failure.err);
    res.Set("step", static_cast<int>(failure.step));
    res.Set("text", failure.text);
  } else {
    res.Set("fd", fd);
  }
  return res;
}

// fcgiClose(fd): the daemon's copy of an fcgi-program's socket.
Napi::Value FcgiClose(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return usage(info.Env(), "Usage: fcgiClose(fd: number)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd < 3) return usage(info.Env(), "fcgiClose: not an fcgi socket");
  return Napi::Number::New(info.Env(), close(fd) == 0 ? 0 : -errno);
}

// lookupUser(nameOrUid) -> { name, uid, gid, groups, home, shell } | { errno }
Napi::Value LookupUser(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return usage(env, "Usage: lookupUser(nameOrUid: string)");
  UserInfo u;
  int rc = lookup_user(info[0].As<Napi::String>().Utf8Value(), &u);
  if (rc < 0) return errno_result(env, rc);
  auto o = Napi::Object::New(env);
  o.Set("name", u.name);
  o.Set("uid", static_cast<double>(u.uid));
  o.Set("gid", static_cast<double>(u.gid));
  auto g = Napi::Array::New(env, u.groups.size());
  for (uint32_t i = 0; i < u.groups.size(); i++) g.Set(i, static_cast<double>(u.groups[i]));
  o.Set("groups", g);
  o.Set("home", u.home);
  o.Set("shell", u.shell);
  return o;
}

// reapOrphans(on) -> 0 | -errno. Makes this process a child subreaper (Linux)
// and reaps every child that ends up here, ours or orphaned. As PID 1 the
// kernel already sends orphans here; this turns on the reaping.
Napi::Value ReapOrphans(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Addon* a = get(info);
  bool on = info.Length() > 0 && info[0].ToBoolean();
  int rc = 0;
#if defined(__linux__)
  if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) != 0) rc = -errno;
#endif
  if (rc == 0) {
    a->loop.set_reap_orphans(on);
    if (on) {
      ensure_sigchld(env, a);
      a->loop.request_reap_scan();
    }
  }
  return Napi::Number::New(env, rc);
}

// rlimit(name, soft?, hard?) -> [soft, hard] | -errno. -1 stands for
// RLIM_INFINITY both ways. supervisord's minfds/minprocs raise these at
// start-up; Node has no setrlimit of its own.
Napi::Value Rlimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return usage(env, "Usage: rlimit('nofile' | 'nproc', soft?, hard?)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int res;
  if (name == "nofile") res = RLIMIT_NOFILE;
#ifdef RLIMIT_NPROC
  else if (name == "nproc") res = RLIMIT_NPROC;
#endif
  else return Napi::Number::New(env, -EINVAL);
  auto to_rlim = [](double v) { return v < 0 ? RLIM_INFINITY : static_cast<rlim_t>(v); };
  auto from_rlim = [](rlim_t v) { return v == RLIM_INFINITY ? -1.0 : static_cast<double>(v); };
  struct rlimit rl;
  if (info.Length() >= 3 && info[1].IsNumber() && info[2].IsNumber()) {
    rl.rlim_cur = to_rlim(info[1].As<Napi::Number>().DoubleValue());
    rl.rlim_max = to_rlim(info[2].As<Napi::Number>().DoubleValue());
    if (setrlimit(res, &rl) != 0) return Napi::Number::New(env, -errno);
  }
  if (getrlimit(res, &rl) != 0) return Napi::Number::New(env, -errno);
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, from_rlim(rl.rlim_cur));
  out.Set(1u, from_rlim(rl.rlim_max));
  return out;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
#if defined(__GLIBC__)
  // One malloc arena for the whole process. glibc gives each thread that
  // mallocs while the others hold their arena one of its own (up to 8 per
  // core), and each keeps its freed pages: the daemon's threads (V8's
  // platform workers, libuv's pool, the I/O thread, the spawner, the
  // compressor) held 7 arenas and ~3.6 MiB of RSS at rest with 500 programs.
  // They malloc little and seldom at the same time; sharing one arena took
  // RSS at rest from 62.2 to 59.2 MiB at 500 `sleep` programs (2026-12-06),
  // with no change in CPU per getAllProcessInfo. Set here, the first native
  // code the daemon runs: threads that already have an arena keep it.
  mallopt(M_ARENA_MAX, 1);
#endif
  // Before the daemon opens its log files: the slots must sit low in the table.
  reserve_spawn_slots();
  // A log write past RLIMIT_FSIZE raises SIGXFSZ, whose default action kills
  // the whole daemon. Python ignores it at start-up, so supervisord does too;
  // ignored, the write fails with EFBIG and is counted like any write error.
  // (Children get default dispositions back in child_exec.)
  struct sigaction old_xfsz;
  if (sigaction(SIGXFSZ, nullptr, &old_xfsz) == 0 && old_xfsz.sa_handler == SIG_DFL) signal(SIGXFSZ, SIG_IGN);
  auto* addon = new Addon();
  env.SetInstanceData<Addon>(addon);
  // Node tears the environment down (worker exit, process exit) without
  // running JS: stop and join the I/O thread there, or it would outlive the env.
  napi_add_env_cleanup_hook(env, [](void* p) { stop_addon(static_cast<Addon*>(p)); }, addon);
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("stop", Napi::Function::New(env, Stop));
  exports.Set("setBatchMs", Napi::Function::New(env, SetBatchMs));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("spawnAsync", Napi::Function::New(env, SpawnAsync));
  exports.Set("fdReserve", Napi::Function::New(env, FdReserve));
  exports.Set("fdHeadroom", Napi::Function::New(env, FdHeadroom));
  exports.Set("testHooks", Napi::Function::New(env, TestHooks));
  exports.Set("formatLines", Napi::Function::New(env, FormatLines));
  exports.Set("trimMemory", Napi::Function::New(env, TrimMemory));
  exports.Set("tuneMalloc", Napi::Function::New(env, TuneMalloc));
  exports.Set("kill", Napi::Function::New(env, Kill));
  exports.Set("childExited", Napi::Function::New(env, ChildExited));
  exports.Set("writeStdin", Napi::Function::New(env, WriteStdin));
  exports.Set("closeStdin", Napi::Function::New(env, CloseStdin));
  exports.Set("setTap", Napi::Function::New(env, SetTap));
  exports.Set("childCounters", Napi::Function::New(env, ChildCounters));
  exports.Set("openSink", Napi::Function::New(env, OpenSink));
  exports.Set("closeSink", Napi::Function::New(env, CloseSink));
  exports.Set("sinkCounters", Napi::Function::New(env, SinkCountersJs));
  exports.Set("writeSink", Napi::Function::New(env, WriteSink));
  exports.Set("reopenSinks", Napi::Function::New(env, ReopenSinks));
  exports.Set("clearSink", Napi::Function::New(env, ClearSink));
  exports.Set("rotateSink", Napi::Function::New(env, RotateSink));
  exports.Set("nextRotationBoundary", Napi::Function::New(env, NextRotationBoundary));
  exports.Set("syslogConfigure", Napi::Function::New(env, SyslogConfigure));
  exports.Set("writeSyslog", Napi::Function::New(env, WriteSyslog));
  exports.Set("syslogCounters", Napi::Function::New(env, SyslogCountersJs));
  exports.Set("openNotify", Napi::Function::New(env, OpenNotify));
  exports.Set("closeNotify", Napi::Function::New(env, CloseNotify));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify));
  exports.Set("fcgiListen", Napi::Function::New(env, FcgiListen));
  exports.Set("fcgiClose", Napi::Function::New(env, FcgiClose));
  exports.Set("lookupUser", Napi::Function::New(env, LookupUser));
  exports.Set("reapOrphans", Napi::Function::New(env, ReapOrphans));
  exports.Set("rlimit", Napi::Function::New(env, Rlimit));
  exports.Set("cgroupSetup", Napi::Function::New(env, CgroupSetup));
  exports.Set("cgroupSignal", Napi::Function::New(env, CgroupSignal));
  exports.Set("cgroupKill", Napi::Function::New(env, CgroupKill));
  exports.Set("cgroupRead", Napi::Function::New(env, CgroupRead));
  exports.Set("cgroupRemove", Napi::Function::New(env, CgroupRemove));
  exports.Set("procStats", Napi::Function::New(env, ProcStats));
  exports.Set("procStatsForget", Napi::Function::New(env, ProcStatsForget));
  return exports;
}

}  // namespace fv

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return fv::Init(env, exports); }

NODE_API_MODULE(fastvisor, InitAddon)
