// unlink, rename, link, symlink and readlink, and their *at forms, on the
// sentry's mounts (fs/namei.c do_unlinkat, do_renameat2, do_linkat,
// do_symlinkat; fs/stat.c do_readlinkat).
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/syscall.h>

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>

#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"

namespace ukcov::sentry::syscalls {
namespace {

// fs/namei.c may_linkat: with the host's fs.protected_hardlinks set, only
// the owner (or CAP_FOWNER) may link a file that is not a safe source: a
// regular file, not set-user-ID, not executable set-group-ID, that the
// caller may read and write. Caller holds the inode's lock.
int MayLink(const Inode& inode, const Credentials& creds) {
  char setting = '0';
  if (FILE* f = std::fopen("/proc/sys/fs/protected_hardlinks", "re")) {
    setting = static_cast<char>(std::fgetc(f));
    std::fclose(f);
  }
  if (setting == '0') return 0;
  const bool safe = inode.is_reg() && !(inode.mode & S_ISUID) &&
                    (inode.mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) &&
                    Permission(inode, creds, kMayRead | kMayWrite) == 0;
  return safe || OwnerOrCapable(inode, creds) ? 0 : EPERM;
}

// Is `maybe_ancestor` `inode` or one of its ancestors?
bool IsAncestor(const InodeRef& maybe_ancestor, InodeRef inode) {
  while (inode) {
    if (inode == maybe_ancestor) return true;
    inode = inode->parent.lock();
  }
  return false;
}

}  // namespace

Answer Unlink(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  const bool at = sc.nr() == SYS_unlinkat;
  const int dirfd = at ? sc.fd_arg(0) : AT_FDCWD;
  const uint64_t flags = at ? sc.arg(2) : 0;
  if (flags & ~static_cast<uint64_t>(AT_REMOVEDIR)) return Answer::Error(EINVAL);
  Result<std::string> path = ReadPath(sc, sc.arg(at ? 1 : 0));
  if (!path) return Answer::Error(path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, dirfd, *path, 0);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) { return (flags & AT_REMOVEDIR) ? rmdir(p) : unlink(p); });
  if (flags & AT_REMOVEDIR) return RemoveDirectory(*loc, *creds);
  if (loc->last != Location::Last::kNormal) return Answer::Error(loc->last == Location::Last::kRoot ? EBUSY : EISDIR);
  InodeLocks locks = LockParentAndEntry(*loc);
  if (!loc->inode) return Answer::Error(ENOENT);
  if (loc->trailing_slash) return Answer::Error(loc->inode->is_dir() ? EISDIR : ENOTDIR);
  if (int e = MayDelete(*loc->parent, *loc->inode, *creds)) return Answer::Error(e);
  if (loc->inode->is_dir()) return Answer::Error(EISDIR);
  if (Result<void> r = loc->mount->fs->Unlink(loc->parent, loc->name); !r) return Answer::Error(r.error());
  return Answer::Return(0);
}

