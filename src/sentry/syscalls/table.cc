// The syscall table: number to handler.
#include <sys/syscall.h>

#include "sentry/syscalls/syscalls.h"

namespace ukcov::sentry {

Answer Kernel::Dispatch(Syscall& sc) {
  using namespace syscalls;
  switch (sc.nr()) {
    case SYS_open:
    case SYS_openat:
    case SYS_openat2:
    case SYS_creat:
      return Open(*this, sc);
    case SYS_read:
    case SYS_write:
    case SYS_pread64:
    case SYS_pwrite64:
    case SYS_readv:
    case SYS_writev:
    case SYS_preadv:
    case SYS_pwritev:
    case SYS_preadv2:
    case SYS_pwritev2:
      return ReadWrite(*this, sc);
    case SYS_lseek:
      return Lseek(*this, sc);
    case SYS_fsync:
    case SYS_fdatasync:
      return Fsync(*this, sc);
    case SYS_ioctl:
      return Ioctl(*this, sc);
    case SYS_mmap:
      return Mmap(*this, sc);
    case SYS_fstat:
    case SYS_newfstatat:
    case SYS_statx:
      return Stat(*this, sc);
    case SYS_clone:
    case SYS_clone3:
    case SYS_fork:
    case SYS_vfork:
      return Clone(*this, sc);
    case SYS_execve:
    case SYS_execveat:
      return Execve(*this, sc);
    default:
      return Answer::Continue();
  }
}

}  // namespace ukcov::sentry
