// The guest's seccomp filter: which syscalls reach the sentry. Plumbing:
// not instrumented.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "sentry/host_features.h"
#include "sentry/interception.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {

// A compiled BPF program, built in the supervisor before fork so that the
// child only has to load it.
class Filter {
 public:
  // Traps the syscall table's calls (syscalls/table.cc), those `mode`
  // intercepts. EINVAL (with `error` set) if libseccomp cannot build it.
  static Result<Filter> Build(const HostFeatures& features, Interception mode, std::string* error);
  // In the child: no_new_privs, then load with a listener. Returns the
  // listener fd (close-on-exec). Async-signal-safe: no allocation.
  int LoadWithListener() const;

 private:
  std::vector<sock_filter> program_;
};

}  // namespace ukcov::sentry
