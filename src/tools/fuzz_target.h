// `ukcov fuzz-target`: what AFL++ runs. It speaks AFL's fork-server
// protocol to afl-fuzz (fds 198 and 199) and keeps one sentry running in
// the fuzz sandbox (fuzz_sandbox.h) with the fuzz executor as its guest
// (src/fuzz/protocol.h). Per input: the executor runs the program in a
// fresh child with kcov on; the PCs it recorded become AFL's edge map.
//
// What AFL sees as the input's outcome:
//   - the program ran (whatever its calls returned, however the child
//     ended): a normal exit;
//   - the sentry died (an abort, a sanitizer report, an assertion, any exit
//     while serving): a crash, by the sentry's signal (SIGABRT for an exit);
//     the input, the sentry's stderr and a C reproducer are kept in
//     WORKDIR/crashes/<hash>/, and the next input gets a fresh sentry;
//   - no answer: AFL's timeout kills the pid it was given, the sentry's
//     (pid 1 of the sandbox), which ends the run: a hang, by AFL's rules.
//
// WORKDIR/coverage.pcs holds every PC seen so far (for `ukcov cover`), and
// WORKDIR/stats the target's counts (for `ukcov fuzz`'s progress line).
#pragma once

#include <string>
#include <vector>

namespace ukcov::tools {

struct FuzzTargetOptions {
  std::string sentry;    // the ukcov that serves the programs
  std::string executor;  // ukcov-fuzz-executor
  std::string workdir;
  std::string input;     // AFL's @@: the file holding the current input
  // Alone (not under AFL): more inputs, and how often to run each. Each
  // input's runs must give one PC set (the signal is stable); the PCs that
  // differ are printed.
  std::vector<std::string> more_inputs;
  int repeat = 1;
  // Each run's pids start elsewhere in the pid space: 3 to 7 digits, some
  // runs wrapping around pid_max (the sandbox is a pid namespace).
  bool spread_pids = false;
};

int RunFuzzTarget(const FuzzTargetOptions& options);

}  // namespace ukcov::tools
