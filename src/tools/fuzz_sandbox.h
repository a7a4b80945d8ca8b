// Where `ukcov fuzz` runs the sentry: pid, mount and network namespaces of
// its own, in which every host filesystem is read-only and /tmp, /dev/shm
// are fresh tmpfs mounts (and AF_UNIX's abstract names are not the host's). A fuzz program runs as root and names
// host paths ("/", "..", a symlink's target): the host must come out of a
// fuzzing run as it went in.
//
// The namespace's pid 1 is a small init that runs the sentry and reports
// how it ended: the sentry is not pid 1 itself, since pid 1 ignores the
// signals it sends itself (abort()'s SIGABRT would end as a SIGSEGV).
// Killing the init ends every task of the run, so a hang or a crash leaves
// nothing behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/unique_fd.h"
#include "ukcov/result.hpp"

namespace ukcov::tools {

// The tmpfs the fuzz programs run in (src/fuzz/runtime.h's FUZZ_MOUNT).
inline constexpr const char* kFuzzMount = "/tmp/ukcov-fuzz";

struct SandboxSpec {
  std::string sentry;               // the ukcov binary that serves the run
  std::vector<std::string> sentry_options;  // more options of `ukcov run`
  std::vector<std::string> guest;   // the guest's argv
  std::vector<std::pair<int, int>> fds;  // (fd here, its number in the guest)
  int stdout_fd = -1;               // -1: this process's
  int stderr_fd = -1;
  // Changes to this process's environment: "NAME=VALUE" sets, "NAME" unsets.
  std::vector<std::string> environment;
};

struct Sandbox {
  pid_t pid = -1;   // the init: killed, the whole run ends
  UniqueFd report;  // the init reports the sentry's wait status here
};

// The sanitizer options a sentry runs with under `ukcov fuzz`: the user's
// own (saved as UKCOV_FUZZ_SENTRY_<NAME> by `ukcov fuzz`, since afl-fuzz
// insists on symbolize=0 in its environment, or this process's when not
// under afl-fuzz), with abort_on_error=1 for ASan: a report is the sentry's
// death by SIGABRT. As SandboxSpec::environment changes.
std::vector<std::string> SentrySanitizerEnvironment();

// The same options as afl-fuzz accepts them (abort_on_error=1 and
// symbolize=0 where it checks), followed by the saved originals.
std::vector<std::string> AflSanitizerEnvironment();

// Starts `SENTRY run --tmpfs kFuzzMount [OPTIONS] -- GUEST...` in the
// sandbox; returns once the sentry is exec'ed. The sandbox dies with the
// calling thread (PR_SET_PDEATHSIG). On failure, `error` says which step
// failed.
Result<Sandbox> SpawnSandbox(const SandboxSpec& spec, std::string* error);

// Waits for the sandbox to end; the sentry's wait status (the init's, a
// SIGKILL, if the init was killed first).
int WaitSandbox(Sandbox& sandbox);

}  // namespace ukcov::tools
