// A guest thread's files in the host's /proc, reached by paths built here.
// Such a path holds the thread's id, and the number of its digits decides
// how long the string is (inline or on the heap), so building it in
// instrumented code would make a call's coverage depend on the host's
// numbering of threads (docs/coverage.md, "Stable"). Plumbing: not
// instrumented.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "base/unique_fd.h"
#include "ukcov/result.hpp"

namespace ukcov::sentry {

// readlink of a host path (a symlink the walk meets, any /proc link).
Result<std::string> ReadHostLink(const std::string& path);
// readlink /proc/TID/REST ("cwd", "exe").
Result<std::string> ReadProcLink(pid_t tid, const char* rest);
// readlink /proc/TID/fd/FD.
Result<std::string> ReadProcFdLink(pid_t tid, int fd);
// readlink /proc/self/fd/FD: the path of one of the sentry's own fds (its
// number depends on what else the sentry holds open at that moment).
Result<std::string> ReadOwnFdLink(int fd);
// stat /proc/TID/REST, following it: 0 or an errno.
int StatProc(pid_t tid, const char* rest, struct stat* st);
// stat /proc/TID/fd/FD, following it: 0 or an errno.
int StatProcFd(pid_t tid, int fd, struct stat* st);
// open /proc/TID/REST.
UniqueFd OpenProc(pid_t tid, const char* rest, int flags);
// What /proc/self (tid 0) or /proc/thread-self leads to: "TGID" or
// "TGID/task/TID". Always on the heap (its capacity is beyond the inline
// buffer), so that moving and freeing it run the same code for any number
// of digits.
std::string ProcSelfTarget(pid_t tgid, pid_t tid);

// /proc's links that name a process's own things (the walk answers for the
// guest where the sentry's /proc would answer for the sentry), parsed here:
// a path holding a pid is as long as its digits, and the parse's string
// compares would branch on that length.
struct ProcLink {
  enum Kind { kNone, kSelf, kThreadSelf, kFd, kCwd } kind = kNone;
  pid_t pid = 0;  // /proc/PID/...
  pid_t tid = 0;  // /proc/PID/task/TID/... (0: none)
  int fd = -1;
};
ProcLink ClassifyProcPath(const std::string& path);

// a == b, for host paths (a mount point against a path of the walk, whose
// length may depend on a pid).
bool SameHostPath(const std::string& a, const std::string& b);

// A file the sentry owns, handed to a guest as a struct file of the guest's
// own: a reopen of it through /proc/self/fd (a new open file description on
// the same inode). EMFILE/ENFILE, and ETXTBSY (a writer of a file being
// executed), as such; any other failure is the sentry's, reported ENOMEM.
// The sentry's fd number has as many digits as the sentry's history gives
// it: not a signal.
Result<UniqueFd> Reopen(int fd, int flags);
// An inotify watch on one of the sentry's fds that sees each description's
// final release (IN_CLOSE: its last fd and last mapping gone, in any
// process). The watch descriptor, or -1 and errno.
int WatchReleases(int inotify, int fd);

// Whether the thread's FD has O_CLOEXEC (/proc/TID/fdinfo/FD); false when
// it cannot be read.
bool ProcFdCloseOnExec(pid_t tid, int fd);

}  // namespace ukcov::sentry
