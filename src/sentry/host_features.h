// What the host kernel offers the sentry, probed once at start. Plumbing:
// not instrumented.
//
// Required (`ukcov run` refuses to start without, naming it, exit 125):
//   seccomp user notification with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
//   (Linux 5.19). Without it a signal that arrives while the sentry serves a
//   call interrupts the guest's wait; the call is restarted and served a
//   second time, and an emulated call is not idempotent (a second
//   KCOV_ENABLE answers EBUSY). Everything else the sentry needs is older:
//   CONTINUE (5.5), pidfd_getfd (5.6), ADDFD (5.9), ADDFD_FLAG_SEND (5.14).
// Used where present, with a fallback (docs/sentry.md, "The kernels people
// run"):
//   pidfd_thread  (6.9) a pidfd per thread: each thread's exit is seen on
//                 its own, and its fds are looked up in its own table.
//                 Without: thread exits are trapped (SYS_exit), a process's
//                 end is seen on its pidfd, and a non-leader thread's fds
//                 are looked up through the leader's table after kcmp says
//                 it is the same one (else through /proc/TID/fd).
//   sync_wake_up  (6.6) the guest hands its CPU straight to the worker.
//                 Without: an ordinary wake-up (slower, same answers).
#pragma once

#include <string>
#include <string_view>

#include "ukcov/result.hpp"

namespace ukcov::sentry {

struct HostFeatures {
  bool pidfd_thread = false;
  bool sync_wake_up = true;  // known only once the listener exists: tried there

  // Probes this host. *error names a missing requirement (then the result
  // is an error: the sentry cannot serve kcov correctly here).
  static Result<HostFeatures> Probe(std::string* error);

  // `ukcov run --without NAME`: behave as on a kernel without NAME
  // (pidfd-thread, sync-wake-up), to test the fallbacks on a new kernel.
  // EINVAL for an unknown name.
  Result<void> Disable(std::string_view name);
  static constexpr const char* kNames = "pidfd-thread, sync-wake-up";
};

}  // namespace ukcov::sentry
