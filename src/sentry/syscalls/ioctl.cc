// ioctl(2): the kcov commands go to the engine.
#include <sys/ioctl.h>

#include <cerrno>

#include "sentry/fd_table.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry::syscalls {
namespace {

// Commands the VFS answers for any file before the driver sees them; the
// host does the same for the memfd behind the guest's fd.
bool IsGenericFileIoctl(unsigned int cmd) {
  return cmd == FIOCLEX || cmd == FIONCLEX || cmd == FIONBIO || cmd == FIOASYNC;
}

}  // namespace

Answer Ioctl(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (file.kind == FileRef::Kind::kBad) return Answer::Error(file.error);
  if (file.kind == FileRef::Kind::kHost) return Answer::Continue();
  const auto cmd = static_cast<unsigned int>(sc.arg(1));
  if (file.kind == FileRef::Kind::kTmpfs) {
    // An O_PATH description has no ioctls at all. A regular file's are
    // shmem's, which the host answers on the guest's own struct file on the
    // inode's memfd (same size, same offset). A directory's token is no
    // directory: only the VFS's generic commands go to the host.
    if (file.path_only) return Answer::Error(EBADF);
    std::lock_guard lock(kernel.vfs().mu);
    if (file.inode->is_reg() || IsGenericFileIoctl(cmd)) return Answer::Continue();
    return Answer::Error(ENOTTY);
  }
  if (IsGenericFileIoctl(cmd)) return Answer::Continue();
  ukcov_user_memory memory = sc.memory.ForEngine();
  long r = file.kcov->instance.Ioctl(*sc.task.task, cmd, sc.arg(2), &memory);
  // The return path runs after the engine, traced as Linux traces ioctl's
  // (a client sees a non-zero count right after KCOV_RESET_TRACE).
  if (r < 0) return Answer::Error(static_cast<int>(-r));
  return Answer::Return(r);
}

}  // namespace ukcov::sentry::syscalls
