// open(2), openat(2), openat2(2), creat(2) of the sentry's files (fs/open.c,
// fs/namei.c do_filp_open).
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "sentry/fd_table.h"
#include "sentry/proc_files.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/vfs_common.h"
#include "sentry/vfs/path.h"

namespace ukcov::sentry::syscalls {
namespace {

constexpr uint64_t kValidOpenFlags = O_RDONLY | O_WRONLY | O_RDWR | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC |
                                     O_APPEND | O_NONBLOCK | O_DSYNC | FASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY |
                                     O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE | O_SYNC |
                                     0x8000 /* the kernel's O_LARGEFILE */;
constexpr uint64_t kValidResolveFlags = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
                                        RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;
constexpr uint64_t kPathFlags = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

// Linux's do_open on a location in the sentry's tree (fs/namei.c
// open_last_lookups, may_open, handle_truncate; vfs_tmpfile): the VFS's
// checks, then the filesystem's create, setattr and open.
Answer OpenInTree(Kernel& kernel, Syscall& sc, Location& loc, uint64_t flags, mode_t mode, const Credentials& creds) {
  Filesystem& fs = *loc.mount->fs;
  InodeRef inode = loc.inode;
  const int access = static_cast<int>(flags & O_ACCMODE);
  const bool path_only = flags & O_PATH;
  if ((flags & O_TMPFILE) == O_TMPFILE) {  // O_TMPFILE includes O_DIRECTORY
    if (flags & O_CREAT) return Answer::Error(EINVAL);
    if (access != O_WRONLY && access != O_RDWR) return Answer::Error(EINVAL);
    if (!inode || !inode->is_dir()) return Answer::Error(inode ? ENOTDIR : ENOENT);
    Result<InodeRef> created = Errno{ENOENT};
    {
      std::lock_guard dir_lock(inode->mu);
      if (int e = Permission(*inode, creds, kMayWrite | kMayExec)) return Answer::Error(e);
      created = fs.CreateUnnamed(inode, mode & 07777 & ~creds.umask, creds);
    }
    if (!created) return Answer::Error(created.error());
    (*created)->linkable = !(flags & O_EXCL);  // nobody else has it yet
    return fs.Open(kernel, sc, *created, static_cast<int>(flags & ~O_TMPFILE), creds);
  }
  bool created = false;
  if (flags & O_CREAT && !path_only) {
    if (loc.last != Location::Last::kNormal) {
      // "." "..", the mount root: an existing directory.
      return Answer::Error(EISDIR);
    }
    // The parent's lock for the lookup and the create, as open_last_lookups.
    auto parent_lock = LockParent(loc);
    inode = loc.inode;
    if (inode) {
      if (flags & O_EXCL) return Answer::Error(EEXIST);
      if (inode->is_dir()) return Answer::Error(EISDIR);
    } else {
      if (loc.trailing_slash) return Answer::Error(EISDIR);
      if (loc.parent->nlink == 0) return Answer::Error(ENOENT);
      if (int e = Permission(*loc.parent, creds, kMayWrite | kMayExec)) return Answer::Error(e);
      Result<InodeRef> made = fs.Create(loc.parent, loc.name, S_IFREG | (mode & 07777 & ~creds.umask), 0, "", creds);
      if (!made) return Answer::Error(made.error());
      inode = *made;
      created = true;
    }
  } else {
    if (!inode) return Answer::Error(ENOENT);
  }
  // do_open: LOOKUP_DIRECTORY's ENOTDIR comes first, then may_open's
  // ELOOP for the link O_NOFOLLOW met.
  if (!inode->is_dir() && (loc.trailing_slash || (flags & O_DIRECTORY))) return Answer::Error(ENOTDIR);
  if (inode->is_symlink() && !path_only) return Answer::Error(ELOOP);
  if (path_only) return fs.Open(kernel, sc, inode, static_cast<int>(flags & kPathFlags), creds);
  if (inode->is_dir() && (access != O_RDONLY || (flags & O_TRUNC) || (flags & O_CREAT))) return Answer::Error(EISDIR);
  std::unique_lock inode_lock(inode->mu);
  if (!created) {
    int mask = 0;
    if (access == O_RDONLY || access == O_RDWR) mask |= kMayRead;
    if (access == O_WRONLY || access == O_RDWR) mask |= kMayWrite;
    if (access == O_ACCMODE) mask = kMayRead | kMayWrite;  // Linux: 3 means ioctl-only, checked as both
    if (flags & O_TRUNC) mask |= kMayWrite;
    if (int e = Permission(*inode, creds, mask)) return Answer::Error(e);
    // may_open: an append-only file opens for writing only to append, and
    // is never truncated.
    if (inode->append_only() && ((access != O_RDONLY && !(flags & O_APPEND)) || (flags & O_TRUNC)))
      return Answer::Error(EPERM);
    if ((flags & O_NOATIME) && !OwnerOrCapable(*inode, creds)) return Answer::Error(EPERM);
  }
  // Linux truncates on O_TRUNC whatever the access mode (having checked
  // write permission), but not a file this open created.
  if ((flags & O_TRUNC) && inode->is_reg() && !created) {
    if (Result<void> r = fs.SetSize(*inode, 0); !r) return Answer::Error(r.error());
    DropSetIds(*inode, creds);
  }
  inode_lock.unlock();
  return fs.Open(kernel, sc, inode, static_cast<int>(flags), creds);
}

// What follows "/proc/self/", "/proc/thread-self/", "/proc/PID/" or
// "/proc/PID/task/TID/" when PID and TID are the task's own (its process's
// and its own, or the leader's); empty when the path is none of these.
std::string OwnProcEntry(const TaskState& task, const std::string& unnormalized) {
  if (unnormalized.rfind("/proc/", 0) != 0) return "";
  const std::string path = NormalizePath(unnormalized);
  const auto own = [&](unsigned long id) {
    return id == static_cast<unsigned long>(task.tid) || id == static_cast<unsigned long>(task.process->tgid);
  };
  unsigned long a = 0, b = 0;
  char self[16] = {0};
  int used = 0;
  if (std::sscanf(path.c_str(), "/proc/%15[a-z-]/%n", self, &used) == 1 && used > 0 &&
      (std::strcmp(self, "self") == 0 || std::strcmp(self, "thread-self") == 0))
    return path.substr(static_cast<size_t>(used));
  used = 0;
  if (std::sscanf(path.c_str(), "/proc/%lu/task/%lu/%n", &a, &b, &used) == 2 && used > 0)
    return own(a) && own(b) ? path.substr(static_cast<size_t>(used)) : "";
  used = 0;
  if (std::sscanf(path.c_str(), "/proc/%lu/%n", &a, &used) == 1 && used > 0 && own(a))
    return path.substr(static_cast<size_t>(used));
  return "";
}

}  // namespace

bool OwnFdLink(const TaskState& task, const std::string& path, int* fd) {
  const std::string entry = OwnProcEntry(task, path);
  unsigned long n = 0;
  int used = 0;
  if (std::sscanf(entry.c_str(), "fd/%lu%n", &n, &used) != 1 || static_cast<size_t>(used) != entry.size() ||
      n > INT32_MAX)
    return false;
  *fd = static_cast<int>(n);
  return true;
}

bool OwnExeLink(const TaskState& task, const std::string& path) { return OwnProcEntry(task, path) == "exe"; }

Process::Exe ExeOf(Kernel& kernel, TaskState& task) {
  Process::Exe exe;
  {
    std::lock_guard lock(task.process->exe_mu);
    exe = task.process->exe;
  }
  if (exe.mount == nullptr) return exe;
  // Still the program the host runs (its exe link leads to the memfd)?
  struct stat st;
  InodeRef running;
  bool path_only;
  if (StatProc(task.tid, "exe", &st) != 0 || st.st_dev != kernel.memfd_dev() ||
      kernel.vfs().FindByHostIno(st.st_ino, &running, &path_only) != exe.mount || running != exe.inode)
    return {};
  return exe;
}

Answer Open(Kernel& kernel, Syscall& sc) {
  int dirfd = AT_FDCWD;
  uint64_t path_address, flags;
  mode_t mode = 0;
  uint64_t resolve = 0;
  switch (sc.nr()) {
    case SYS_open:
      path_address = sc.arg(0);
      flags = sc.arg(1);
      mode = static_cast<mode_t>(sc.arg(2));
      break;
    case SYS_creat:
      path_address = sc.arg(0);
      flags = O_CREAT | O_WRONLY | O_TRUNC;
      mode = static_cast<mode_t>(sc.arg(1));
      break;
    case SYS_openat:
      dirfd = sc.fd_arg(0);
      path_address = sc.arg(1);
      flags = sc.arg(2);
      mode = static_cast<mode_t>(sc.arg(3));
      break;
    default: {  // openat2: the checks of fs/open.c build_open_flags, in order
      dirfd = sc.fd_arg(0);
      path_address = sc.arg(1);
      const uint64_t size = sc.arg(3);
      if (size < sizeof(open_how)) return Answer::Error(EINVAL);
      if (size > 4096) return Answer::Error(E2BIG);
      open_how how;
      if (!sc.memory.Read(sc.arg(2), &how, sizeof how)) return Answer::Error(EFAULT);
      for (uint64_t at = sizeof how; at < size; at++) {  // a newer struct: its extra fields must be zero
        char c;
        if (!sc.memory.Read(sc.arg(2) + at, &c, 1)) return Answer::Error(EFAULT);
        if (c != 0) return Answer::Error(E2BIG);
      }
      flags = how.flags;
      mode = static_cast<mode_t>(how.mode);
      resolve = how.resolve;
      if (flags & ~kValidOpenFlags) return Answer::Error(EINVAL);
      if (resolve & ~kValidResolveFlags) return Answer::Error(EINVAL);
      if ((resolve & RESOLVE_BENEATH) && (resolve & RESOLVE_IN_ROOT)) return Answer::Error(EINVAL);
      const bool will_create = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
      if (will_create ? (how.mode & ~07777ull) != 0 : how.mode != 0) return Answer::Error(EINVAL);
      if ((flags & O_PATH) && (flags & ~kPathFlags)) return Answer::Error(EINVAL);
      if ((resolve & RESOLVE_CACHED) && (flags & (O_TRUNC | O_CREAT | O_TMPFILE)))
        return Answer::Error(EAGAIN);
      break;
    }
  }
  if (sc.nr() != SYS_openat2) {
    // open(2) and openat(2) ignore what they do not know, and O_PATH's
    // companions are all that count with it.
    flags &= kValidOpenFlags;
    if (flags & O_PATH) flags &= kPathFlags;
    mode &= 07777;
  }
  if ((flags & O_DIRECTORY) && (flags & O_CREAT)) return Answer::Error(EINVAL);
  Result<std::string> path = sc.memory.ReadString(path_address, PATH_MAX);
  if (!path) return Answer::Error(path.error());
  // /proc/self/exe of a program of the sentry's tree: Linux opens its inode
  // anew (the host would reopen the memfd behind it). (/proc/self/fd/N is
  // the walk's: it jumps to the file.)
  if (path->rfind("/proc/", 0) == 0 && OwnExeLink(sc.task, *path)) {
    Process::Exe exe = ExeOf(kernel, sc.task);
    if (exe.mount != nullptr) {
      if ((flags & O_CREAT) && (flags & O_EXCL)) return Answer::Error(EEXIST);
      Location loc;
      loc.mount = exe.mount;
      loc.inode = exe.inode;
      loc.trailing_slash = path->size() > 1 && path->back() == '/';
      return OpenInTree(kernel, sc, loc, flags & ~static_cast<uint64_t>(O_CREAT), mode, *kernel.CredentialsOf(sc.task));
    }
  }
  Vfs& vfs = kernel.vfs();
  auto creds = kernel.CredentialsOf(sc.task);
  unsigned rflags = 0;
  if (!(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL))) rflags |= kFollowLast;
  if (resolve & RESOLVE_NO_SYMLINKS) rflags |= kNoSymlinks;
  if (resolve & RESOLVE_NO_XDEV) rflags |= kNoXdev;
  if (resolve & RESOLVE_BENEATH) rflags |= kBeneath;
  if (resolve & RESOLVE_IN_ROOT) rflags |= kInRoot;
  Result<Location> loc = vfs.Resolve(kernel, sc.task, *creds, dirfd, *path, rflags);
  if (!loc) return Answer::Error(loc.error());
  if (!loc->on_host()) {
    if ((flags & O_NOFOLLOW) && loc->inode && loc->inode->is_symlink() && !(flags & O_PATH))
      return Answer::Error((flags & O_DIRECTORY) ? ENOTDIR : ELOOP);  // do_open: LOOKUP_DIRECTORY first
    return OpenInTree(kernel, sc, *loc, flags, mode, *creds);
  }
  if (!loc->rerouted) return Answer::Continue();  // nothing of ours: the host answers
  // A host file reached through a mount: opened for the guest. A FIFO's
  // blocking open waits for its peer, for ever if none comes: not on a
  // worker (and no lock is held here).
  struct stat st;
  if (!(flags & (O_NONBLOCK | O_PATH)) && stat(loc->host_path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
    kernel.blocking().OpenFifo(sc, std::move(loc->host_path), static_cast<int>(flags), mode & ~creds->umask, *creds);
    return Answer::Deferred();
  }
  UniqueFd file;
  int error;
  {
    AsGuest as_guest(*creds);
    file.reset(open(loc->host_path.c_str(), static_cast<int>(flags) | O_CLOEXEC, mode & ~creds->umask));
    error = errno;
  }
  if (!file) return Answer::Error(error);
  return Answer::InstallFd(std::move(file), flags & O_CLOEXEC);
}

}  // namespace ukcov::sentry::syscalls
