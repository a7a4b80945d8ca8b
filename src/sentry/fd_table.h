// What a guest fd refers to, as far as the sentry is concerned. Instrumented.
#pragma once

#include <cerrno>
#include <memory>

#include "base/unique_fd.h"
#include "sentry/vfs/inode.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {

class Kernel;
class File;
struct TaskState;
struct Mount;

struct FileRef {
  // The file, whose operations answer the fd calls (syscalls/ calls these
  // and nothing else for them). Null: not an open fd, or one the sentry
  // could not look up; `error` is the guest's answer then.
  std::shared_ptr<File> file;
  int error = EBADF;
  // A file of the sentry's tree: its inode and mount (the calls on an fd's
  // inode reach these), and the guest's open file description itself
  // (borrowed: its offset and status flags are the description's).
  Mount* mount = nullptr;
  InodeRef inode;
  int description = -1;
  UniqueFd held;  // the borrowed description, when `file` does not keep it
  bool path_only = false;  // an O_PATH description: no I/O, no attribute changes
  // A host file on the superblock of the sentry's memfds (a memfd of the
  // guest's own): "the same filesystem" to the host, not to the guest.
  bool host_memfd = false;
};

// The file `fd` names in the calling thread's own fd table: the host's
// (HostFile: the host serves it), or the sentry's. No file: not an open fd
// (EBADF, as Linux), or one the sentry could not look up (`error`: a lookup
// never fails open to the host).
// A file of a served mount (interception mode "served") is the host's to
// answer but for what needs its inode: it is looked up as such only with
// `served_inode` (fstatfs); otherwise it may come back as the host's.
FileRef LookupFd(Kernel& kernel, TaskState& task, int fd, bool served_inode = false);

// The guest's open file description itself, borrowed from the thread's own
// table (pidfd_getfd). EBADF: no such fd. EOPNOTSUPP: this kernel cannot
// reach that table (no PIDFD_THREAD, and the thread's table is not its live
// leader's). Other errors are pidfd_getfd's (the thread is gone; ptrace
// access denied).
Result<UniqueFd> BorrowFd(TaskState& task, int fd);

}  // namespace ukcov::sentry
