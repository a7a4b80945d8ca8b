// `ukcov fuzz`: coverage-guided fuzzing of the sentry's own code with
// AFL++ (docs/fuzzing.md). It starts afl-fuzz (one main instance and
// JOBS-1 secondaries over one sync directory), whose target is
// `ukcov fuzz-target` (fuzz_target.h), shows progress, and at the end
// reports the blocks covered and every crash with its C reproducer.
// `--replay FILE` runs one input (or a C reproducer) in the fuzz sandbox
// and says whether the sentry fails on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ukcov::tools {

struct FuzzOptions {
  std::string self;      // this ukcov: the target's program
  std::string sentry;    // the ukcov that serves the programs (default: self)
  std::string executor;  // default: ukcov-fuzz-executor beside self
  std::string out = "fuzz-out";
  int jobs = 1;
  int seconds = 0;  // 0: until interrupted
  bool blind = false;  // AFL's -n: the same mutations, no coverage feedback
  std::optional<uint32_t> seed;
  int timeout_ms = 5000;
  std::string seeds;   // default: the executor's built-in seeds
  std::string replay;  // an input, or a .c reproducer
};

int Fuzz(const FuzzOptions& options);

}  // namespace ukcov::tools
