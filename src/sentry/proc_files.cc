#include "sentry/proc_files.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

namespace ukcov::sentry {
namespace {

std::string Path(pid_t tid, const char* rest) { return "/proc/" + std::to_string(tid) + "/" + rest; }
std::string FdPath(pid_t tid, const char* dir, int fd) {
  return "/proc/" + std::to_string(tid) + "/" + dir + "/" + std::to_string(fd);
}

Result<std::string> ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return Errno{errno};
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

Result<std::string> ReadProcLink(pid_t tid, const char* rest) { return ReadLink(Path(tid, rest)); }
Result<std::string> ReadProcFdLink(pid_t tid, int fd) { return ReadLink(FdPath(tid, "fd", fd)); }

Result<std::string> ReadOwnFdLink(int fd) { return ReadLink("/proc/self/fd/" + std::to_string(fd)); }

int StatProc(pid_t tid, const char* rest, struct stat* st) {
  return stat(Path(tid, rest).c_str(), st) == 0 ? 0 : errno;
}

int StatProcFd(pid_t tid, int fd, struct stat* st) {
  return stat(FdPath(tid, "fd", fd).c_str(), st) == 0 ? 0 : errno;
}

UniqueFd OpenProc(pid_t tid, const char* rest, int flags) { return UniqueFd(open(Path(tid, rest).c_str(), flags)); }

std::string ProcSelfTarget(pid_t tgid, pid_t tid) {
  std::string target;
  target.reserve(64);
  target += std::to_string(tgid);
  if (tid != 0) target += "/task/" + std::to_string(tid);
  return target;
}

bool ProcFdCloseOnExec(pid_t tid, int fd) {
  std::ifstream info(FdPath(tid, "fdinfo", fd));
  std::string key;
  while (info >> key) {
    if (key == "flags:") {
      unsigned long flags = 0;
      info >> std::oct >> flags;
      return flags & O_CLOEXEC;
    }
  }
  return false;
}

}  // namespace ukcov::sentry
