// A task's filesystem credentials, as Linux checks them: fsuid, fsgid,
// supplementary groups, effective capabilities, and the process's umask.
// Read from /proc/TID/status and cached per task until the task changes
// them (the set*id, capset and umask syscalls are trapped for that).
// Plumbing: not instrumented.
#pragma once

#include <linux/capability.h>
#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "ukcov/result.hpp"

namespace ukcov::sentry {

struct Credentials {
  uid_t fsuid = 0;
  gid_t fsgid = 0;
  std::vector<gid_t> groups;
  uint64_t capabilities = 0;  // effective set
  // The real ids and the permitted set: access(2) checks with these.
  uid_t ruid = 0;
  gid_t rgid = 0;
  uint64_t permitted = 0;

  // access_override_creds: the real ids as the filesystem ids, and the
  // permitted capabilities for a real root, none for anyone else.
  Credentials ForAccess() const {
    Credentials c = *this;
    c.fsuid = ruid;
    c.fsgid = rgid;
    c.capabilities = ruid == 0 ? permitted : 0;
    return c;
  }
  mode_t umask = 022;

  bool Capable(int cap) const { return (capabilities >> cap) & 1; }
  bool InGroup(gid_t gid) const;

  static Result<Credentials> Read(pid_t tid);
};

// This thread acts on the host's filesystem with a task's fsuid, fsgid
// and groups while the object lives (per-thread raw syscalls: glibc's
// wrappers would change every thread of the sentry). The kernel drops the
// filesystem capabilities with a non-zero fsuid, as it would for the task.
class AsGuest {
 public:
  explicit AsGuest(const Credentials& creds);
  ~AsGuest();
  AsGuest(const AsGuest&) = delete;
  AsGuest& operator=(const AsGuest&) = delete;

 private:
  uid_t uid_;
  gid_t gid_;
  std::vector<gid_t> groups_;
  bool groups_set_ = false;
};

}  // namespace ukcov::sentry
