// SPDX-License-Identifier: MIT
// The backup worker (compress.h). zlib is the one Node carries: an addon
// resolves deflate* against the node binary, which exports them (Linux; on
// macOS node-gyp links addons with -undefined dynamic_lookup, so the same).
#include "compress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#endif
#include <zlib.h>

#include <vector>

namespace fv {
namespace {

// gzip -1: logs are repetitive enough that the fastest level gives most of
// the gain, and the worker must keep up with a disk's worth of capture on
// whatever core capture leaves it.
constexpr int kLevel = 1;
constexpr size_t kChunk = 256 * 1024;

// The plain backup that is this inode now, 0 when none (gone: shifted past
// the last backup, pruned, or compressed already). Caller holds the names mutex.
int find_backup(const BackupJob& job) {
  for (int k = 1; k <= job.backups; k++) {
    struct stat st;
    if (stat(backup_name(job.path, k, false).c_str(), &st) == 0 && st.st_dev == job.dev && st.st_ino == job.ino) return k;
  }
  return 0;
}

bool write_all(int fd, const unsigned char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void sync_dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = open(dir.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

}  // namespace

std::string backup_name(const std::string& path, int k, bool gz) {
  return path + "." + std::to_string(k) + (gz ? ".gz" : "");
}

BackupWorker::~BackupWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackupWorker::post(BackupJob job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return;
  jobs_.push_back(std::move(job));
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  cv_.notify_one();
}

void BackupWorker::run() {
#if defined(__linux__)
  // Capture comes first: SCHED_IDLE runs this thread only on a CPU nothing
  // else wants (a niced thread still takes its share from the I/O thread and
  // the children). Failing that, nice (Linux applies it to this thread alone).
  struct sched_param none {};
  if (sched_setscheduler(0, SCHED_IDLE, &none) != 0) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
#endif
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (stop_) return;
    BackupJob job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    handle(job);
    lock.lock();
  }
}

// gzip src_fd (from its start) into a new file tmp, fsynced, with src's
// times. 0 or -errno (tmp is then removed). Gives up when stop turns true.
static int gzip_file(int src_fd, const std::string& tmp, const std::atomic<bool>& stop) {
  struct stat st;
  if (fstat(src_fd, &st) != 0) return -errno;
  int out = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return -errno;
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper (header and CRC), what gunzip and zcat read.
  if (deflateInit2(&z, kLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    close(out);
    unlink(tmp.c_str());
    return -ENOMEM;
  }
  // The worker's own buffers, kept between jobs (many small backups a second
  // must not each pay for fresh zeroed ones).
  static thread_local std::vector<unsigned char> in(kChunk), buf(kChunk);
  int err = 0;
  off_t off = 0;
  for (bool done = false; !done && err == 0;) {
    if (stop.load(std::memory_order_relaxed)) {
      err = -ECANCELED;
      break;
    }
    ssize_t r = pread(src_fd, in.data(), in.size(), off);
    if (r < 0) {
      if (errno == EINTR) continue;
      err = -errno;
      break;
    }
    off += r;
    done = r == 0;
    z.next_in = in.data();
    z.avail_in = static_cast<uInt>(r);
    do {
      z.next_out = buf.data();
      z.avail_out = static_cast<uInt>(buf.size());
      int zr = deflate(&z, done ? Z_FINISH : Z_NO_FLUSH);
      if (zr == Z_STREAM_ERROR) {
        err = -EIO;
        break;
      }
      if (!write_all(out, buf.data(), buf.size() - z.avail_out)) {
        err = -errno;
        break;
      }
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  // The .gz keeps the backup's times: max_age judges a backup by its last write.
#if defined(__APPLE__)
  struct timespec times[2] = {st.st_atimespec, st.st_mtimespec};
#else
  struct timespec times[2] = {st.st_atim, st.st_mtim};
#endif
  if (err == 0 && futimens(out, times) != 0) err = -errno;
  if (err == 0 && fsync(out) != 0) err = -errno;
  if (close(out) != 0 && err == 0) err = -errno;
  if (err != 0) unlink(tmp.c_str());
  return err;
}

void BackupWorker::handle(BackupJob& job) {
  if (job.gzip) {
    int fd = -1;
    {
      std::lock_guard<std::mutex> lock(*job.names);
      int k = find_backup(job);
      if (k > 0) fd = open(backup_name(job.path, k, false).c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (fd >= 0) {
      // One job at a time in the whole daemon, so one temporary per log.
      std::string tmp = job.path + ".gz.tmp";
      int rc = gzip_file(fd, tmp, stop_);
      close(fd);
      // The plain backup leaves its name under the mutex (a rename), and is
      // unlinked after it: freeing a big file's blocks takes a while, and the
      // I/O thread may be waiting to rotate.
      std::string done = job.path + ".gz.done";
      bool drop = false;
      if (rc == 0) {
        std::lock_guard<std::mutex> lock(*job.names);
        int k = find_backup(job);  // where it went meanwhile
        if (k > 0 && rename(tmp.c_str(), backup_name(job.path, k, true).c_str()) == 0) {
          drop = rename(backup_name(job.path, k, false).c_str(), done.c_str()) == 0;
        } else {
          unlink(tmp.c_str());
        }
      }
      if (drop) unlink(done.c_str());
      if (rc == 0) sync_dir_of(job.path);  // outside the mutex too
      // A failure (disk full ...) leaves the plain backup: nothing is lost.
    }
  }
  if (job.max_age_s > 0) prune(job);
}

void BackupWorker::prune(const BackupJob& job) {
  const time_t cutoff = time(nullptr) - static_cast<time_t>(job.max_age_s);
  std::lock_guard<std::mutex> lock(*job.names);
  for (int k = 1; k <= job.backups; k++) {
    for (bool gz : {false, true}) {
      std::string name = backup_name(job.path, k, gz);
      struct stat st;
      if (stat(name.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff) unlink(name.c_str());
    }
  }
}

}  // namespace fv
