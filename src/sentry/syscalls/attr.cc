// access(2) and faccessat(2)/faccessat2(2), chmod(2) and its fd/at forms,
// truncate(2)/ftruncate(2) on the sentry's mounts (fs/open.c, fs/attr.c);
// and the calls that change credentials, which the sentry caches.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"
#include "sentry/vfs/limits.h"

namespace ukcov::sentry::syscalls {

Answer Access(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  const bool at = sc.nr() != SYS_access;
  const int mode = static_cast<int>(sc.arg(at ? 2 : 1));
  const uint64_t flags = sc.nr() == SYS_faccessat2 ? sc.arg(3) : 0;
  if (mode & ~(R_OK | W_OK | X_OK)) return Answer::Error(EINVAL);
  if (flags & ~static_cast<uint64_t>(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Answer::Error(EINVAL);
  Result<std::string> path = ReadPath(sc, sc.arg(at ? 1 : 0));
  if (!path) return Answer::Error(path.error());
  // Asked as the real user unless AT_EACCESS, the walk included.
  auto task_creds = kernel.CredentialsOf(sc.task);
  const Credentials access_creds = task_creds->ForAccess();
  const Credentials* creds = (flags & AT_EACCESS) ? task_creds.get() : &access_creds;
  unsigned rflags = kMustExist | ((flags & AT_SYMLINK_NOFOLLOW) ? 0 : kFollowLast) | ((flags & AT_EMPTY_PATH) ? kAllowEmpty : 0);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, at ? sc.fd_arg(0) : AT_FDCWD, *path, rflags);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) { return faccessat(AT_FDCWD, p, mode, AT_EACCESS | (flags & AT_SYMLINK_NOFOLLOW)); });
  if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
  int mask = ((mode & R_OK) ? kMayRead : 0) | ((mode & W_OK) ? kMayWrite : 0) | ((mode & X_OK) ? kMayExec : 0);
  if (mask == 0) return Answer::Return(0);
  std::lock_guard lock(loc->inode->mu);
  if (int e = Permission(*loc->inode, *creds, mask)) return Answer::Error(e);
  return Answer::Return(0);
}

namespace {

// Each takes the inode's lock for the change (notify_change under
// inode_lock).
Answer ChangeMode(Inode& inode, const Credentials& creds, mode_t mode) {
  std::lock_guard lock(inode.mu);
  if (inode.immutable() || inode.append_only()) return Answer::Error(EPERM);  // notify_change
  if (!OwnerOrCapable(inode, creds)) return Answer::Error(EPERM);
  mode_t bits = mode & 07777;
  // Setting set-group-ID on a file of a group one is not in needs CAP_FSETID.
  if ((bits & S_ISGID) && !creds.InGroup(inode.gid) && !creds.Capable(CAP_FSETID)) bits &= ~S_ISGID;
  inode.mode = (inode.mode & S_IFMT) | bits;
  TouchChanged(inode);
  return Answer::Return(0);
}

Answer ChangeSize(TaskState& task, const Credentials& creds, Inode& inode, int64_t length) {
  if (length < 0) return Answer::Error(EINVAL);
  std::lock_guard lock(inode.mu);
  if (inode.append_only() || inode.immutable()) return Answer::Error(EPERM);  // vfs_truncate, do_ftruncate
  if (int e = CheckFileGrowth(task, inode.size, static_cast<uint64_t>(length))) return Answer::Error(e);
  if (Result<void> r = inode.fs->SetSize(inode, static_cast<uint64_t>(length)); !r) return Answer::Error(r.error());
  DropSetIds(inode, creds);
  return Answer::Return(0);
}

}  // namespace

Answer Chmod(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  if (sc.nr() == SYS_fchmod) {
    FileRef file;
    Answer other;
    if (!InodeFd(kernel, sc, sc.fd_arg(0), &file, &other)) return other;
      return ChangeMode(*file.inode, *kernel.CredentialsOf(sc.task), static_cast<mode_t>(sc.arg(1)));
  }
  const bool at = sc.nr() == SYS_fchmodat || sc.nr() == kSysFchmodat2;
  const uint64_t flags = sc.nr() == kSysFchmodat2 ? sc.arg(3) : 0;
  if (flags & ~static_cast<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Answer::Error(EINVAL);
  Result<std::string> path = ReadPath(sc, sc.arg(at ? 1 : 0));
  if (!path) return Answer::Error(path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  const unsigned rflags = kMustExist | ((flags & AT_SYMLINK_NOFOLLOW) ? 0u : kFollowLast) | ((flags & AT_EMPTY_PATH) ? kAllowEmpty : 0u);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, at ? sc.fd_arg(0) : AT_FDCWD, *path, rflags);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) { return chmod(p, static_cast<mode_t>(sc.arg(at ? 2 : 1))); });
  if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
  if (loc->inode->is_symlink()) return Answer::Error(EOPNOTSUPP);  // notify_change: a symlink's mode never changes
  return ChangeMode(*loc->inode, *creds, static_cast<mode_t>(sc.arg(at ? 2 : 1)));
}

