// Where `ukcov fuzz` runs the sentry: pid 1 of a pid namespace and a mount
// namespace of its own, in which every host filesystem is read-only and
// /tmp, /dev/shm are fresh tmpfs mounts. A fuzz program runs as root and
// names host paths ("/", "..", a symlink's target): the host must come out
// of a fuzzing run as it went in. Killing the sentry (pid 1) ends every
// task of the run, so a hang or a crash leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "ukcov/result.hpp"

namespace ukcov::tools {

// The tmpfs the fuzz programs run in (src/fuzz/runtime.h's FUZZ_MOUNT).
inline constexpr const char* kFuzzMount = "/tmp/ukcov-fuzz";

struct SandboxSpec {
  std::string sentry;               // the ukcov binary that serves the run
  std::vector<std::string> guest;   // the guest's argv
  std::vector<std::pair<int, int>> fds;  // (fd here, its number in the guest)
  int stdout_fd = -1;               // -1: this process's
  int stderr_fd = -1;
  std::vector<std::string> environment;  // added to this process's: "NAME=VALUE"
};

// Starts `SENTRY run --tmpfs kFuzzMount -- GUEST...` in the sandbox. The
// child dies with the calling thread (PR_SET_PDEATHSIG). On failure,
// `error` says which step failed.
Result<pid_t> SpawnSandbox(const SandboxSpec& spec, std::string* error);

}  // namespace ukcov::tools
