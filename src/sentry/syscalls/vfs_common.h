// Shared steps of the path-taking handlers. Instrumented.
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
// answer, unless the walk went through the sentry's tree (then the host
// could not resolve the guest's path: not supported yet, EXDEV).
inline Answer HostAnswer(const Location& loc) { return loc.rerouted ? Answer::Error(EXDEV) : Answer::Continue(); }

// Time stamps, as Linux sets them.
inline void TouchModified(tmpfs::Inode& inode) { inode.mtime = inode.ctime = tmpfs::Filesystem::Now(); }
inline void TouchChanged(tmpfs::Inode& inode) { inode.ctime = tmpfs::Filesystem::Now(); }

}  // namespace ukcov::sentry::syscalls
