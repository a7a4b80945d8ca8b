// fcntl(2) and flock(2) (fs/fcntl.c, fs/locks.c): fd flags and duplication
// are the host's alone (the guest's fd is a real host fd); what concerns
// the open file is asked of it.
#include <fcntl.h>

#include <cerrno>

#include "sentry/fd_table.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry::syscalls {
namespace {

// What fcntl may do on an O_PATH description (fs/fcntl.c check_fcntl_cmd).
bool AllowedOnPath(unsigned cmd) {
  return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_GETFD || cmd == F_SETFD || cmd == F_GETFL;
}

}  // namespace

// Trapped for kFcntlFileCommands only (the filter looks at the command).
Answer Fcntl(Kernel& kernel, Syscall& sc) {
  const unsigned cmd = static_cast<unsigned>(sc.arg(1));
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));  // fdget_raw: O_PATH ones too
  if (!file.file) return Answer::Error(file.error);
  if (file.file->PathOnly() && !AllowedOnPath(cmd)) return Answer::Error(EBADF);
  return file.file->Fcntl(kernel, sc, cmd, sc.arg(2));
}

Answer Flock(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (!file.file) return Answer::Error(file.error);
  if (file.file->PathOnly()) return Answer::Error(EBADF);
  return file.file->Flock(kernel, sc);
}

}  // namespace ukcov::sentry::syscalls