Answer Truncate(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  const int64_t length = static_cast<int64_t>(sc.arg(1));
  if (sc.nr() == SYS_ftruncate) {
    FileRef file;
    Answer other;
    if (!InodeFd(kernel, sc, sc.fd_arg(0), &file, &other)) return other;
      const int fl = fcntl(file.description, F_GETFL);
    if (length < 0) return Answer::Error(EINVAL);
    if (!file.inode->is_reg() || (fl & O_ACCMODE) == O_RDONLY) return Answer::Error(EINVAL);
    if (fl & O_APPEND) return Answer::Error(EPERM);
    return ChangeSize(sc.task, *kernel.CredentialsOf(sc.task), *file.inode, length);
  }
  Result<std::string> path = ReadPath(sc, sc.arg(0));
  if (!path) return Answer::Error(path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, AT_FDCWD, *path, kMustExist | kFollowLast);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) { return truncate(p, length); });
  if (loc->inode->is_dir()) return Answer::Error(EISDIR);
  if (loc->trailing_slash) return Answer::Error(ENOTDIR);
  if (!loc->inode->is_reg()) return Answer::Error(EINVAL);
  {
    std::lock_guard lock(loc->inode->mu);
    if (int e = Permission(*loc->inode, *creds, kMayWrite)) return Answer::Error(e);
  }
  if (length < 0) return Answer::Error(EINVAL);
  return ChangeSize(sc.task, *creds, *loc->inode, length);
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