Answer Rename(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  int old_dirfd = AT_FDCWD, new_dirfd = AT_FDCWD;
  uint64_t old_address, new_address, flags = 0;
  if (sc.nr() == SYS_rename) {
    old_address = sc.arg(0);
    new_address = sc.arg(1);
  } else {
    old_dirfd = sc.fd_arg(0);
    old_address = sc.arg(1);
    new_dirfd = sc.fd_arg(2);
    new_address = sc.arg(3);
    if (sc.nr() == SYS_renameat2) flags = static_cast<uint32_t>(sc.arg(4));
  }
  if (flags & ~static_cast<uint64_t>(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) return Answer::Error(EINVAL);
  if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)) return Answer::Error(EINVAL);
  if ((flags & RENAME_EXCHANGE) && (flags & RENAME_WHITEOUT)) return Answer::Error(EINVAL);
  Result<std::string> old_path = ReadPath(sc, old_address);
  if (!old_path) return Answer::Error(old_path.error());
  Result<std::string> new_path = ReadPath(sc, new_address);
  if (!new_path) return Answer::Error(new_path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> from = vfs.Resolve(kernel, sc.task, *creds, old_dirfd, *old_path, 0);
  if (!from) return Answer::Error(from.error());
  Result<Location> to = vfs.Resolve(kernel, sc.task, *creds, new_dirfd, *new_path, 0);
  if (!to) return Answer::Error(to.error());
  const bool from_ours = !from->on_host(), to_ours = !to->on_host();
  if (!from_ours && !to_ours) {
    if (!from->rerouted && !to->rerouted) return Answer::Continue();
    AsGuest as_guest(*creds);  // both on the host, reached through a mount
    long r = syscall(SYS_renameat2, AT_FDCWD, from->host_path.c_str(), AT_FDCWD, to->host_path.c_str(), flags);
    return r < 0 ? Answer::Error(errno) : Answer::Return(0);
  }
  // do_renameat2 compares the parents' mounts: ".." at a mount's root has
  // its parent in the mount.
  Mount* const from_parent = from_ours ? from->mount : from->dotdot_from;
  Mount* const to_parent = to_ours ? to->mount : to->dotdot_from;
  if (from_parent == nullptr || from_parent != to_parent) return Answer::Error(EXDEV);
  // do_renameat2: ".", ".." or a mount's root as the old name is EBUSY; as
  // the new name, EEXIST with RENAME_NOREPLACE, else EBUSY.
  if (from->last != Location::Last::kNormal) return Answer::Error(EBUSY);
  if (to->last != Location::Last::kNormal) return Answer::Error((flags & RENAME_NOREPLACE) ? EEXIST : EBUSY);
  // Linux's lock_rename: the filesystem's rename lock (no directory moves
  // meanwhile but by this call), then both directories and both entries'
  // inodes together, with the names looked up again under them.
  std::lock_guard rename_lock(from->mount->fs->rename_mu);
  InodeLocks locks =
      from->mount->fs->LockRename(from->parent, from->name, to->parent, to->name, &from->inode, &to->inode);
  InodeRef source = from->inode, target = to->inode;
  if (!source) return Answer::Error(ENOENT);
  if ((flags & RENAME_EXCHANGE) && !target) return Answer::Error(ENOENT);
  if ((flags & RENAME_NOREPLACE) && target) return Answer::Error(EEXIST);
  // A trailing slash needs directories.
  if (!source->is_dir() && (from->trailing_slash || (to->trailing_slash && !(flags & RENAME_EXCHANGE))))
    return Answer::Error(ENOTDIR);
  if ((flags & RENAME_EXCHANGE) && to->trailing_slash && !target->is_dir()) return Answer::Error(ENOTDIR);
  // Renaming into one's own subtree, or its parent under it.
  if (source->is_dir() && IsAncestor(source, to->parent)) return Answer::Error(EINVAL);
  if ((flags & RENAME_EXCHANGE) && target->is_dir() && IsAncestor(target, from->parent)) return Answer::Error(EINVAL);
  if (target && IsAncestor(target, from->parent) && !(flags & RENAME_EXCHANGE)) return Answer::Error(ENOTEMPTY);
  if (source == target) return Answer::Return(0);  // the same inode: nothing happens
  if (int e = MayDelete(*from->parent, *source, *creds)) return Answer::Error(e);
  if (target) {
    if (int e = MayDelete(*to->parent, *target, *creds)) return Answer::Error(e);
  } else if (int e = Permission(*to->parent, *creds, kMayWrite | kMayExec)) {
    return Answer::Error(e);
  }
  if (!(flags & RENAME_EXCHANGE) && target) {
    if (source->is_dir() && !target->is_dir()) return Answer::Error(ENOTDIR);
    if (!source->is_dir() && target->is_dir()) return Answer::Error(EISDIR);
    if (target->is_dir() && !target->entries.empty()) return Answer::Error(ENOTEMPTY);
  }
  // Moving a directory to another parent rewrites its "..": write permission on it.
  if (from->parent != to->parent) {
    if (source->is_dir())
      if (int e = Permission(*source, *creds, kMayWrite)) return Answer::Error(e);
    if ((flags & RENAME_EXCHANGE) && target->is_dir())
      if (int e = Permission(*target, *creds, kMayWrite)) return Answer::Error(e);
  }
  if (to->parent->nlink == 0) return Answer::Error(ENOENT);
  if (Result<void> r = from->mount->fs->Rename(from->parent, from->name, to->parent, to->name,
                                                 static_cast<unsigned>(flags), *creds); !r)
    return Answer::Error(r.error());
  return Answer::Return(0);
}

