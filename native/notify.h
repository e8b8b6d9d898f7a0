// SPDX-License-Identifier: MIT
// sd_notify sockets (systemd's NOTIFY_SOCKET): one unix datagram socket per
// supervised process. Created on the JS thread, so a bad path fails at once;
// read only by the I/O thread, which owns the fd from then on.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace fv {

// systemd's own limit (NOTIFY_BUFFER_MAX): a longer datagram is dropped.
constexpr size_t kNotifyMax = 4096;

struct NotifyOwner {
  bool set = false;  // false: the file keeps the daemon's uid and gid
  uid_t uid = 0;
  gid_t gid = 0;
};

// The file a socket was bound to, remembered so that its removal never takes
// a newer socket that a later notify_open put at the same path.
struct NotifyName {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
};

// JS thread. Binds a datagram socket at path, mode 0600, chowned to owner.
// A socket file already there is a leftover and is replaced; anything else
// there is -EEXIST. Returns the fd (close-on-exec, non-blocking) and fills
// *name, or returns -errno, leaving nothing at path that was not there before.
int notify_open(const std::string& path, const NotifyOwner& owner, NotifyName* name);

// Any thread. Removes name->path if it is still the file notify_open bound.
void notify_unlink(const NotifyName& name);

// I/O thread. Takes one datagram into buf (kNotifyMax bytes). Returns its
// length with *pid set to the sender's pid (0 where the OS does not say),
// 0 for a datagram that was dropped (too long, or empty), or -errno (-EAGAIN:
// nothing waiting). Descriptors a sender passed along are closed.
ssize_t notify_read(int fd, uint8_t* buf, pid_t* pid);

// JS thread. The sending side, for the daemon's own supervisor (systemd's
// sd_notify): one datagram with text to the NOTIFY_SOCKET address path, an
// absolute file name or, with a leading '@', an abstract name (the '@'
// becomes the '\0' systemd means by it). Returns 0 or -errno: -EINVAL for
// any other address (systemd's vsock: form included), -ENAMETOOLONG,
// -EMSGSIZE for text longer than kNotifyMax (systemd would drop it).
int notify_send(const std::string& path, const std::string& text);

}  // namespace fv
