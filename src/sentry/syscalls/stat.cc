// fstat(2), newfstatat(2), statx(2): the kcov file is a 0600 regular file.
#include <fcntl.h>
#include <limits.h>
#include <linux/stat.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>

#include "sentry/fd_table.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/path.h"

namespace ukcov::sentry::syscalls {
namespace {

Answer WriteStat(Syscall& sc, uint64_t address) {
  struct stat st;
  KcovDevice::FillStat(&st);
  if (!sc.memory.Write(address, st)) return Answer::Error(EFAULT);
  return Answer::Return(0);
}

Answer WriteStatx(Syscall& sc, uint64_t address) {
  struct stat st;
  KcovDevice::FillStat(&st);
  struct statx stx;
  std::memset(&stx, 0, sizeof stx);
  stx.stx_mask = STATX_BASIC_STATS;
  stx.stx_blksize = static_cast<uint32_t>(st.st_blksize);
  stx.stx_nlink = static_cast<uint32_t>(st.st_nlink);
  stx.stx_mode = static_cast<uint16_t>(st.st_mode);
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
  } else {
    // newfstatat(dirfd, path, buf, flags) / statx(dirfd, path, flags, mask, buf)
    uint64_t flags = is_statx ? sc.arg(2) : sc.arg(3);
    out = is_statx ? sc.arg(4) : sc.arg(2);
    Result<std::string> path = sc.memory.ReadString(sc.arg(1), PATH_MAX);
    if (!path) return Answer::Continue();  // the host reports EFAULT / ENAMETOOLONG
    if (!path->empty() || !(flags & AT_EMPTY_PATH)) {
      Result<GuestPath> where = ResolvePath(sc.task, sc.fd_arg(0), *path);
      if (!where || where->path != KcovDevice::kPath) return Answer::Continue();
      if (where->trailing_slash) return Answer::Error(ENOTDIR);
      return is_statx ? WriteStatx(sc, out) : WriteStat(sc, out);
    }
    fd = sc.fd_arg(0);
    if (fd == AT_FDCWD) return Answer::Continue();
  }
  FileRef file = LookupFd(kernel, sc.task, fd);
  if (file.kind == FileRef::Kind::kBad) return Answer::Error(EBADF);
  if (file.kind == FileRef::Kind::kHost) return Answer::Continue();
  return is_statx ? WriteStatx(sc, out) : WriteStat(sc, out);
}

}  // namespace ukcov::sentry::syscalls
