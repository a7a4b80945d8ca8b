// statfs(2), fstatfs(2) on the sentry's mounts (mm/shmem.c shmem_statfs).
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>

#include "sentry/syscalls/syscalls.h"
#include "sentry/fs/tmpfs/tmpfs_file.h"
#include "sentry/syscalls/vfs_common.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry::syscalls {
Answer Statfs(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  if (sc.nr() == SYS_fstatfs) {  // fdget_raw: O_PATH descriptions too
    FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
    if (!file.file) return Answer::Error(file.error);
    return file.file->Statfs(kernel, sc, sc.arg(1));
  }
  if (vfs.empty()) return Answer::Continue();
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
  return WriteTmpfsStatfs(sc, *loc->mount, sc.arg(1));
}

}  // namespace ukcov::sentry::syscalls
