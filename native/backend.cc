// SPDX-License-Identifier: MIT
// Backend selection by name; runs on the JS thread before the I/O thread starts.
#include "backend.h"

namespace fv {

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "poll") return make_poll_backend();
#if defined(__linux__)
  if (name == "default" || name == "epoll") return make_epoll_backend();
#endif
#if defined(FV_HAVE_KQUEUE)
  if (name == "default" || name == "kqueue") return make_kqueue_backend();
#endif
  if (name == "default") return make_poll_backend();
  return nullptr;
}

}  // namespace fv
