// statfs(2), fstatfs(2) on the sentry's mounts (mm/shmem.c shmem_statfs).
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>

#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"

namespace ukcov::sentry::syscalls {
namespace {

Answer WriteStatfs(Syscall& sc, const Mount& mount, uint64_t address) {
  tmpfs::StatFs s = mount.fs->statfs();
  struct statfs out;
  std::memset(&out, 0, sizeof out);
  out.f_type = TMPFS_MAGIC;
  out.f_bsize = 4096;
  out.f_frsize = 4096;
  out.f_namelen = 255;
  out.f_blocks = s.blocks;
  out.f_bfree = out.f_bavail = s.bfree;
  out.f_files = s.files;
  out.f_ffree = s.ffree;
  const dev_t dev = mount.fs->dev();
  out.f_fsid = {{static_cast<int>(major(dev) << 20 | minor(dev)), 0}};
  out.f_flags = 0x0020 | 0x1000;  // ST_VALID | ST_RELATIME: this mount's flags
  if (!sc.memory.Write(address, out)) return Answer::Error(EFAULT);
  return Answer::Return(0);
}

}  // namespace

Answer Statfs(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  if (vfs.empty()) return Answer::Continue();
  if (sc.nr() == SYS_fstatfs) {
    FileRef file;
    Answer other;
    if (!TmpfsFd(kernel, sc, sc.fd_arg(0), &file, &other, /*allow_path=*/true)) return other;
    std::lock_guard lock(vfs.mu);
    return WriteStatfs(sc, *file.mount, sc.arg(1));
  }
  Result<std::string> path = ReadPath(sc, sc.arg(0));
  if (!path) return Answer::Error(path.error());
  std::lock_guard lock(vfs.mu);
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, AT_FDCWD, *path, kMustExist | kFollowLast);
  if (!loc) return Answer::Error(loc.error());
  if (loc->kind == Location::Kind::kHost)
    return HostAnswer(*loc, *creds, [&](const char* p) -> long {
      struct statfs out;
      if (statfs(p, &out) != 0) return -1;
      if (!sc.memory.Write(sc.arg(1), out)) return errno = EFAULT, -1;
      return 0;
    });
  if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
  return WriteStatfs(sc, *loc->mount, sc.arg(1));
}

}  // namespace ukcov::sentry::syscalls
