// The seccomp user-notification listener: receive a trapped syscall, answer
// it. Plumbing: not instrumented.
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <vector>

#include "base/unique_fd.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {

class Listener {
 public:
  explicit Listener(UniqueFd fd);

  int fd() const { return fd_.get(); }

  // Blocks for the next notification. ENOENT: the guest went away before it
  // could be received (retry); other errors are the listener's end.
  Result<void> Receive(seccomp_notif* out);

  // The answers. A false return means the guest is gone (ENOENT), which is
  // never an error for the sentry.
  bool Continue(uint64_t id);
  bool Return(uint64_t id, int64_t value);
  bool Fail(uint64_t id, int error);
  // Installs `fd` in the guest (the lowest free number) and makes it the
  // syscall's return value, atomically. -errno on failure.
  int64_t InstallFdAndReturn(uint64_t id, int fd, bool cloexec);

  // Asks the kernel to switch straight to the supervisor on a notification
  // (6.6+); false where unsupported.
  bool EnableSyncWakeUp();

 private:
  bool Send(seccomp_notif_resp& resp);

  UniqueFd fd_;
};

}  // namespace ukcov::sentry
