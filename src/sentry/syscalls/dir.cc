// mkdir(2), mkdirat(2), rmdir(2), getdents64(2), chdir(2), getcwd(2) and
// mknod(2) (fs/namei.c do_mkdirat, do_rmdir, do_mknodat; fs/open.c;
// fs/d_path.c): the VFS's checks, then the filesystem's inode operations.
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry::syscalls {

Answer Mkdir(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  const bool at = sc.nr() == SYS_mkdirat;
  const int dirfd = at ? sc.fd_arg(0) : AT_FDCWD;
  const mode_t mode = static_cast<mode_t>(sc.arg(at ? 2 : 1));
  Result<std::string> path = ReadPath(sc, sc.arg(at ? 1 : 0));
  if (!path) return Answer::Error(path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, dirfd, *path, 0);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) { return mkdir(p, mode & 07777 & ~creds->umask); });
  if (loc->last != Location::Last::kNormal) return Answer::Error(EEXIST);
  auto lock = LockParent(*loc);
  if (loc->inode) return Answer::Error(EEXIST);
  Inode& parent = *loc->parent;
  if (parent.nlink == 0) return Answer::Error(ENOENT);
  if (int e = Permission(parent, *creds, kMayWrite | kMayExec)) return Answer::Error(e);
  Result<InodeRef> made =
      loc->mount->fs->Create(loc->parent, loc->name, S_IFDIR | (mode & 07777 & ~creds->umask & 01777), 0, "", *creds);
  if (!made) return Answer::Error(made.error());
  return Answer::Return(0);
}

Answer Rmdir(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  Result<std::string> path = ReadPath(sc, sc.arg(0));
  if (!path) return Answer::Error(path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, AT_FDCWD, *path, 0);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host()) return HostAnswer(*loc, *creds, [](const char* p) { return rmdir(p); });
  return RemoveDirectory(*loc, *creds);
}

Answer RemoveDirectory(Location& loc, const Credentials& creds) {
  switch (loc.last) {
    case Location::Last::kDot: return Answer::Error(EINVAL);
    case Location::Last::kDotDot: return Answer::Error(ENOTEMPTY);
    case Location::Last::kRoot: return Answer::Error(EBUSY);  // a mount point
    case Location::Last::kNormal: break;
  }
  InodeLocks locks = LockParentAndEntry(loc);
  if (!loc.inode) return Answer::Error(ENOENT);
  if (!loc.inode->is_dir()) return Answer::Error(ENOTDIR);
  if (int e = MayDelete(*loc.parent, *loc.inode, creds)) return Answer::Error(e);
  if (!loc.inode->entries.empty()) return Answer::Error(ENOTEMPTY);
  if (Result<void> r = loc.mount->fs->Unlink(loc.parent, loc.name); !r) return Answer::Error(r.error());
  return Answer::Return(0);
}

Answer Getdents(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (!file.file) return Answer::Error(file.error);
  if (file.file->PathOnly()) return Answer::Error(EBADF);
  const uint32_t count = static_cast<uint32_t>(sc.arg(2));  // unsigned int in the ABI
  if (file.inode && count > INT32_MAX) return Answer::Error(EINVAL);  // 6.18's iterate_dir
  return file.file->Getdents(kernel, sc, sc.arg(1), count, sc.nr() == SYS_getdents);
}

}  // namespace ukcov::sentry::syscalls

