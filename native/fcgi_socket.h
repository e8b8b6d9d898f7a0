// SPDX-License-Identifier: MIT
// [fcgi-program:x] listening sockets: made by the daemon, handed to every
// process of the program as its fd 0 (spawn.h SpawnPlan::stdin_fd). The
// steps and their order are supervisord's (datatypes.py create_and_bind,
// socket_manager.py _prepare_socket); when to make and close one is the JS
// side's (src/process/fcgi-sockets.ts).
#pragma once
#include <sys/types.h>

#include <string>

namespace fv {

struct FcgiSocketSpec {
  bool unix_domain = false;
  std::string path;     // unix: an absolute path
  bool set_owner = false;
  uid_t uid = 0;
  gid_t gid = static_cast<gid_t>(-1);  // -1: the group stays
  int mode = -1;        // unix: chmod after bind; -1: leave it
  std::string host;     // inet: a name or a dotted quad, resolved for IPv4 as Python's bind does
  int port = 0;
  int backlog = 0;      // 0: SOMAXCONN
};

// Which step failed, for the message (Python words them differently).
enum class FcgiStep : int {
  kNone = 0,
  kResolve = 1,   // getaddrinfo: err is the EAI_* code, text gai_strerror()
  kSocket = 2,
  kUnlink = 3,    // removing what was at the path before binding
  kBind = 4,
  kChown = 5,
  kChmod = 6,
  kListen = 7,
  kPathTooLong = 8,  // longer than sun_path: Python's "AF_UNIX path too long"
};

struct FcgiFailure {
  FcgiStep step = FcgiStep::kNone;
  int err = 0;       // errno, or the EAI_* code for kResolve
  std::string text;  // strerror(err) / gai_strerror(err)
};

// JS thread. A blocking listening socket (the children accept() on it),
// close-on-exec and >= 3 in the daemon. A unix path that exists is unlinked
// first; a failure after bind closes the socket and unlinks the path again.
// Returns the fd, or -1 with *failure filled.
int fcgi_listen(const FcgiSocketSpec& spec, FcgiFailure* failure);

}  // namespace fv
