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
    case SYS_stat:
    case SYS_lstat:
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
    case SYS_mkdir:
    case SYS_mkdirat:
      return Mkdir(*this, sc);
    case SYS_rmdir:
      return Rmdir(*this, sc);
    case SYS_chdir:
    case SYS_fchdir:
      return Chdir(*this, sc);
    case SYS_getcwd:
      return Getcwd(*this, sc);
    case SYS_mknod:
    case SYS_mknodat:
      return Mknod(*this, sc);
    case SYS_getdents:
    case SYS_getdents64:
      return Getdents(*this, sc);
    case SYS_unlink:
    case SYS_unlinkat:
      return Unlink(*this, sc);
    case SYS_rename:
    case SYS_renameat:
    case SYS_renameat2:
      return Rename(*this, sc);
    case SYS_link:
    case SYS_linkat:
      return Link(*this, sc);
    case SYS_symlink:
    case SYS_symlinkat:
      return Symlink(*this, sc);
    case SYS_readlink:
    case SYS_readlinkat:
      return Readlink(*this, sc);
    case SYS_access:
    case SYS_faccessat:
    case SYS_faccessat2:
      return Access(*this, sc);
    case SYS_chmod:
    case SYS_fchmod:
    case SYS_fchmodat:
    case syscalls::kSysFchmodat2:
      return Chmod(*this, sc);
    case SYS_truncate:
    case SYS_ftruncate:
      return Truncate(*this, sc);
    case SYS_chown:
    case SYS_fchown:
    case SYS_lchown:
    case SYS_fchownat:
      return Chown(*this, sc);
    case SYS_utimensat:
    case SYS_futimesat:
    case SYS_utimes:
    case SYS_utime:
      return Utimes(*this, sc);
    case SYS_statfs:
    case SYS_fstatfs:
      return Statfs(*this, sc);
    case SYS_fallocate:
      return Fallocate(*this, sc);
    case SYS_copy_file_range:
    case SYS_sendfile:
    case SYS_splice:
      return CopyRange(*this, sc);
    case SYS_fcntl:
      return Fcntl(*this, sc);
    case SYS_bind:
      return Bind(*this, sc);
    case SYS_connect:
      return Connect(*this, sc);
    case SYS_setxattr:
    case SYS_lsetxattr:
    case SYS_fsetxattr:
    case SYS_getxattr:
    case SYS_lgetxattr:
    case SYS_fgetxattr:
    case SYS_listxattr:
    case SYS_llistxattr:
    case SYS_flistxattr:
    case SYS_removexattr:
    case SYS_lremovexattr:
    case SYS_fremovexattr:
      return Xattr(*this, sc);
    case SYS_flock:
      return Flock(*this, sc);
    case SYS_setuid:
    case SYS_setgid:
    case SYS_setreuid:
    case SYS_setregid:
    case SYS_setresuid:
    case SYS_setresgid:
    case SYS_setfsuid:
    case SYS_setfsgid:
    case SYS_setgroups:
    case SYS_capset:
    case SYS_umask:
      return CredentialsChange(*this, sc);
    default:
      return Answer::Continue();
  }
}

}  // namespace ukcov::sentry
