// SPDX-License-Identifier: MIT
// Backend selection by name; runs on the JS thread before the I/O thread starts.
#include "backend.h"

namespace fv {

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "poll") return make_poll_backend();
#if defined(__linux__)
  if (name == "default" || name == "epoll") return make_epoll_backend();
#endif
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__) || \
    defined(FV_LIBKQUEUE)  // Linux + libkqueue: a test build (scripts/build-kqueue.sh)
  if (name == "default" || name == "kqueue") return make_kqueue_backend();
#endif
  if (name == "default") return make_poll_backend();
  return nullptr;
}

}  // namespace fv
