#include "sentry/fd_table.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/kernel.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry {

FileRef LookupFd(Kernel& kernel, TaskState& task, int fd) {
  if (fd < 0) return {FileRef::Kind::kBad};
  // With no file of the sentry's open anywhere, every valid fd is the host's.
  if (!kernel.kcov().AnyOpen() && kernel.vfs().empty()) return {FileRef::Kind::kHost};
  // The guest's fd, borrowed: the same open file description, so its inode
  // says whose it is however the guest got the fd (dup, fork, SCM_RIGHTS).
  UniqueFd borrowed(static_cast<int>(syscall(SYS_pidfd_getfd, task.process->pidfd.get(), fd, 0)));
  if (!borrowed) return {errno == EBADF ? FileRef::Kind::kBad : FileRef::Kind::kHost};
  struct stat st;
  if (fstat(borrowed.get(), &st) != 0 || st.st_dev != kernel.memfd_dev()) return {FileRef::Kind::kHost};
  if (auto file = kernel.kcov().Find(st.st_dev, st.st_ino)) return {FileRef::Kind::kKcov, std::move(file)};
  FileRef ref{FileRef::Kind::kTmpfs};
  std::lock_guard lock(kernel.vfs().mu);
  ref.mount = kernel.vfs().FindByHostIno(st.st_ino, &ref.inode, &ref.path_only);
  if (ref.mount == nullptr) return {FileRef::Kind::kHost};
  ref.mount->fs->SyncSize(*ref.inode);
  ref.description = std::move(borrowed);
  return ref;
}

}  // namespace ukcov::sentry
