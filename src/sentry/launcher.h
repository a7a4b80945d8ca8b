// Starting the guest: fork, install the filter, hand the listener to the
// supervisor, execve. Plumbing: not instrumented.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "sentry/filter.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {

struct Launch {
  pid_t pid = -1;
  UniqueFd listener;
  UniqueFd exec_status;  // read end: 4 bytes of errno if execve failed, EOF once it succeeded
  dev_t served_dev = 0;   // the served debugfs's device, as the guest sees it (or 0)
  std::vector<dev_t> served_mount_devs;  // each served mount's, in Spawn's order
};

// A mount of the sentry's served over FUSE (interception mode "served"):
// the guest mounts `fuse_device` at `point` in its namespace.
struct ServedMount {
  std::string point;
  int fuse_device = -1;
};

// Finds `program` as execvp would. ENOENT (not found) or EACCES (found, not
// executable), with the path it settled on.
Result<std::string> ResolveProgram(const std::string& program);

// Forks the guest under `filter`. On failure `error` says what went wrong
// in one line.
// The guest starts with `fd_limit` as its RLIMIT_NOFILE. With CAP_SYS_ADMIN,
// it gets a mount namespace of its own in which each of `hidden` (the
// sentry's mount points) is covered by an empty read-only tmpfs: a call the
// sentry lets the host run (and that a racing guest thread redirected
// between the sentry's read of its path and the host's) never reaches the
// host directory under a mount.
// With `fuse_device` (/dev/fuse, interception mode "served"), it mounts the
// served debugfs on it at /sys/kernel/debug in that namespace (failing
// the launch if it cannot); and each of `served_mounts` (not in `hidden`)
// at its point.
Result<Launch> Spawn(const std::string& path, const std::vector<std::string>& argv, const Filter& filter,
                     const rlimit& fd_limit, const std::vector<std::string>& hidden, int fuse_device,
                     const std::vector<ServedMount>& served_mounts, std::string* error);

}  // namespace ukcov::sentry