namespace ukcov::sentry::syscalls {
namespace {

// fs/open.c chown_common and fs/attr.c: who may change owner and group, and
// what a change does to set-user-ID and set-group-ID.
Answer ChangeOwner(Inode& inode, const Credentials& creds, uid_t uid, gid_t gid) {
  std::lock_guard lock(inode.mu);
  if (inode.immutable() || inode.append_only()) return Answer::Error(EPERM);  // notify_change
  const bool set_uid = uid != static_cast<uid_t>(-1), set_gid = gid != static_cast<gid_t>(-1);
  if (set_uid && !(creds.fsuid == inode.uid && uid == inode.uid) && !creds.Capable(CAP_CHOWN))
    return Answer::Error(EPERM);
  if (set_gid && !(creds.fsuid == inode.uid && (gid == inode.gid || creds.InGroup(gid))) && !creds.Capable(CAP_CHOWN))
    return Answer::Error(EPERM);
  if (set_uid) inode.uid = uid;
  if (set_gid) inode.gid = gid;
  if (!inode.is_dir()) {
    inode.mode &= ~S_ISUID;
    if (inode.mode & S_IXGRP) inode.mode &= ~S_ISGID;
  }
  TouchChanged(inode);
  return Answer::Return(0);
}

bool ValidTime(const timespec& t) { return t.tv_nsec == UTIME_NOW || t.tv_nsec == UTIME_OMIT || (t.tv_nsec >= 0 && t.tv_nsec < 1000000000); }

// fs/utimes.c: NOW needs ownership or write permission; explicit times need
// ownership (or CAP_FOWNER).
Answer ChangeTimes(Inode& inode, const Credentials& creds, const timespec* times) {
  std::lock_guard lock(inode.mu);
  timespec t[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  if (times != nullptr) {
    t[0] = times[0];
    t[1] = times[1];
  }
  if (t[0].tv_nsec == UTIME_OMIT && t[1].tv_nsec == UTIME_OMIT) return Answer::Return(0);
  const bool only_now = (t[0].tv_nsec == UTIME_NOW || t[0].tv_nsec == UTIME_OMIT) &&
                        (t[1].tv_nsec == UTIME_NOW || t[1].tv_nsec == UTIME_OMIT);
  // notify_change: no time may be set on an immutable inode, nor a given
  // one on an append-only inode.
  if (inode.immutable() || (!only_now && inode.append_only())) return Answer::Error(EPERM);
  if (!OwnerOrCapable(inode, creds)) {
    if (!only_now) return Answer::Error(EPERM);
    if (int e = Permission(inode, creds, kMayWrite)) return Answer::Error(e);
  }
  const timespec now = CurrentTime();
  if (t[0].tv_nsec != UTIME_OMIT) inode.atime = t[0].tv_nsec == UTIME_NOW ? now : t[0];
  if (t[1].tv_nsec != UTIME_OMIT) inode.mtime = t[1].tv_nsec == UTIME_NOW ? now : t[1];
  inode.ctime = now;
  return Answer::Return(0);
}

}  // namespace

Answer Chown(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  if (sc.nr() == SYS_fchown) {
    FileRef file;
    Answer other;
    if (!InodeFd(kernel, sc, sc.fd_arg(0), &file, &other)) return other;
      return ChangeOwner(*file.inode, *kernel.CredentialsOf(sc.task), static_cast<uid_t>(sc.arg(1)),
                       static_cast<gid_t>(sc.arg(2)));
  }
  const bool at = sc.nr() == SYS_fchownat;
  const int a = at ? 1 : 0;
  const uint64_t flags = at ? sc.arg(4) : 0;
  if (flags & ~static_cast<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return Answer::Error(EINVAL);
  Result<std::string> path = ReadPath(sc, sc.arg(a));
  if (!path) return Answer::Error(path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  const bool follow = sc.nr() == SYS_chown || (at && !(flags & AT_SYMLINK_NOFOLLOW));
  unsigned rflags = kMustExist | (follow ? kFollowLast : 0u) | ((flags & AT_EMPTY_PATH) ? kAllowEmpty : 0u);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, at ? sc.fd_arg(0) : AT_FDCWD, *path, rflags);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) {
      uid_t u = static_cast<uid_t>(sc.arg(a + 1));
      gid_t g = static_cast<gid_t>(sc.arg(a + 2));
      return follow ? chown(p, u, g) : lchown(p, u, g);
    });
  if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
  return ChangeOwner(*loc->inode, *creds, static_cast<uid_t>(sc.arg(a + 1)), static_cast<gid_t>(sc.arg(a + 2)));
}

Answer Utimes(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  // Normalise the four calls to (dirfd, path or none, times or none, flags).
  int dirfd = AT_FDCWD;
  uint64_t path_address = 0, times_address = 0, flags = 0;
  timespec times[2];
  bool have_times = false;
  switch (sc.nr()) {
    case SYS_utimensat:
      dirfd = sc.fd_arg(0);
      path_address = sc.arg(1);
      times_address = sc.arg(2);
      flags = sc.arg(3);
      // fs/utimes.c: OMIT for both is done before anything is looked at;
      // then the flags (an fd's: none at all); the nanoseconds once the
      // file is found (vfs_utimes).
      if (times_address) {
        if (!sc.memory.Read(times_address, times, sizeof times)) return Answer::Error(EFAULT);
        if (times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT) return Answer::Return(0);
        have_times = true;
      }
      if (path_address == 0 && dirfd != AT_FDCWD ? flags != 0
                                                 : (flags & ~static_cast<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)))
        return Answer::Error(EINVAL);
      break;
    case SYS_futimesat:
    case SYS_utimes: {
      const bool at = sc.nr() == SYS_futimesat;
      if (at) dirfd = sc.fd_arg(0);
      path_address = sc.arg(at ? 1 : 0);
      times_address = sc.arg(at ? 2 : 1);
      if (times_address) {
        timeval tv[2];
        if (!sc.memory.Read(times_address, tv, sizeof tv)) return Answer::Error(EFAULT);
        for (int i = 0; i < 2; i++) {
          if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000) return Answer::Error(EINVAL);
          times[i] = {tv[i].tv_sec, tv[i].tv_usec * 1000};
        }
        have_times = true;
      }
      break;
    }
    default: {  // utime(path, struct utimbuf*)
      path_address = sc.arg(0);
      times_address = sc.arg(1);
      if (times_address) {
        int64_t ut[2];
        if (!sc.memory.Read(times_address, ut, sizeof ut)) return Answer::Error(EFAULT);
        times[0] = {ut[0], 0};
        times[1] = {ut[1], 0};
        have_times = true;
      }
      break;
    }
  }
  auto creds = kernel.CredentialsOf(sc.task);
  if (path_address == 0 && sc.nr() == SYS_utimensat) {  // futimens: the dirfd itself
    if (dirfd == AT_FDCWD) return Answer::Error(EFAULT);
    FileRef file;
    Answer other;
    if (!InodeFd(kernel, sc, dirfd, &file, &other)) return other;
    if (have_times && (!ValidTime(times[0]) || !ValidTime(times[1]))) return Answer::Error(EINVAL);
    return ChangeTimes(*file.inode, *creds, have_times ? times : nullptr);
  }
  Result<std::string> path = ReadPath(sc, path_address);
  if (!path) return Answer::Error(path.error());
  unsigned rflags = kMustExist | ((flags & AT_SYMLINK_NOFOLLOW) ? 0u : kFollowLast) | ((flags & AT_EMPTY_PATH) ? kAllowEmpty : 0u);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, dirfd, *path, rflags);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) {
      return utimensat(AT_FDCWD, p, have_times ? times : nullptr, static_cast<int>(flags & AT_SYMLINK_NOFOLLOW));
    });
  if (have_times && (!ValidTime(times[0]) || !ValidTime(times[1]))) return Answer::Error(EINVAL);
  if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
  return ChangeTimes(*loc->inode, *creds, have_times ? times : nullptr);
}

}  // namespace ukcov::sentry::syscalls
