// stat(2), lstat(2), fstat(2), newfstatat(2), statx(2) of the sentry's
// inodes (fs/stat.c).
#include <fcntl.h>
#include <limits.h>
#include <linux/stat.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "sentry/fd_table.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"

namespace ukcov::sentry::syscalls {
namespace {

// An inode of the sentry's tree as stat(2) or statx(2) reports it (the
// filesystem's getattr).
Answer WriteStat(Syscall& sc, Inode& inode, uint64_t address, bool is_statx) {
  // The mount's id, as statx reports it: the sentry's own numbering (its
  // mounts are not the host's), distinct from the host's small ids.
  const uint64_t mnt_id = minor(inode.fs->dev());
  struct stat st;
  timespec btime;
  {
    std::lock_guard lock(inode.mu);
    inode.fs->Getattr(inode, &st);
    btime = inode.btime;
  }
  if (!is_statx) {
    if (!sc.memory.Write(address, st)) return Answer::Error(EFAULT);
    return Answer::Return(0);
  }
  struct statx stx;
  std::memset(&stx, 0, sizeof stx);
  stx.stx_mask = STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID;
  stx.stx_mnt_id = mnt_id;
  stx.stx_blksize = static_cast<uint32_t>(st.st_blksize);
  stx.stx_nlink = static_cast<uint32_t>(st.st_nlink);
  stx.stx_uid = st.st_uid;
  stx.stx_gid = st.st_gid;
  stx.stx_mode = static_cast<uint16_t>(st.st_mode);
  stx.stx_ino = st.st_ino;
  stx.stx_size = static_cast<uint64_t>(st.st_size);
  stx.stx_blocks = static_cast<uint64_t>(st.st_blocks);
  stx.stx_atime = {st.st_atim.tv_sec, static_cast<uint32_t>(st.st_atim.tv_nsec), 0};
  stx.stx_btime = {btime.tv_sec, static_cast<uint32_t>(btime.tv_nsec), 0};
  stx.stx_ctime = {st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec), 0};
  stx.stx_mtime = {st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec), 0};
  stx.stx_rdev_major = major(st.st_rdev);
  stx.stx_rdev_minor = minor(st.st_rdev);
  stx.stx_dev_major = major(st.st_dev);
  stx.stx_dev_minor = minor(st.st_dev);
  if (!sc.memory.Write(address, stx)) return Answer::Error(EFAULT);
  return Answer::Return(0);
}

}  // namespace

Answer Stat(Kernel& kernel, Syscall& sc) {
  int fd;
  uint64_t out;
  bool is_statx = sc.nr() == SYS_statx;
  if (sc.nr() == SYS_fstat) {
    fd = sc.fd_arg(0);
    out = sc.arg(1);
  } else if (sc.nr() == SYS_stat || sc.nr() == SYS_lstat) {
    out = sc.arg(1);
    Result<std::string> path = ReadPath(sc, sc.arg(0));
    if (!path) return Answer::Error(path.error());
    Vfs& vfs = kernel.vfs();
    auto creds = kernel.CredentialsOf(sc.task);
    Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, AT_FDCWD, *path,
                                       kMustExist | (sc.nr() == SYS_stat ? kFollowLast : 0));
    if (!loc) return Answer::Error(loc.error());
    if (loc->on_host())
      return HostAnswer(*loc, *creds, [&](const char* p) -> long {
        struct stat st;
        if ((sc.nr() == SYS_stat ? stat(p, &st) : lstat(p, &st)) != 0) return -1;
        if (!sc.memory.Write(out, st)) return errno = EFAULT, -1;
        return 0;
      });
    if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
    return WriteStat(sc, *loc->inode, out, false);
  } else {
    // newfstatat(dirfd, path, buf, flags) / statx(dirfd, path, flags, mask, buf)
    uint64_t flags = is_statx ? sc.arg(2) : sc.arg(3);
    out = is_statx ? sc.arg(4) : sc.arg(2);
    // vfs_statx's checks, before the path is read: flags, both sync types,
    // statx's reserved mask bit.
    if (flags & ~static_cast<uint64_t>(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
      return Answer::Error(EINVAL);
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return Answer::Error(EINVAL);
    if (is_statx && (static_cast<uint32_t>(sc.arg(3)) & STATX__RESERVED)) return Answer::Error(EINVAL);
    Result<std::string> path = sc.memory.ReadString(sc.arg(1), PATH_MAX);
    if (!path) return Answer::Continue();  // the host reports EFAULT / ENAMETOOLONG
    Vfs& vfs = kernel.vfs();
    {
      if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) return Answer::Continue();
        auto creds = kernel.CredentialsOf(sc.task);
      unsigned rflags = kMustExist | ((flags & AT_SYMLINK_NOFOLLOW) ? 0 : kFollowLast) | ((flags & AT_EMPTY_PATH) ? kAllowEmpty : 0);
      Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, sc.fd_arg(0), *path, rflags);
      if (!loc) return Answer::Error(loc.error());
      if (!loc->on_host()) {
        if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
        return WriteStat(sc, *loc->inode, out, is_statx);
      }
      if (loc->rerouted)
        return HostAnswer(*loc, *creds, [&](const char* p) -> long {
          const int at_flags = static_cast<int>(flags & AT_SYMLINK_NOFOLLOW);
          if (is_statx) {
            struct statx stx;
            if (statx(AT_FDCWD, p, at_flags, static_cast<unsigned>(sc.arg(3)), &stx) != 0) return -1;
            if (!sc.memory.Write(out, stx)) return errno = EFAULT, -1;
          } else {
            struct stat st;
            if (fstatat(AT_FDCWD, p, &st, at_flags) != 0) return -1;
            if (!sc.memory.Write(out, st)) return errno = EFAULT, -1;
          }
          return 0;
        });
    }
    if (!path->empty() || !(flags & AT_EMPTY_PATH)) return Answer::Continue();
    fd = sc.fd_arg(0);
    if (fd == AT_FDCWD) return Answer::Continue();
  }
  FileRef file = LookupFd(kernel, sc.task, fd);
  if (!file.file) return Answer::Error(file.error);
  if (!file.inode) return Answer::Continue();
  return WriteStat(sc, *file.inode, out, is_statx);
}

}  // namespace ukcov::sentry::syscalls
