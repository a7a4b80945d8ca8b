#include "sentry/filter.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "sentry/seccomp_compat.h"

namespace ukcov::sentry {

// With a tmpfs mounted: every call that takes a path or may take one of
// the mount's fds (and the credential changes that its checks depend on).
const std::vector<int>& VfsSyscalls() {
  static const std::vector<int> list = {
      SYS_stat, SYS_lstat, SYS_chdir, SYS_fchdir, SYS_getcwd, SYS_mknod, SYS_mknodat, SYS_mkdir, SYS_mkdirat, SYS_rmdir, SYS_getdents, SYS_getdents64, SYS_unlink,
      SYS_unlinkat, SYS_rename, SYS_renameat, SYS_renameat2, SYS_link, SYS_linkat, SYS_symlink, SYS_symlinkat,
      SYS_readlink, SYS_readlinkat, SYS_access, SYS_faccessat, SYS_faccessat2, SYS_chmod, SYS_fchmod,
      SYS_fchmodat, 452 /* fchmodat2 */, SYS_truncate, SYS_ftruncate, SYS_chown, SYS_fchown, SYS_lchown, SYS_fchownat,
      SYS_utimensat, SYS_futimesat, SYS_utimes, SYS_utime, SYS_statfs, SYS_fstatfs, SYS_fallocate, SYS_fcntl,
      SYS_flock, SYS_bind, SYS_connect, SYS_copy_file_range, SYS_sendfile, SYS_splice, SYS_setxattr, SYS_lsetxattr, SYS_fsetxattr, SYS_getxattr, SYS_lgetxattr, SYS_fgetxattr,
      SYS_listxattr, SYS_llistxattr, SYS_flistxattr, SYS_removexattr, SYS_lremovexattr, SYS_fremovexattr, SYS_setuid, SYS_setgid, SYS_setreuid, SYS_setregid,
      SYS_setresuid, SYS_setresgid, SYS_setfsuid, SYS_setfsgid, SYS_setgroups, SYS_capset, SYS_umask,
  };
  return list;
}

const std::vector<int>& TrappedSyscalls() {
  static const std::vector<int> list = {
      // Paths: routed to the sentry's own mounts (/sys/kernel/debug/kcov).
      SYS_open, SYS_openat, SYS_openat2, SYS_creat,
      // Calls on fds that may be the sentry's files, where Linux's answer for
      // them differs from what the host kernel would give for a memfd.
      SYS_read, SYS_write, SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev, SYS_preadv, SYS_pwritev,
      SYS_preadv2, SYS_pwritev2, SYS_lseek, SYS_fstat, SYS_newfstatat, SYS_statx, SYS_ioctl, SYS_fsync,
      SYS_fdatasync,
      // Task creation: who created a new task (its common remote handle).
      SYS_clone, SYS_clone3, SYS_fork, SYS_vfork,
      // A thread other than the leader that execs takes the leader's tid.
      SYS_execve, SYS_execveat,
  };
  return list;
}

Result<Filter> Filter::Build(bool with_vfs, std::string* error) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return *error = "seccomp_init failed", Errno{EINVAL};
  struct Release {
    scmp_filter_ctx c;
    ~Release() { seccomp_release(c); }
  } release{ctx};
  // Only x86-64 syscalls are interpreted; a 32-bit entry (int 0x80) or x32
  // call could otherwise bypass the sentry.
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(ENOSYS));
  if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);  // binary tree of syscall numbers
  for (int nr : TrappedSyscalls()) {
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
  }
  if (with_vfs)
    for (int nr : VfsSyscalls())
      if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
  // File mappings only: anonymous mmap (every malloc) never leaves the guest.
  if (rc == 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mmap), 1, SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0));
  if (rc != 0) return *error = std::string("building the seccomp filter: ") + std::strerror(-rc), Errno{EINVAL};

  UniqueFd out(memfd_create("ukcov-bpf", MFD_CLOEXEC));
  if (!out) return *error = "memfd_create failed", Errno{errno};
  if ((rc = seccomp_export_bpf(ctx, out.get())) != 0)
    return *error = std::string("exporting the seccomp filter: ") + std::strerror(-rc), Errno{EINVAL};
  off_t size = lseek(out.get(), 0, SEEK_END);
  Filter filter;
  filter.program_.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(out.get(), filter.program_.data(), static_cast<size_t>(size), 0) != size)
    return *error = "reading the seccomp filter back", Errno{EIO};
  return filter;
}

int Filter::LoadWithListener() const {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  sock_fprog prog{static_cast<unsigned short>(program_.size()), const_cast<sock_filter*>(program_.data())};
  // A guest blocked in a trapped syscall stays killable but ignores other
  // signals while the sentry has received it (5.19+); older kernels load
  // without it.
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
  if (fd < 0 && errno == EINVAL)
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace ukcov::sentry
