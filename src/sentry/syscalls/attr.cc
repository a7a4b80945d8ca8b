// access(2) and faccessat(2)/faccessat2(2), chmod(2) and its fd/at forms,
// truncate(2)/ftruncate(2) on the sentry's mounts (fs/open.c, fs/attr.c);
// and the calls that change credentials, which the sentry caches.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"

namespace ukcov::sentry::syscalls {

Answer Access(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  if (vfs.empty()) return Answer::Continue();
  const bool at = sc.nr() != SYS_access;
  const int mode = static_cast<int>(sc.arg(at ? 2 : 1));
  const uint64_t flags = sc.nr() == SYS_faccessat2 ? sc.arg(3) : 0;
  if (mode & ~(R_OK | W_OK | X_OK)) return Answer::Error(EINVAL);
  if (flags & ~static_cast<uint64_t>(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Answer::Error(EINVAL);
  Result<std::string> path = ReadPath(sc, sc.arg(at ? 1 : 0));
  if (!path) return Answer::Error(path.error());
  std::lock_guard lock(vfs.mu);
  auto creds = kernel.CredentialsOf(sc.task);
  unsigned rflags = kMustExist | ((flags & AT_SYMLINK_NOFOLLOW) ? 0 : kFollowLast) | ((flags & AT_EMPTY_PATH) ? kAllowEmpty : 0);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, at ? sc.fd_arg(0) : AT_FDCWD, *path, rflags);
  if (!loc) return Answer::Error(loc.error());
  if (loc->kind == Location::Kind::kHost) return HostAnswer(*loc);
  if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
  int mask = ((mode & R_OK) ? kMayRead : 0) | ((mode & W_OK) ? kMayWrite : 0) | ((mode & X_OK) ? kMayExec : 0);
  if (mask == 0) return Answer::Return(0);
  if (int e = Permission(*loc->inode, *creds, mask)) return Answer::Error(e);
  return Answer::Return(0);
}

namespace {

Answer ChangeMode(tmpfs::Inode& inode, const Credentials& creds, mode_t mode) {
  if (!OwnerOrCapable(inode, creds)) return Answer::Error(EPERM);
  mode_t bits = mode & 07777;
  // Setting set-group-ID on a file of a group one is not in needs CAP_FSETID.
  if ((bits & S_ISGID) && !creds.InGroup(inode.gid) && !creds.Capable(CAP_FSETID)) bits &= ~S_ISGID;
  inode.mode = (inode.mode & S_IFMT) | bits;
  TouchChanged(inode);
  return Answer::Return(0);
}

Answer ChangeSize(tmpfs::Filesystem& fs, tmpfs::Inode& inode, int64_t length) {
  if (length < 0) return Answer::Error(EINVAL);
  if (Result<void> r = fs.Truncate(inode, static_cast<uint64_t>(length)); !r) return Answer::Error(r.error());
  TouchModified(inode);
  return Answer::Return(0);
}

}  // namespace

Answer Chmod(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  if (vfs.empty()) return Answer::Continue();
  if (sc.nr() == SYS_fchmod) {
    FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
    if (file.kind == FileRef::Kind::kBad) return Answer::Error(EBADF);
    if (file.kind != FileRef::Kind::kTmpfs) return Answer::Continue();
    std::lock_guard lock(vfs.mu);
    if (file.path_only) return Answer::Error(EBADF);
    return ChangeMode(*file.inode, *kernel.CredentialsOf(sc.task), static_cast<mode_t>(sc.arg(1)));
  }
  const bool at = sc.nr() == SYS_fchmodat;
  Result<std::string> path = ReadPath(sc, sc.arg(at ? 1 : 0));
  if (!path) return Answer::Error(path.error());
  std::lock_guard lock(vfs.mu);
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, at ? sc.fd_arg(0) : AT_FDCWD, *path, kMustExist | kFollowLast);
  if (!loc) return Answer::Error(loc.error());
  if (loc->kind == Location::Kind::kHost) return HostAnswer(*loc);
  if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
  return ChangeMode(*loc->inode, *creds, static_cast<mode_t>(sc.arg(at ? 2 : 1)));
}

Answer Truncate(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  if (vfs.empty()) return Answer::Continue();
  const int64_t length = static_cast<int64_t>(sc.arg(1));
  if (sc.nr() == SYS_ftruncate) {
    FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
    if (file.kind == FileRef::Kind::kBad) return Answer::Error(EBADF);
    if (file.kind != FileRef::Kind::kTmpfs) return Answer::Continue();
    std::lock_guard lock(vfs.mu);
    const int fl = fcntl(file.description.get(), F_GETFL);
    if (file.path_only) return Answer::Error(EBADF);
    if (length < 0) return Answer::Error(EINVAL);
    if (!file.inode->is_reg() || (fl & O_ACCMODE) == O_RDONLY) return Answer::Error(EINVAL);
    if (fl & O_APPEND) return Answer::Error(EPERM);
    return ChangeSize(*file.mount->fs, *file.inode, length);
  }
  Result<std::string> path = ReadPath(sc, sc.arg(0));
  if (!path) return Answer::Error(path.error());
  std::lock_guard lock(vfs.mu);
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, AT_FDCWD, *path, kMustExist | kFollowLast);
  if (!loc) return Answer::Error(loc.error());
  if (loc->kind == Location::Kind::kHost) return HostAnswer(*loc);
  if (loc->inode->is_dir()) return Answer::Error(EISDIR);
  if (loc->trailing_slash) return Answer::Error(ENOTDIR);
  if (!loc->inode->is_reg()) return Answer::Error(EINVAL);
  if (int e = Permission(*loc->inode, *creds, kMayWrite)) return Answer::Error(e);
  if (length < 0) return Answer::Error(EINVAL);
  return ChangeSize(*loc->mount->fs, *loc->inode, length);
}

Answer CredentialsChange(Kernel&, Syscall& sc) {
  if (sc.nr() == SYS_umask) {
    sc.task.process->creds_generation.fetch_add(1, std::memory_order_acq_rel);  // every thread's umask
  } else {
    std::lock_guard lock(sc.task.creds_mu);
    sc.task.creds.reset();
  }
  return Answer::Continue();
}

}  // namespace ukcov::sentry::syscalls
