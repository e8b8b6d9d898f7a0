// SPDX-License-Identifier: MIT
// The spawn thread (see spawner.h).
#include "spawner.h"

#include <pthread.h>
#include <signal.h>

#include <utility>

namespace fv {

void Spawner::submit(uint32_t request, SpawnPlan plan, ChannelSpec out, ChannelSpec err) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!thread_.joinable()) {
    stopping_ = false;
    // Started on first use, so a process that never spawns asynchronously
    // never has the thread. Every signal stays blocked on it: the kernel
    // delivers process signals to threads that can take them (libuv's
    // handlers work from any thread, but there is no need to be one).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    thread_ = std::thread([this] { run(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  jobs_.push_back(Job{request, std::move(plan), std::move(out), std::move(err)});
  cv_.notify_one();
}

void Spawner::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_one();
  thread_.join();
  thread_ = std::thread();
}

void Spawner::run() {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "fastvisor-spawn");
#elif defined(__APPLE__)
  pthread_setname_np("fastvisor-spawn");
#endif
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job.plan.want_pidfd = loop_->wants_pidfd();
    SpawnResult r;
    int rc = loop_->spawn(job.plan, &r);
    if (rc < 0) {
      loop_->spawn_failed(job.request, r.pid > 0 ? r.pid : 0, -rc, r.stage);
      continue;
    }
    loop_->add_child(r, std::move(job.out), std::move(job.err), job.request);
  }
}

}  // namespace fv
