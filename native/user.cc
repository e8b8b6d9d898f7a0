// SPDX-License-Identifier: MIT
// User lookup on the JS thread (see user.h).
#include "user.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace fv {

int lookup_user(const std::string& name_or_uid, UserInfo* out) {
  long bufsize = sysconf(_SC_GETPW_R_SIZE_MAX);
  if (bufsize <= 0) bufsize = 16384;
  std::vector<char> buf(static_cast<size_t>(bufsize));
  struct passwd pw, *found = nullptr;

  bool numeric = !name_or_uid.empty() &&
                 name_or_uid.find_first_not_of("0123456789") == std::string::npos;
  for (;;) {
    int rc = numeric ? getpwuid_r(static_cast<uid_t>(strtoul(name_or_uid.c_str(), nullptr, 10)),
                                  &pw, buf.data(), buf.size(), &found)
                     : getpwnam_r(name_or_uid.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0) return -rc;
    if (found == nullptr) return -ENOENT;
    break;
  }
  out->name = pw.pw_name;
  out->uid = pw.pw_uid;
  out->gid = pw.pw_gid;
  out->home = pw.pw_dir ? pw.pw_dir : "";
  out->shell = pw.pw_shell ? pw.pw_shell : "";

  // initgroups() in the child would read /etc/group after fork; resolve the
  // list here instead and hand setgroups() a ready array.
  int ngroups = 32;
  for (;;) {
    out->groups.resize(static_cast<size_t>(ngroups));
#ifdef __APPLE__
    std::vector<int> tmp(static_cast<size_t>(ngroups));
    int n = ngroups;
    int rc = getgrouplist(pw.pw_name, static_cast<int>(pw.pw_gid), tmp.data(), &n);
    for (int i = 0; i < n && i < ngroups; i++) out->groups[i] = static_cast<gid_t>(tmp[i]);
#else
    int n = ngroups;
    int rc = getgrouplist(pw.pw_name, pw.pw_gid, out->groups.data(), &n);
#endif
    if (rc >= 0) {
      out->groups.resize(static_cast<size_t>(n));
      return 0;
    }
    if (n <= ngroups) ngroups *= 2;
    else ngroups = n;
    if (ngroups > 65536) return -E2BIG;
  }
}

}  // namespace fv
