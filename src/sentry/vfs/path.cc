#include "sentry/vfs/path.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "sentry/kernel.h"

namespace ukcov::sentry {
namespace {

Result<std::string> ReadLink(const std::string& link, int missing_error) {
  char buf[PATH_MAX];
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) return Errno{missing_error};
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

std::string NormalizePath(const std::string& absolute) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < absolute.size()) {
    size_t j = absolute.find('/', i);
    if (j == std::string::npos) j = absolute.size();
    std::string part = absolute.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const std::string& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

Result<GuestPath> ResolvePath(const TaskState& task, int dirfd, const std::string& path) {
  if (path.empty()) return Errno{ENOENT};
  bool trailing = path.size() > 1 && path.back() == '/';
  if (path[0] == '/') return GuestPath{NormalizePath(path), trailing};
  std::string proc = "/proc/" + std::to_string(task.tid);
  Result<std::string> base = dirfd == AT_FDCWD ? ReadLink(proc + "/cwd", ENOENT)
                                               : ReadLink(proc + "/fd/" + std::to_string(dirfd), EBADF);
  if (!base) return Errno{base.error()};
  if (base->empty() || (*base)[0] != '/') return Errno{ENOTDIR};  // a pipe, a socket, ...
  return GuestPath{NormalizePath(*base + "/" + path), trailing};
}

}  // namespace ukcov::sentry
