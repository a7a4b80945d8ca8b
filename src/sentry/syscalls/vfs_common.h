// Shared steps of the handlers of path and inode calls. Instrumented.
#pragma once

#include <limits.h>

#include <string>

#include "sentry/fd_table.h"
#include "sentry/kernel.h"
#include "sentry/vfs/permission.h"
#include "sentry/vfs/vfs.h"

namespace ukcov::sentry::syscalls {

// A path argument: EFAULT, or ENAMETOOLONG without a NUL in PATH_MAX bytes.
inline Result<std::string> ReadPath(Syscall& sc, uint64_t address) { return sc.memory.ReadString(address, PATH_MAX); }

// What to answer for a path the walk left with the host: the host's own
// answer to the guest's call, unless the walk went through the sentry's
// tree (a symlink in a mount to a host path, ".." out of the mount after names
// in it). The host cannot walk that path, so the sentry makes the call on
// the host path the walk reached, with the task's credentials: `call`
// gets that path and returns what the syscall would (-1 and errno on
// failure).
template <class Call>
Answer HostAnswer(const Location& loc, const Credentials& creds, Call call) {
  if (!loc.rerouted) return Answer::Continue();
  long r;
  int error;
  {
    AsGuest as_guest(creds);
    errno = 0;
    r = call(loc.host_path.c_str());
    error = errno;
  }
  return r < 0 ? Answer::Error(error != 0 ? error : EIO) : Answer::Return(r);
}

// For a call on an fd's inode (fchmod, fchown, futimens, ftruncate...): the
// file, if it is on an inode of the sentry's tree, or the answer for any
// other (the lookup's error for a bad fd, EBADF for an O_PATH description;
// the host's own answer for the host's files).
inline bool InodeFd(Kernel& kernel, Syscall& sc, int fd, FileRef* file, Answer* other) {
  *file = LookupFd(kernel, sc.task, fd);
  if (!file->file || file->path_only) {
    *other = Answer::Error(!file->file ? file->error : EBADF);
    return false;
  }
  if (!file->inode) {
    *other = Answer::Continue();
    return false;
  }
  return true;
}

// A call that changes the directory a name is in (loc.last kNormal): that
// directory's lock, held to the end of the call, and the name looked up
// again under it, as Linux's lookup under the parent's i_rwsem (what the
// walk saw may have changed since).
[[nodiscard]] inline std::unique_lock<std::mutex> LockParent(Location& loc) {
  std::unique_lock lock(loc.parent->mu);
  loc.inode = loc.mount->fs->Lookup(*loc.parent, loc.name);
  return lock;
}

// A call that removes or replaces the entry loc names (unlink, rmdir):
// the directory's lock and the entry's inode's, taken together, with the
// name looked up again under them (loc.inode: null if it has gone).
[[nodiscard]] inline InodeLocks LockParentAndEntry(Location& loc) {
  return loc.mount->fs->LockEntry(loc.parent, loc.name, &loc.inode);
}

// Is `path` a magic link to one of the calling process's own fds
// (/proc/self/fd/N, /proc/thread-self/fd/N, /proc/<its pid or tid>/fd/N,
// /proc/<pid>/task/<tid>/fd/N)? Other processes' fds are the host's.
bool OwnFdLink(const TaskState& task, const std::string& path, int* fd);
// The same for /proc/self/exe (and /proc/PID/exe of the task's own
// process), and the program it names (file.cc).
bool OwnExeLink(const TaskState& task, const std::string& path);
Process::Exe ExeOf(Kernel& kernel, TaskState& task);

}  // namespace ukcov::sentry::syscalls
