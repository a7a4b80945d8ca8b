// open(2), openat(2), openat2(2), creat(2): paths to the sentry's files.
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>

#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/path.h"

namespace ukcov::sentry::syscalls {
namespace {

// The effective uid, which Linux checks against the device's 0600 root mode.
bool IsRoot(const TaskState& task) {
  std::ifstream status("/proc/" + std::to_string(task.tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    unsigned real, effective;
    if (std::sscanf(line.c_str(), "Uid: %u %u", &real, &effective) == 2) return effective == 0;
  }
  return false;
}

Answer OpenKcov(Kernel& kernel, Syscall& sc, uint64_t flags, bool trailing_slash) {
  if (trailing_slash || (flags & O_DIRECTORY)) return Answer::Error(ENOTDIR);
  if ((flags & O_CREAT) && (flags & O_EXCL)) return Answer::Error(EEXIST);
  if (!IsRoot(sc.task)) return Answer::Error(EACCES);
  Result<UniqueFd> file = kernel.kcov().Open(sc.task, static_cast<int>(flags));
  if (!file) return Answer::Error(file.error());
  return Answer::InstallFd(std::move(file.value()), flags & O_CLOEXEC);
}

}  // namespace

Answer Open(Kernel& kernel, Syscall& sc) {
  int dirfd = AT_FDCWD;
  uint64_t path_address, flags;
  switch (sc.nr()) {
    case SYS_open:
      path_address = sc.arg(0);
      flags = sc.arg(1);
      break;
    case SYS_creat:
      path_address = sc.arg(0);
      flags = O_CREAT | O_WRONLY | O_TRUNC;
      break;
    case SYS_openat:
      dirfd = sc.fd_arg(0);
      path_address = sc.arg(1);
      flags = sc.arg(2);
      break;
    default: {  // openat2
      dirfd = sc.fd_arg(0);
      path_address = sc.arg(1);
      if (sc.arg(3) < sizeof(open_how)) return Answer::Continue();  // the host says EINVAL
      open_how how;
      if (!sc.memory.Read(sc.arg(2), &how, sizeof how)) return Answer::Continue();  // EFAULT, by the host
      flags = how.flags;
      if (how.resolve & (RESOLVE_IN_ROOT | RESOLVE_BENEATH)) return Answer::Continue();
      break;
    }
  }
  Result<std::string> path = sc.memory.ReadString(path_address, PATH_MAX);
  if (!path) return Answer::Error(path.error());
  Result<GuestPath> where = ResolvePath(sc.task, dirfd, *path);
  if (!where) return Answer::Continue();  // nothing of ours: the host answers
  if (where->path == KcovDevice::kPath) return OpenKcov(kernel, sc, flags, where->trailing_slash);
  return Answer::Continue();
}

}  // namespace ukcov::sentry::syscalls
