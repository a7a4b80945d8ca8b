#include "sentry/credentials.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

namespace ukcov::sentry {

bool Credentials::InGroup(gid_t gid) const {
  if (gid == fsgid) return true;
  for (gid_t g : groups)
    if (g == gid) return true;
  return false;
}

Result<Credentials> Credentials::Read(pid_t tid) {
  std::string path = "/proc/" + std::to_string(tid) + "/status";
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return Errno{ESRCH};
  Credentials c;
  char line[4096];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned a, b, s, fs;
    if (std::sscanf(line, "Uid: %u %u %u %u", &a, &b, &s, &fs) == 4) c.fsuid = fs, c.ruid = a;
    if (std::sscanf(line, "Gid: %u %u %u %u", &a, &b, &s, &fs) == 4) c.fsgid = fs, c.rgid = a;
    unsigned mask;
    if (std::sscanf(line, "Umask: %o", &mask) == 1) c.umask = static_cast<mode_t>(mask);
    uint64_t caps;
    if (std::sscanf(line, "CapEff: %" SCNx64, &caps) == 1) c.capabilities = caps;
    if (std::sscanf(line, "CapPrm: %" SCNx64, &caps) == 1) c.permitted = caps;
    if (std::strncmp(line, "Groups:", 7) == 0) {
      char* p = line + 7;
      char* end;
      for (unsigned long g = std::strtoul(p, &end, 10); end != p; g = std::strtoul(p, &end, 10)) {
        c.groups.push_back(static_cast<gid_t>(g));
        p = end;
      }
    }
  }
  std::fclose(f);
  return c;
}

AsGuest::AsGuest(const Credentials& creds) {
  // setfsuid/setfsgid return the previous value whatever happens.
  gid_ = static_cast<gid_t>(syscall(SYS_setfsgid, creds.fsgid));
  int n = getgroups(0, nullptr);
  if (n >= 0) {
    groups_.resize(static_cast<size_t>(n));
    if (getgroups(n, groups_.data()) == n)
      groups_set_ = syscall(SYS_setgroups, creds.groups.size(), creds.groups.data()) == 0;
  }
  uid_ = static_cast<uid_t>(syscall(SYS_setfsuid, creds.fsuid));
}

AsGuest::~AsGuest() {
  syscall(SYS_setfsuid, uid_);
  if (groups_set_) syscall(SYS_setgroups, groups_.size(), groups_.data());
  syscall(SYS_setfsgid, gid_);
}

}  // namespace ukcov::sentry