namespace ukcov::sentry::syscalls {
Answer Chdir(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  Process& process = *sc.task.process;
  if (sc.nr() == SYS_fchdir) {
    FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
    if (!file.file) return Answer::Error(file.error);
    if (!file.inode) {
      std::lock_guard cwd_lock(process.cwd_mu);
      process.cwd_mount = nullptr;
      process.cwd_dir.reset();
      process.host_cwd_valid = false;
      return Answer::Continue();
    }
    if (!file.inode->is_dir()) return Answer::Error(ENOTDIR);
    {
      std::lock_guard lock(file.inode->mu);
      if (int e = Permission(*file.inode, *kernel.CredentialsOf(sc.task), kMayExec)) return Answer::Error(e);
    }
    std::lock_guard cwd_lock(process.cwd_mu);
    process.cwd_mount = file.mount;
    process.cwd_dir = file.inode;
    return Answer::Return(0);
  }
  Result<std::string> path = ReadPath(sc, sc.arg(0));
  if (!path) return Answer::Error(path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, AT_FDCWD, *path, kMustExist | kFollowLast);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host()) {
    if (loc->rerouted) return Answer::Error(EXDEV);
    std::lock_guard cwd_lock(process.cwd_mu);
    process.cwd_mount = nullptr;  // the host's chdir decides from here
    process.cwd_dir.reset();
    process.host_cwd_valid = false;
    return Answer::Continue();
  }
  if (!loc->inode->is_dir()) return Answer::Error(ENOTDIR);
  {
    std::lock_guard lock(loc->inode->mu);
    if (int e = Permission(*loc->inode, *creds, kMayExec)) return Answer::Error(e);
  }
  std::lock_guard cwd_lock(process.cwd_mu);
  process.cwd_mount = loc->mount;
  process.cwd_dir = loc->inode;
  return Answer::Return(0);
}

Answer Getcwd(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  Process& process = *sc.task.process;
  Mount* mount;
  InodeRef dir;
  {
    std::lock_guard cwd_lock(process.cwd_mu);
    mount = process.cwd_mount;
    dir = process.cwd_dir;
  }
  if (!dir) return Answer::Continue();
  Result<std::string> path = vfs.PathOf(*mount, dir);
  if (!path) return Answer::Error(path.error());
  const uint64_t size = sc.arg(1);
  if (size < path->size() + 1) return Answer::Error(ERANGE);
  if (!sc.memory.Write(sc.arg(0), path->c_str(), path->size() + 1)) return Answer::Error(EFAULT);
  return Answer::Return(static_cast<int64_t>(path->size() + 1));
}

}  // namespace ukcov::sentry::syscalls

namespace ukcov::sentry::syscalls {

// mknod(2), mknodat(2) (fs/namei.c do_mknodat, may_mknod, vfs_mknod).
Answer Mknod(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  const bool at = sc.nr() == SYS_mknodat;
  const int dirfd = at ? sc.fd_arg(0) : AT_FDCWD;
  mode_t mode = static_cast<mode_t>(sc.arg(at ? 2 : 1));
  const dev_t dev = static_cast<dev_t>(static_cast<uint32_t>(sc.arg(at ? 3 : 2)));
  Result<std::string> path = ReadPath(sc, sc.arg(at ? 1 : 0));
  if (!path) return Answer::Error(path.error());
  switch (mode & S_IFMT) {
    case 0:
      mode |= S_IFREG;  // a regular file, as Linux makes of type 0
      break;
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      break;
    case S_IFDIR:
      return Answer::Error(EPERM);
    default:
      return Answer::Error(EINVAL);
  }
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, dirfd, *path, 0);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) { return mknod(p, mode & ~(creds->umask & 0777), dev); });
  if (loc->last != Location::Last::kNormal) return Answer::Error(EEXIST);
  auto lock = LockParent(*loc);
  if (loc->inode) return Answer::Error(EEXIST);
  if (loc->trailing_slash) return Answer::Error(ENOENT);
  Inode& parent = *loc->parent;
  if (parent.nlink == 0) return Answer::Error(ENOENT);
  if (int e = Permission(parent, *creds, kMayWrite | kMayExec)) return Answer::Error(e);
  // vfs_mknod: a device needs CAP_MKNOD, but a whiteout (a character
  // device 0:0) does not.
  const bool whiteout = S_ISCHR(mode) && dev == 0;
  if ((S_ISCHR(mode) || S_ISBLK(mode)) && !whiteout && !creds->Capable(CAP_MKNOD)) return Answer::Error(EPERM);
  Result<InodeRef> made = loc->mount->fs->Create(loc->parent, loc->name,
                                                 (mode & S_IFMT) | (mode & 07777 & ~creds->umask), dev, "", *creds);
  if (!made) return Answer::Error(made.error());
  return Answer::Return(0);
}

}  // namespace ukcov::sentry::syscalls
