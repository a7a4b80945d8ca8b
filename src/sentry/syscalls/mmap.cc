// mmap(2) of a file: the kcov area is validated as Linux's kcov_mmap does,
// then mapped by the host from the very memfd the engine writes.
#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>

#include "sentry/fd_table.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry::syscalls {

Answer Mmap(Kernel& kernel, Syscall& sc) {
  const uint64_t length = sc.arg(1), prot = sc.arg(2), flags = sc.arg(3), offset = sc.arg(5);
  if (offset & 4095) return Answer::Error(EINVAL);  // before the fd, as Linux
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(4));
  if (file.kind == FileRef::Kind::kBad) return Answer::Error(file.error);
  if (file.kind == FileRef::Kind::kHost) return Answer::Continue();
  if (file.kind == FileRef::Kind::kTmpfs) {
    if (file.path_only) return Answer::Error(EBADF);
    std::lock_guard lock(kernel.vfs().mu);
    if (!file.inode->is_reg()) return Answer::Error(ENODEV);
    // The host maps the guest's own struct file on the inode's memfd: its
    // access-mode checks are Linux's, and the pages are the file's.
    return Answer::Continue();
  }
  if (length == 0) return Answer::Error(EINVAL);
  int mode = file.kcov->access_mode;
  if (mode == O_WRONLY) return Answer::Error(EACCES);
  if ((flags & MAP_TYPE) != MAP_PRIVATE && (prot & PROT_WRITE) && mode == O_RDONLY) return Answer::Error(EACCES);
  if (int r = file.kcov->instance.MmapCheck(offset / 4096, length); r != 0) return Answer::Return(r);
  return Answer::Continue();
}

}  // namespace ukcov::sentry::syscalls
