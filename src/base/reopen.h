// A file the sentry owns, handed to a guest as a struct file of the guest's
// own: a reopen of it through /proc/self/fd (a new open file description on
// the same inode), and an inotify watch that sees each description's final
// release (IN_CLOSE: its last fd and last mapping gone, in any process).
#pragma once

#include <fcntl.h>
#include <sys/inotify.h>

#include <cerrno>
#include <string>

#include "base/unique_fd.h"
#include "ukcov/result.hpp"

namespace ukcov {

inline std::string ProcSelfFd(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// EMFILE/ENFILE, and ETXTBSY (a writer of a file being executed), as such;
// any other failure is the sentry's, reported ENOMEM.
inline Result<UniqueFd> Reopen(int fd, int flags) {
  UniqueFd file(open(ProcSelfFd(fd).c_str(), flags | O_CLOEXEC));
  if (!file) return Errno{errno == EMFILE || errno == ENFILE || errno == ETXTBSY ? errno : ENOMEM};
  return file;
}

// The watch descriptor, or -1 and errno.
inline int WatchReleases(int inotify, int fd) {
  return inotify_add_watch(inotify, ProcSelfFd(fd).c_str(), IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
}

}  // namespace ukcov
