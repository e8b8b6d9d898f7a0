// SPDX-License-Identifier: MIT
// The spawn thread: runs spawn_child() for the JS thread, which only queues a
// request and hears the outcome as an event (kSpawned / kSpawnFailed). On
// Linux a spawn waits inside clone(CLONE_VFORK) until the child has exec'd;
// when the CPUs are busy that wait is long, and on the JS thread it stalled
// RPC answers, timers and event delivery. Here it stalls nobody.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "io_loop.h"
#include "spawn.h"

namespace fv {

class Spawner {
 public:
  explicit Spawner(IoLoop* loop) : loop_(loop) {}
  ~Spawner() { stop(); }
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  // JS thread. Requests run one at a time, in the order submitted.
  void submit(uint32_t request, SpawnPlan plan, ChannelSpec out, ChannelSpec err);
  // JS thread: waits for the spawn under way; requests not started are
  // dropped (their children never exist).
  void stop();

 private:
  struct Job {
    uint32_t request;
    SpawnPlan plan;
    ChannelSpec out, err;
  };
  void run();

  IoLoop* const loop_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
};

}  // namespace fv
