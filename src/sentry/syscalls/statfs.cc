// statfs(2), fstatfs(2) (fs/statfs.c): the super_operations' statfs of the
// filesystem an inode of the sentry's tree is on.
#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include <cerrno>

#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry::syscalls {
namespace {

Answer WriteStatfs(Kernel& kernel, Syscall& sc, Filesystem& fs, uint64_t address) {
  // A served mount: what the host has let go of first (its forgets).
  if (Mount* mount = kernel.vfs().MountOf(&fs); mount != nullptr && mount->served_settle) mount->served_settle();
  struct statfs out;
  fs.Statfs(&out);
  if (!sc.memory.Write(address, out)) return Answer::Error(EFAULT);
  return Answer::Return(0);
}

}  // namespace

Answer Statfs(Kernel& kernel, Syscall& sc) {
  Vfs& vfs = kernel.vfs();
  if (sc.nr() == SYS_fstatfs) {  // fdget_raw: O_PATH descriptions too
    FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0), /*served_inode=*/true);
    if (!file.file) return Answer::Error(file.error);
    if (!file.inode) return Answer::Continue();
    return WriteStatfs(kernel, sc, *file.inode->fs, sc.arg(1));
  }
  Result<std::string> path = ReadPath(sc, sc.arg(0));
  if (!path) return Answer::Error(path.error());
  auto creds = kernel.CredentialsOf(sc.task);
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, AT_FDCWD, *path, kMustExist | kFollowLast);
  if (!loc) return Answer::Error(loc.error());
  if (loc->on_host())
    return HostAnswer(*loc, *creds, [&](const char* p) -> long {
      struct statfs out;
      if (statfs(p, &out) != 0) return -1;
      if (!sc.memory.Write(sc.arg(1), out)) return errno = EFAULT, -1;
      return 0;
    });
  if (loc->trailing_slash && !loc->inode->is_dir()) return Answer::Error(ENOTDIR);
  return WriteStatfs(kernel, sc, *loc->inode->fs, sc.arg(1));
}

}  // namespace ukcov::sentry::syscalls
