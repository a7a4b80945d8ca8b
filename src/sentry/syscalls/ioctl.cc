// ioctl(2) (fs/ioctl.c): the VFS's own commands, then the file's.
#include <sys/ioctl.h>

#include <cerrno>

#include "sentry/fd_table.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry::syscalls {
namespace {

// Commands the VFS answers for any file before the driver sees them (fd and
// status flags); the host does the same for the struct file in the guest.
bool IsGenericFileIoctl(unsigned int cmd) {
  return cmd == FIOCLEX || cmd == FIONCLEX || cmd == FIONBIO || cmd == FIOASYNC;
}

}  // namespace

Answer Ioctl(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (!file.file) return Answer::Error(file.error);
  if (file.file->PathOnly()) return Answer::Error(EBADF);
  const auto cmd = static_cast<unsigned int>(sc.arg(1));
  if (IsGenericFileIoctl(cmd)) return Answer::Continue();
  return file.file->Ioctl(kernel, sc, cmd, sc.arg(2));
}

}  // namespace ukcov::sentry::syscalls
