// fcntl(2) and flock(2) on tmpfs fds. Most of fcntl is the host's: the
// guest's fd is a real struct file on the inode's memfd, so its fd flags,
// status flags, duplication, and POSIX, OFD and flock locks (all on the
// inode, as Linux keeps them for tmpfs) work natively. What differs is
// what the memfd cannot say: an O_PATH description (a token) and a
// directory (its F_GETFL carries O_DIRECTORY).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include <cerrno>

#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"

namespace ukcov::sentry::syscalls {
namespace {

// What fcntl may do on an O_PATH description (fs/fcntl.c check_fcntl_cmd).
bool AllowedOnPath(unsigned cmd) {
  return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_GETFD || cmd == F_SETFD || cmd == F_GETFL;
}

}  // namespace

Answer Fcntl(Kernel& kernel, Syscall& sc) {
  const unsigned cmd = static_cast<unsigned>(sc.arg(1));
  if (cmd != F_GETFL && cmd != F_SETFL && !(cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW ||
                                            cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW ||
                                            cmd == F_SETLEASE || cmd == F_GETLEASE || cmd == F_NOTIFY ||
                                            cmd == F_SETOWN || cmd == F_GETOWN || cmd == F_SETSIG ||
                                            cmd == F_GETSIG || cmd == F_ADD_SEALS || cmd == F_GET_SEALS ||
                                            cmd == F_SETPIPE_SZ || cmd == F_GETPIPE_SZ))
    return Answer::Continue();  // fd flags and duplication: the host's
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (file.kind == FileRef::Kind::kBad) return Answer::Error(file.error);
  if (file.kind != FileRef::Kind::kTmpfs) return Answer::Continue();
  std::lock_guard lock(kernel.vfs().mu);
  if (file.path_only) {
    if (!AllowedOnPath(cmd)) return Answer::Error(EBADF);
    return Answer::Return(O_PATH);  // what Linux keeps in f_flags for one
  }
  if (cmd == F_GETFL && file.inode->is_dir()) {
    int fl = fcntl(file.description.get(), F_GETFL);
    return Answer::Return((fl & ~O_ACCMODE) | O_RDONLY | O_DIRECTORY);
  }
  // Seals are memfd's, not tmpfs's: a tmpfs file is not sealable.
  if (cmd == F_ADD_SEALS || cmd == F_GET_SEALS) return Answer::Error(EINVAL);
  return Answer::Continue();
}

Answer Flock(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (file.kind == FileRef::Kind::kBad) return Answer::Error(file.error);
  if (file.kind == FileRef::Kind::kTmpfs && file.path_only) return Answer::Error(EBADF);
  return Answer::Continue();  // locks on the memfd's inode: Linux's own
}

}  // namespace ukcov::sentry::syscalls