Answer Link(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  const bool at = sc.nr() == SYS_linkat;
  int old_dirfd = AT_FDCWD, new_dirfd = AT_FDCWD;
  uint64_t flags = 0;
  if (at) {
    old_dirfd = sc.fd_arg(0);
    new_dirfd = sc.fd_arg(2);
    flags = sc.arg(4);
    if (flags & ~static_cast<uint64_t>(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return Answer::Error(EINVAL);
  }
  Result<std::string> old_path = ReadPath(sc, sc.arg(at ? 1 : 0));
  if (!old_path) return Answer::Error(old_path.error());
  Result<std::string> new_path = ReadPath(sc, sc.arg(at ? 3 : 1));
  if (!new_path) return Answer::Error(new_path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  unsigned rflags = kMustExist | ((flags & AT_SYMLINK_FOLLOW) ? kFollowLast : 0) | ((flags & AT_EMPTY_PATH) ? kAllowEmpty : 0);
  Result<Location> from = vfs.Resolve(kernel, sc.task, *creds, old_dirfd, *old_path, rflags);
  if (!from) return Answer::Error(from.error());
  Result<Location> to = vfs.Resolve(kernel, sc.task, *creds, new_dirfd, *new_path, 0);
  if (!to) return Answer::Error(to.error());
  const bool from_ours = !from->on_host(), to_ours = !to->on_host();
  if (!from_ours && !to_ours) {
    if (!from->rerouted && !to->rerouted) return Answer::Continue();
    AsGuest as_guest(*creds);  // both on the host, reached through a mount
    int r = linkat(AT_FDCWD, from->host_path.c_str(), AT_FDCWD, to->host_path.c_str(), 0);
    return r < 0 ? Answer::Error(errno) : Answer::Return(0);
  }
  if (to_ours && (to->last != Location::Last::kNormal || to->inode)) return Answer::Error(EEXIST);
  if (from_ours != to_ours || from->mount != to->mount) return Answer::Error(EXDEV);
  InodeRef inode = from->inode;
  // The directory and the inode together; the name looked up again.
  InodeLocks locks({to->parent.get(), inode.get()});
  to->inode = to->mount->fs->Lookup(*to->parent, to->name);
  if (to->inode) return Answer::Error(EEXIST);
  // filename_create: a new name with a trailing slash is no creatable
  // name (ENOENT; EEXIST when it exists, above).
  if (to->trailing_slash) return Answer::Error(ENOENT);
  if (from->trailing_slash) return Answer::Error(ENOTDIR);
  if (int e = MayLink(*inode, *creds)) return Answer::Error(e);
  // vfs_link: may_create (a removed directory, then permission), then what
  // cannot be linked.
  if (to->parent->nlink == 0) return Answer::Error(ENOENT);
  if (int e = Permission(*to->parent, *creds, kMayWrite | kMayExec)) return Answer::Error(e);
  if (inode->is_dir()) return Answer::Error(EPERM);
  if (inode->append_only() || inode->immutable()) return Answer::Error(EPERM);
  // An unlinked file stays nameless, but an O_TMPFILE one (without O_EXCL)
  // may get its first name.
  if (inode->nlink == 0 && !inode->linkable) return Answer::Error(ENOENT);
  if (Result<void> r = to->mount->fs->Link(to->parent, to->name, inode); !r) return Answer::Error(r.error());
  inode->linkable = false;
  return Answer::Return(0);
}

Answer Symlink(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  const bool at = sc.nr() == SYS_symlinkat;
  Result<std::string> target = ReadPath(sc, sc.arg(0));
  if (!target) return Answer::Error(target.error());
  Result<std::string> path = ReadPath(sc, sc.arg(at ? 2 : 1));
  if (!path) return Answer::Error(path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, at ? sc.fd_arg(1) : AT_FDCWD, *path, 0);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) { return symlink(target->c_str(), p); });
  if (target->empty()) return Answer::Error(ENOENT);
  if (loc->last != Location::Last::kNormal) return Answer::Error(EEXIST);
  auto lock = LockParent(*loc);
  if (loc->inode) return Answer::Error(EEXIST);
  if (loc->trailing_slash) return Answer::Error(ENOENT);
  if (int e = Permission(*loc->parent, *creds, kMayWrite | kMayExec)) return Answer::Error(e);
  if (loc->parent->nlink == 0) return Answer::Error(ENOENT);
  Result<InodeRef> made = loc->mount->fs->Create(loc->parent, loc->name, S_IFLNK | 0777, 0, *target, *creds);
  if (!made) return Answer::Error(made.error());
  return Answer::Return(0);
}

Answer Readlink(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  const bool at = sc.nr() == SYS_readlinkat;
  const uint64_t buffer = sc.arg(at ? 2 : 1);
  const int64_t size = static_cast<int>(sc.arg(at ? 3 : 2));
  Result<std::string> path = ReadPath(sc, sc.arg(at ? 1 : 0));
  if (!path) return Answer::Error(path.error());
  auto write = [&](const std::string& target) {
    size_t n = std::min<size_t>(target.size(), static_cast<size_t>(size));
    if (!sc.memory.Write(buffer, target.data(), n)) return Answer::Error(EFAULT);
    return Answer::Return(static_cast<int64_t>(n));
  };
  // /proc/self/fd/N of a file of the sentry's tree: its path there (the
  // host would name the memfd behind it).
  if (int fd; OwnFdLink(sc.task, *path, &fd) && size > 0) {
    FileRef file = LookupFd(kernel, sc.task, fd);
    if (file.inode)
      if (Result<std::string> name = vfs.PathOf(*file.mount, file.inode)) return write(*name);
  }
  // /proc/self/exe of a program of the sentry's tree: its path there.
  if (OwnExeLink(sc.task, *path) && size > 0) {
    Process::Exe exe = ExeOf(kernel, sc.task);
    if (exe.mount != nullptr) {
      // By the name it ran by while that still names it, else by the
      // file's own dentry (renamed, or "(deleted)").
      bool same = false;
      if (exe.dir) {
        std::lock_guard lock(exe.dir->mu);
        same = exe.mount->fs->Lookup(*exe.dir, exe.name) == exe.inode;
      }
      Result<std::string> name = Errno{ENOENT};
      if (same)
        if (Result<std::string> dir = vfs.PathOf(*exe.mount, exe.dir)) name = *dir + "/" + exe.name;
      if (!name) name = vfs.PathOf(*exe.mount, exe.inode);
      if (name) return write(*name);
    }
  }
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, at ? sc.fd_arg(0) : AT_FDCWD, *path, kMustExist | kAllowEmpty);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) -> long {
      if (size <= 0) return errno = EINVAL, -1;
      char buf[PATH_MAX];
      ssize_t n = readlink(p, buf, std::min<size_t>(sizeof buf, static_cast<size_t>(size)));
      if (n > 0 && !sc.memory.Write(buffer, buf, static_cast<size_t>(n))) return errno = EFAULT, -1;
      return n;
    });
  if (size <= 0) return Answer::Error(EINVAL);
  if (!loc->inode->is_symlink()) return Answer::Error(path->empty() ? ENOENT : EINVAL);
  Answer answer = write(loc->inode->target);  // the target never changes: no lock to copy it
  if (answer.value >= 0) {
    std::lock_guard lock(loc->inode->mu);
    loc->inode->atime = CurrentTime();
  }
  return answer;
}

}  // namespace ukcov::sentry::syscalls
