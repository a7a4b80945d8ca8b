// fallocate(2) (fs/open.c vfs_fallocate): the VFS's checks of mode, offset
// and length, then the file's.
#include <linux/falloc.h>

#include <cerrno>

#include "sentry/fd_table.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry::syscalls {

Answer Fallocate(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (!file.file) return Answer::Error(file.error);
  const int mode = static_cast<int>(sc.arg(1));
  const int64_t offset = static_cast<int64_t>(sc.arg(2)), length = static_cast<int64_t>(sc.arg(3));
  if (!file.file->Passthrough()) {  // the host checks its own files (and may know newer modes)
    // vfs_fallocate (6.12 on): the fd (an O_PATH one is no fd for it), the
    // range, then the mode: one operation, KEEP_SIZE where it may go.
    if (file.file->PathOnly()) return Answer::Error(EBADF);
    if (offset < 0 || length <= 0) return Answer::Error(EINVAL);
    constexpr int kWriteZeroes = 0x80;  // FALLOC_FL_WRITE_ZEROES (6.17)
    constexpr int kModeMask = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE |
                              FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE | kWriteZeroes;
    if (mode & ~(kModeMask | FALLOC_FL_KEEP_SIZE)) return Answer::Error(EOPNOTSUPP);
    switch (mode & kModeMask) {
      case 0:
      case FALLOC_FL_UNSHARE_RANGE:
      case FALLOC_FL_ZERO_RANGE:
        break;
      case FALLOC_FL_PUNCH_HOLE:
        if (!(mode & FALLOC_FL_KEEP_SIZE)) return Answer::Error(EOPNOTSUPP);
        break;
      case FALLOC_FL_COLLAPSE_RANGE:
      case FALLOC_FL_INSERT_RANGE:
      case kWriteZeroes:
        if (mode & FALLOC_FL_KEEP_SIZE) return Answer::Error(EOPNOTSUPP);
        break;
      default:
        return Answer::Error(EOPNOTSUPP);
    }
  }
  return file.file->Fallocate(kernel, sc, mode, offset, length);
}

}  // namespace ukcov::sentry::syscalls
