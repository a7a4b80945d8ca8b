// What a guest fd refers to, as far as the sentry is concerned. Instrumented.
#pragma once

#include <memory>

#include "base/unique_fd.h"
#include "sentry/fs/tmpfs/tmpfs.h"

namespace ukcov::sentry {

class Kernel;
struct TaskState;
struct KcovFile;
struct Mount;

struct FileRef {
  enum class Kind { kBad, kHost, kKcov, kTmpfs };
  Kind kind = Kind::kHost;
  std::shared_ptr<KcovFile> kcov;
  // kTmpfs: the inode, and the guest's open file description itself
  // (borrowed: its offset and status flags are the description's).
  Mount* mount = nullptr;
  tmpfs::InodeRef inode;
  UniqueFd description;
  bool path_only = false;  // an O_PATH description: no I/O, no attribute changes
};

// kBad: not an open fd (EBADF, as Linux). kHost: a file of the host kernel's,
// which the sentry lets the host serve. kKcov, kTmpfs: the sentry's. For
// kTmpfs the caller holds the VFS lock.
FileRef LookupFd(Kernel& kernel, TaskState& task, int fd);

}  // namespace ukcov::sentry
