#include "sentry/host_features.h"

#include <linux/filter.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"
#include "sentry/seccomp_compat.h"

namespace ukcov::sentry {
namespace {

// What loading a user-notification filter with `flags` gives, tried in a
// child (a filter cannot be unloaded): 0 or an errno.
int TryListener(unsigned long flags) {
  pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) {
    sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    sock_fprog prog{1, &allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(errno);
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER | flags, &prog);
    _exit(fd < 0 ? errno : 0);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

}  // namespace

Result<HostFeatures> HostFeatures::Probe(std::string* error) {
  HostFeatures features;
  const int killable = TryListener(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  if (killable == EINVAL) {
    if (TryListener(0) == EINVAL) {
      *error = "this kernel has no seccomp user notification (SECCOMP_FILTER_FLAG_NEW_LISTENER); Linux 5.19 or later is needed";
    } else {
      *error = "this kernel lacks SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19): a signal could make an emulated "
               "syscall run twice; Linux 5.19 or later is needed";
    }
    return Errno{ENOSYS};
  }
  // Other failures (another listener above us: EBUSY; seccomp forbidden)
  // are the launcher's to report, with its own explanation.
  UniqueFd thread(static_cast<int>(syscall(SYS_pidfd_open, gettid(), PIDFD_THREAD)));
  features.pidfd_thread = static_cast<bool>(thread);
  return features;
}

Result<void> HostFeatures::Disable(std::string_view name) {
  if (name == "pidfd-thread") {
    pidfd_thread = false;
  } else if (name == "sync-wake-up") {
    sync_wake_up = false;
  } else {
    return Errno{EINVAL};
  }
  return {};
}

}  // namespace ukcov::sentry
