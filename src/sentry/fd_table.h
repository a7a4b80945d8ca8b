// What a guest fd refers to, as far as the sentry is concerned. Instrumented.
#pragma once

#include <memory>

namespace ukcov::sentry {

class Kernel;
struct TaskState;
struct KcovFile;

struct FileRef {
  enum class Kind { kBad, kHost, kKcov };
  Kind kind = Kind::kHost;
  std::shared_ptr<KcovFile> kcov;
};

// kBad: not an open fd (EBADF, as Linux). kHost: a file of the host kernel's,
// which the sentry lets the host serve. kKcov: one of the sentry's.
FileRef LookupFd(Kernel& kernel, TaskState& task, int fd);

}  // namespace ukcov::sentry
