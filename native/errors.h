// SPDX-License-Identifier: MIT
// The contract between the native core and addon.cc: core functions return
// -errno (never throw), and a failed spawn also says at which stage it failed.
#pragma once
#include <cstdint>

namespace fv {

// Where a spawn failed. The numbers travel through the error pipe and to JS
// (src/native/errors.ts keeps the same table), so only append.
enum class SpawnStage : int32_t {
  kNone = 0,
  kPipe = 1,      // parent: pipe2 for stdio or the error pipe
  kFork = 2,      // parent: fork
  kSetpgid = 3,   // child: setpgid / setsid
  kDup2 = 4,      // child: wiring fds 0, 1, 2
  kSetgroups = 5, // child: setgroups (supplementary groups)
  kSetgid = 6,
  kSetuid = 7,
  kChdir = 8,
  kExec = 9,
  kDevnull = 10,  // parent: opening /dev/null for a discarded channel
  kPidfd = 11,    // parent: watching the child for its exit
  kCgroup = 12,   // parent: opening cgroup.procs; child: writing itself into it
};

inline const char* spawn_stage_name(SpawnStage s) {
  switch (s) {
    case SpawnStage::kNone: return "none";
    case SpawnStage::kPipe: return "pipe";
    case SpawnStage::kFork: return "fork";
    case SpawnStage::kSetpgid: return "setpgid";
    case SpawnStage::kDup2: return "dup2";
    case SpawnStage::kSetgroups: return "setgroups";
    case SpawnStage::kSetgid: return "setgid";
    case SpawnStage::kSetuid: return "setuid";
    case SpawnStage::kChdir: return "chdir";
    case SpawnStage::kExec: return "exec";
    case SpawnStage::kDevnull: return "devnull";
    case SpawnStage::kPidfd: return "pidfd";
    case SpawnStage::kCgroup: return "cgroup";
  }
  return "unknown";
}

}  // namespace fv
