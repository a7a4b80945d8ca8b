// The syscall table: every syscall the sentry serves and its handler. The
// seccomp filter is built from it (filter.cc), so what is trapped and what
// is dispatched are one list. In the interception mode "all" every entry is
// trapped (but exit, trapped only where the host kernel lacks PIDFD_THREAD):
// whether a call is the sentry's depends on its fd or path (the kcov device,
// a mount). In the mode "served" (no mount; the kcov device a FUSE file)
// each entry's `served` rule says which of its calls still are.
#include <sys/syscall.h>

#include <array>

#include "sentry/syscalls/syscalls.h"

namespace ukcov::sentry {
namespace syscalls {
namespace {

constexpr SyscallEntry kTable[] = {
    {SYS_open, Open, Trap::kAll, {}, Served::kNever},
    {SYS_openat, Open, Trap::kAll, {}, Served::kNever},
    {SYS_openat2, Open, Trap::kAll, {}, Served::kNever},
    {SYS_creat, Open, Trap::kAll, {}, Served::kNever},
    {SYS_read, ReadWrite, Trap::kAll, {}, Served::kBadFdOrEmpty},
    {SYS_write, ReadWrite, Trap::kAll, {}, Served::kBadFdOrEmpty},
    {SYS_pread64, ReadWrite, Trap::kAll, {}, Served::kBadFdOrEmpty},
    {SYS_pwrite64, ReadWrite, Trap::kAll, {}, Served::kBadFdOrEmpty},
    {SYS_readv, ReadWrite, Trap::kAll, {}, Served::kBadFdOrNoIov},
    {SYS_writev, ReadWrite, Trap::kAll, {}, Served::kBadFdOrNoIov},
    {SYS_preadv, ReadWrite, Trap::kAll, {}, Served::kBadFdOrNoIov},
    {SYS_pwritev, ReadWrite, Trap::kAll, {}, Served::kBadFdOrNoIov},
    {SYS_preadv2, ReadWrite, Trap::kAll, {}, Served::kBadFdOrNoIov},
    {SYS_pwritev2, ReadWrite, Trap::kAll, {}, Served::kBadFdOrNoIov},
    {SYS_lseek, Lseek, Trap::kAll, {}, Served::kBadFd},
    {SYS_fsync, Fsync, Trap::kAll, {}, Served::kBadFd},
    {SYS_fdatasync, Fsync, Trap::kAll, {}, Served::kBadFd},
    {SYS_fadvise64, FileHint, Trap::kAll, {}, Served::kBadFd},
    {SYS_readahead, FileHint, Trap::kAll, {}, Served::kBadFd},
    {SYS_sync_file_range, FileHint, Trap::kAll, {}, Served::kBadFd},
    {SYS_syncfs, FileHint, Trap::kAll, {}, Served::kBadFd},
    {SYS_ioctl, Ioctl, Trap::kAll, {}, Served::kBadFdOrArg1In, kIoctlsNotForFuse},
    {SYS_mmap, Mmap, Trap::kFileMappings},
    {SYS_fstat, Stat, Trap::kAll, {}, Served::kBadFd},
    {SYS_stat, Stat, Trap::kAll, {}, Served::kNever},
    {SYS_lstat, Stat, Trap::kAll, {}, Served::kNever},
    {SYS_newfstatat, Stat, Trap::kAll, {}, Served::kNever},
    {SYS_statx, Stat, Trap::kAll, {}, Served::kNever},
    {SYS_clone, Clone},
    {SYS_clone3, Clone},
    {SYS_fork, Clone},
    {SYS_vfork, Clone},
    {SYS_execve, Execve},
    {SYS_execveat, Execve},
    {SYS_mkdir, Mkdir, Trap::kAll, {}, Served::kNever},
    {SYS_mkdirat, Mkdir, Trap::kAll, {}, Served::kNever},
    {SYS_rmdir, Rmdir, Trap::kAll, {}, Served::kNever},
    {SYS_chdir, Chdir, Trap::kAll, {}, Served::kNever},
    {SYS_fchdir, Chdir, Trap::kAll, {}, Served::kBadFd},
    {SYS_getcwd, Getcwd, Trap::kAll, {}, Served::kNever},
    {SYS_mknod, Mknod, Trap::kAll, {}, Served::kNever},
    {SYS_mknodat, Mknod, Trap::kAll, {}, Served::kNever},
    {SYS_getdents, Getdents, Trap::kAll, {}, Served::kBadFd},
    {SYS_getdents64, Getdents, Trap::kAll, {}, Served::kBadFd},
    {SYS_unlink, Unlink, Trap::kAll, {}, Served::kNever},
    {SYS_unlinkat, Unlink, Trap::kAll, {}, Served::kNever},
    {SYS_rename, Rename, Trap::kAll, {}, Served::kNever},
    {SYS_renameat, Rename, Trap::kAll, {}, Served::kNever},
    {SYS_renameat2, Rename, Trap::kAll, {}, Served::kNever},
    {SYS_link, Link, Trap::kAll, {}, Served::kNever},
    {SYS_linkat, Link, Trap::kAll, {}, Served::kNever},
    {SYS_symlink, Symlink, Trap::kAll, {}, Served::kNever},
    {SYS_symlinkat, Symlink, Trap::kAll, {}, Served::kNever},
    {SYS_readlink, Readlink, Trap::kAll, {}, Served::kNever},
    {SYS_readlinkat, Readlink, Trap::kAll, {}, Served::kNever},
    {SYS_access, Access, Trap::kAll, {}, Served::kNever},
    {SYS_faccessat, Access, Trap::kAll, {}, Served::kNever},
    {SYS_faccessat2, Access, Trap::kAll, {}, Served::kNever},
    {SYS_chmod, Chmod, Trap::kAll, {}, Served::kNever},
    {SYS_fchmod, Chmod, Trap::kAll, {}, Served::kBadFd},
    {SYS_fchmodat, Chmod, Trap::kAll, {}, Served::kNever},
    {syscalls::kSysFchmodat2, Chmod, Trap::kAll, {}, Served::kNever},
    {SYS_truncate, Truncate, Trap::kAll, {}, Served::kNever},
    {SYS_ftruncate, Truncate, Trap::kAll, {}, Served::kBadFd},
    {SYS_chown, Chown, Trap::kAll, {}, Served::kNever},
    {SYS_fchown, Chown, Trap::kAll, {}, Served::kBadFd},
    {SYS_lchown, Chown, Trap::kAll, {}, Served::kNever},
    {SYS_fchownat, Chown, Trap::kAll, {}, Served::kNever},
    {SYS_utimensat, Utimes, Trap::kAll, {}, Served::kNever},
    {SYS_futimesat, Utimes, Trap::kAll, {}, Served::kNever},
    {SYS_utimes, Utimes, Trap::kAll, {}, Served::kNever},
    {SYS_utime, Utimes, Trap::kAll, {}, Served::kNever},
    {SYS_statfs, Statfs},
    {SYS_fstatfs, Statfs},
    {SYS_fallocate, Fallocate, Trap::kAll, {}, Served::kBadFd},
    {SYS_copy_file_range, CopyRange},
    {SYS_sendfile, CopyRange},
    {SYS_splice, CopyRange},
    {SYS_fcntl, Fcntl, Trap::kArg1In, kFcntlFileCommands, Served::kBadFd},
    {SYS_bind, Bind, Trap::kAll, {}, Served::kNever},
    {SYS_connect, Connect, Trap::kAll, {}, Served::kNever},
    {SYS_setxattr, Xattr, Trap::kAll, {}, Served::kNever},
    {SYS_lsetxattr, Xattr, Trap::kAll, {}, Served::kNever},
    {SYS_fsetxattr, Xattr, Trap::kAll, {}, Served::kBadFd},
    {SYS_getxattr, Xattr, Trap::kAll, {}, Served::kNever},
    {SYS_lgetxattr, Xattr, Trap::kAll, {}, Served::kNever},
    {SYS_fgetxattr, Xattr, Trap::kAll, {}, Served::kBadFd},
    {SYS_listxattr, Xattr, Trap::kAll, {}, Served::kNever},
    {SYS_llistxattr, Xattr, Trap::kAll, {}, Served::kNever},
    {SYS_flistxattr, Xattr, Trap::kAll, {}, Served::kBadFd},
    {SYS_removexattr, Xattr, Trap::kAll, {}, Served::kNever},
    {SYS_lremovexattr, Xattr, Trap::kAll, {}, Served::kNever},
    {SYS_fremovexattr, Xattr, Trap::kAll, {}, Served::kBadFd},
    {SYS_flock, Flock, Trap::kAll, {}, Served::kBadFd},
    {SYS_setuid, CredentialsChange},
    {SYS_setgid, CredentialsChange},
    {SYS_setreuid, CredentialsChange},
    {SYS_setregid, CredentialsChange},
    {SYS_setresuid, CredentialsChange},
    {SYS_setresgid, CredentialsChange},
    {SYS_setfsuid, CredentialsChange},
    {SYS_setfsgid, CredentialsChange},
    {SYS_setgroups, CredentialsChange},
    {SYS_capset, CredentialsChange},
    {SYS_umask, CredentialsChange},
    {SYS_exit, ExitThread, Trap::kWithoutThreadPidfd},
};

// Number to handler, for the dispatch (numbers are dense below 512).
constexpr int kMaxNr = 512;
constexpr std::array<Handler, kMaxNr> MakeIndex() {
  std::array<Handler, kMaxNr> index{};
  for (const SyscallEntry& e : kTable) index[e.nr] = e.handler;
  return index;
}
constexpr std::array<Handler, kMaxNr> kIndex = MakeIndex();

}  // namespace

std::span<const SyscallEntry> Table() { return kTable; }

}  // namespace syscalls

Answer Kernel::Dispatch(Syscall& sc) {
  const int nr = sc.nr();
  syscalls::Handler handler = nr >= 0 && nr < syscalls::kMaxNr ? syscalls::kIndex[nr] : nullptr;
  // Not in the table: the filter never traps it, so only a bug gets here.
  return handler != nullptr ? handler(*this, sc) : Answer::Continue();
}

}  // namespace ukcov::sentry
