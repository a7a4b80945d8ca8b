#include "sentry/proc_files.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>

namespace ukcov::sentry {
namespace {

std::string Path(pid_t tid, const char* rest) { return "/proc/" + std::to_string(tid) + "/" + rest; }
std::string FdPath(pid_t tid, const char* dir, int fd) {
  return "/proc/" + std::to_string(tid) + "/" + dir + "/" + std::to_string(fd);
}

}  // namespace

Result<std::string> ReadHostLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return Errno{errno};
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::string> ReadProcLink(pid_t tid, const char* rest) { return ReadHostLink(Path(tid, rest)); }
Result<std::string> ReadProcFdLink(pid_t tid, int fd) { return ReadHostLink(FdPath(tid, "fd", fd)); }

Result<std::string> ReadOwnFdLink(int fd) { return ReadHostLink("/proc/self/fd/" + std::to_string(fd)); }

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

ProcLink ClassifyProcPath(const std::string& path) {
  ProcLink link;
  if (path.compare(0, 6, "/proc/") != 0) return link;
  if (path == "/proc/self") return link.kind = ProcLink::kSelf, link;
  if (path == "/proc/thread-self") return link.kind = ProcLink::kThreadSelf, link;
  unsigned long pid = 0, tid = 0, fd = 0;
  int used = 0;
  auto whole = [&](int n) { return n > 0 && static_cast<size_t>(n) == path.size(); };
  if ((std::sscanf(path.c_str(), "/proc/%lu/fd/%lu%n", &pid, &fd, &used) == 2 && whole(used)) ||
      (std::sscanf(path.c_str(), "/proc/%lu/task/%lu/fd/%lu%n", &pid, &tid, &fd, &used) == 3 && whole(used))) {
    if (fd > INT32_MAX) return link;
    link.kind = ProcLink::kFd;
    link.fd = static_cast<int>(fd);
  } else if ((std::sscanf(path.c_str(), "/proc/%lu/cwd%n", &pid, &used) == 1 && whole(used)) ||
             (std::sscanf(path.c_str(), "/proc/%lu/task/%lu/cwd%n", &pid, &tid, &used) == 2 && whole(used))) {
    link.kind = ProcLink::kCwd;
  } else {
    return link;
  }
  link.pid = static_cast<pid_t>(pid);
  link.tid = static_cast<pid_t>(tid);
  return link;
}

bool SameHostPath(const std::string& a, const std::string& b) { return a == b; }

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

Result<UniqueFd> Reopen(int fd, int flags) {
  UniqueFd file(open(("/proc/self/fd/" + std::to_string(fd)).c_str(), flags | O_CLOEXEC));
  if (!file) return Errno{errno == EMFILE || errno == ENFILE || errno == ETXTBSY ? errno : ENOMEM};
  return file;
}

int WatchReleases(int inotify, int fd) {
  return inotify_add_watch(inotify, ("/proc/self/fd/" + std::to_string(fd)).c_str(),
                           IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
}

}  // namespace ukcov::sentry
