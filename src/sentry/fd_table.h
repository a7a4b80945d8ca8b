// What a guest fd refers to, as far as the sentry is concerned. Instrumented.
#pragma once

#include <cerrno>
#include <memory>

#include "base/unique_fd.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {

class Kernel;
class File;
class KcovFile;
struct TaskState;
struct Mount;

struct FileRef {
  enum class Kind { kBad, kHost, kKcov, kTmpfs };
  Kind kind = Kind::kHost;
  int error = EBADF;  // kBad: the guest's answer
  // Every kind but kBad: the file, whose operations answer the fd calls
  // (syscalls/ calls these and nothing else for them).
  std::shared_ptr<File> file;
  // For the path-taking handlers, until the filesystems own those too:
  std::shared_ptr<KcovFile> kcov;
  // kTmpfs: the inode, and the guest's open file description itself
  // (borrowed, owned by `file`: its offset and status flags are the
  // description's).
  Mount* mount = nullptr;
  tmpfs::InodeRef inode;
  int description = -1;
  bool path_only = false;  // an O_PATH description: no I/O, no attribute changes
};

// The file `fd` names in the calling thread's own fd table. kBad: not an
// open fd (EBADF, as Linux), or one the sentry could not look up (`error`:
// a lookup never fails open to the host). kHost: a file of the host
// kernel's, which the sentry lets the host serve. kKcov, kTmpfs: the
// sentry's.
FileRef LookupFd(Kernel& kernel, TaskState& task, int fd);

// The guest's open file description itself, borrowed from the thread's own
// table (pidfd_getfd). EBADF: no such fd. EOPNOTSUPP: this kernel cannot
// reach that table (no PIDFD_THREAD, and the thread's table is not its live
// leader's). Other errors are pidfd_getfd's (the thread is gone; ptrace
// access denied).
Result<UniqueFd> BorrowFd(TaskState& task, int fd);

}  // namespace ukcov::sentry
