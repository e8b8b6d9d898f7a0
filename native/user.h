// SPDX-License-Identifier: MIT
// User name (or numeric uid) -> uid, gid and supplementary groups.
// Runs on the JS thread, never in a forked child: getpwnam_r may read files
// and allocate, which is not async-signal-safe.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace fv {

struct UserInfo {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string home;
  std::string shell;
};

// 0 on success, -ENOENT when there is no such user, other -errno on failure.
int lookup_user(const std::string& name_or_uid, UserInfo* out);

}  // namespace fv
