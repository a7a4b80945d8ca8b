// The syscall table: every syscall the sentry serves and its handler. The
// seccomp filter is built from it (filter.cc), so what is trapped and what
// is dispatched are one list. Every entry is trapped in every run (but exit,
// trapped only where the host kernel lacks PIDFD_THREAD): whether a call is
// the sentry's depends on its fd or path (the kcov device, a mount), never
// on an option.
#include <sys/syscall.h>

#include <array>

#include "sentry/syscalls/syscalls.h"

namespace ukcov::sentry {
namespace syscalls {
namespace {

constexpr SyscallEntry kTable[] = {
    {SYS_open, Open},
    {SYS_openat, Open},
    {SYS_openat2, Open},
    {SYS_creat, Open},
    {SYS_read, ReadWrite},
    {SYS_write, ReadWrite},
    {SYS_pread64, ReadWrite},
    {SYS_pwrite64, ReadWrite},
    {SYS_readv, ReadWrite},
    {SYS_writev, ReadWrite},
    {SYS_preadv, ReadWrite},
    {SYS_pwritev, ReadWrite},
    {SYS_preadv2, ReadWrite},
    {SYS_pwritev2, ReadWrite},
    {SYS_lseek, Lseek},
    {SYS_fsync, Fsync},
    {SYS_fdatasync, Fsync},
    {SYS_fadvise64, FileHint},
    {SYS_readahead, FileHint},
    {SYS_sync_file_range, FileHint},
    {SYS_syncfs, FileHint},
    {SYS_ioctl, Ioctl},
    {SYS_mmap, Mmap, Trap::kFileMappings},
    {SYS_fstat, Stat},
    {SYS_stat, Stat},
    {SYS_lstat, Stat},
    {SYS_newfstatat, Stat},
    {SYS_statx, Stat},
    {SYS_clone, Clone},
    {SYS_clone3, Clone},
    {SYS_fork, Clone},
    {SYS_vfork, Clone},
    {SYS_execve, Execve},
    {SYS_execveat, Execve},
    {SYS_mkdir, Mkdir},
    {SYS_mkdirat, Mkdir},
    {SYS_rmdir, Rmdir},
    {SYS_chdir, Chdir},
    {SYS_fchdir, Chdir},
    {SYS_getcwd, Getcwd},
    {SYS_mknod, Mknod},
    {SYS_mknodat, Mknod},
    {SYS_getdents, Getdents},
    {SYS_getdents64, Getdents},
    {SYS_unlink, Unlink},
    {SYS_unlinkat, Unlink},
    {SYS_rename, Rename},
    {SYS_renameat, Rename},
    {SYS_renameat2, Rename},
    {SYS_link, Link},
    {SYS_linkat, Link},
    {SYS_symlink, Symlink},
    {SYS_symlinkat, Symlink},
    {SYS_readlink, Readlink},
    {SYS_readlinkat, Readlink},
    {SYS_access, Access},
    {SYS_faccessat, Access},
    {SYS_faccessat2, Access},
    {SYS_chmod, Chmod},
    {SYS_fchmod, Chmod},
    {SYS_fchmodat, Chmod},
    {syscalls::kSysFchmodat2, Chmod},
    {SYS_truncate, Truncate},
    {SYS_ftruncate, Truncate},
    {SYS_chown, Chown},
    {SYS_fchown, Chown},
    {SYS_lchown, Chown},
    {SYS_fchownat, Chown},
    {SYS_utimensat, Utimes},
    {SYS_futimesat, Utimes},
    {SYS_utimes, Utimes},
    {SYS_utime, Utimes},
    {SYS_statfs, Statfs},
    {SYS_fstatfs, Statfs},
    {SYS_fallocate, Fallocate},
    {SYS_copy_file_range, CopyRange},
    {SYS_sendfile, CopyRange},
    {SYS_splice, CopyRange},
    {SYS_fcntl, Fcntl, Trap::kArg1In, kFcntlFileCommands},
    {SYS_bind, Bind},
    {SYS_connect, Connect},
    {SYS_setxattr, Xattr},
    {SYS_lsetxattr, Xattr},
    {SYS_fsetxattr, Xattr},
    {SYS_getxattr, Xattr},
    {SYS_lgetxattr, Xattr},
    {SYS_fgetxattr, Xattr},
    {SYS_listxattr, Xattr},
    {SYS_llistxattr, Xattr},
    {SYS_flistxattr, Xattr},
    {SYS_removexattr, Xattr},
    {SYS_lremovexattr, Xattr},
    {SYS_fremovexattr, Xattr},
    {SYS_flock, Flock},
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
