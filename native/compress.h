// SPDX-License-Identifier: MIT
// The work a log rotation leaves behind, done off the I/O thread: gzip a fresh
// backup (NAME.k -> NAME.k.gz) and delete backups past *_logfile_max_age. One
// worker thread for the whole daemon, one job at a time, in the order the
// rotations happened, at a lower CPU priority than capture.
//
// The I/O thread keeps shifting names (NAME.1 -> NAME.2 ...) while a backup is
// being compressed, so a job names its backup by inode, not by name: the
// worker finds where the file is now, under the sink's names mutex (which the
// I/O thread holds while it shifts), both before and after compressing.
// Compression writes NAME.gz.tmp, fsyncs it, renames it over NAME.k.gz, then
// removes NAME.k: a crash leaves the plain backup or a complete .gz (or both),
// never a truncated .gz under a backup's name.
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

namespace fv {

struct BackupJob {
  std::string path;                  // the live file's name; backups are path.1 ... path.backups(.gz)
  int backups = 0;
  bool gzip = false;                 // compress the backup named by dev/ino
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t max_age_s = 0;             // > 0: then delete backups last written longer ago than this
  std::shared_ptr<std::mutex> names; // the sink's: held while names change
};

// A backup's name: path.k, or path.k.gz.
std::string backup_name(const std::string& path, int k, bool gz = false);

class BackupWorker {
 public:
  BackupWorker() = default;
  ~BackupWorker();  // a job under way is abandoned (its temporary file removed)
  BackupWorker(const BackupWorker&) = delete;
  BackupWorker& operator=(const BackupWorker&) = delete;

  // Any thread; never blocks on the work. The thread starts at the first job.
  void post(BackupJob job);
 private:
  void run();
  void handle(BackupJob& job);
  void prune(const BackupJob& job);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BackupJob> jobs_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fv
