// The sentry's syscall handlers, one file per family. Instrumented: their
// coverage is what a guest's kcov shows.
#pragma once

#include <fcntl.h>

#include <span>

#include "sentry/kernel.h"
#include "ukcov/kcov.h"

namespace ukcov::sentry {
struct Location;
}

namespace ukcov::sentry::syscalls {

// Newer than Debian 12's headers (Linux 6.6).
inline constexpr int kSysFchmodat2 = 452;

using Handler = Answer (*)(Kernel& kernel, Syscall& sc);
// Which of a syscall's calls the filter traps.
enum class Trap {
  kAll,
  kFileMappings,  // mmap: only with an fd (anonymous mmap, every malloc, never leaves the guest)
  kWithoutThreadPidfd,  // only where the host has no PIDFD_THREAD (HostFeatures)
  kArg1In,              // only when argument 1 is one of `arg1_values` (fcntl: its command)
};
// In the served interception mode (docs/sentry.md, "Interception modes":
// no mount of the sentry's, the kcov device a FUSE file the host routes to
// the sentry), which of the calls `trap` selects the filter still traps.
enum class Served {
  kAlways,       // the sentry's in any case: task bookkeeping, kcov mmap, debugfs's statfs
  kNever,        // the host answers, or sends the kcov device's requests over FUSE
  kBadFd,        // only with a negative fd (argument 0): EBADF, the sentry's answer (and coverage)
  kBadFdOrEmpty, // also with a count of 0 (argument 2): FUSE answers 0 where kcov answers EINVAL
  kBadFdOrNoIov, // also with no iovec (argument 2), likewise
  kBadFdOrArg1In,  // also when argument 1 is one of `served_arg1` (ioctl: commands FUSE cannot carry)
};
struct SyscallEntry {
  int nr;
  Handler handler;
  Trap trap = Trap::kAll;
  std::span<const uint64_t> arg1_values = {};
  Served served = Served::kAlways;
  std::span<const uint64_t> served_arg1 = {};
};
// ioctl commands a FUSE file cannot carry to the sentry and back: kcov's.
// KCOV_UNIQUE_ENABLE is an _IOW whose argument is a value, not a pointer
// (the host would copy in from it), and an enable answers ENOTSUPP (524)
// in a build without comparisons, beyond the errnos a FUSE reply may carry
// (the host refuses the reply, and the caller would wait forever).
inline constexpr uint64_t kIoctlsNotForFuse[] = {
    UKCOV_KCOV_INIT_TRACE,     UKCOV_KCOV_ENABLE,       UKCOV_KCOV_DISABLE,
    UKCOV_KCOV_REMOTE_ENABLE, UKCOV_KCOV_UNIQUE_ENABLE, UKCOV_KCOV_RESET_TRACE,
};
// fcntl(2) commands that concern the open file, which the sentry answers
// for its files; the rest (fd flags, duplication) are the host's alone and
// never trapped.
inline constexpr uint64_t kFcntlFileCommands[] = {
    F_GETFL,  F_SETFL,  F_GETLK,  F_SETLK,     F_SETLKW,    F_OFD_GETLK,  F_OFD_SETLK,  F_OFD_SETLKW, F_SETLEASE, F_GETLEASE,
    F_NOTIFY, F_SETOWN, F_GETOWN, F_SETSIG,    F_GETSIG,    F_ADD_SEALS,  F_GET_SEALS,  F_SETPIPE_SZ, F_GETPIPE_SZ,
};
// The table (table.cc): the filter's list and the dispatch's.
std::span<const SyscallEntry> Table();

Answer Open(Kernel& kernel, Syscall& sc);     // open, openat, openat2, creat   (file.cc)
Answer ReadWrite(Kernel& kernel, Syscall& sc);  // read, write, p*, *v, *v2      (read_write.cc)
Answer Lseek(Kernel& kernel, Syscall& sc);    //                                (read_write.cc)
Answer Fsync(Kernel& kernel, Syscall& sc);    // fsync, fdatasync               (read_write.cc)
Answer FileHint(Kernel& kernel, Syscall& sc); // fadvise64, readahead, sync_file_range, syncfs (read_write.cc)
Answer Ioctl(Kernel& kernel, Syscall& sc);    //                                (ioctl.cc)
Answer Mmap(Kernel& kernel, Syscall& sc);     //                                (mmap.cc)
Answer Stat(Kernel& kernel, Syscall& sc);     // fstat, newfstatat, statx       (stat.cc)
Answer Clone(Kernel& kernel, Syscall& sc);    // clone, clone3, fork, vfork     (process.cc)
Answer Execve(Kernel& kernel, Syscall& sc);   // execve, execveat               (exec.cc)
Answer Mkdir(Kernel& kernel, Syscall& sc);    // mkdir, mkdirat                 (dir.cc)
Answer Rmdir(Kernel& kernel, Syscall& sc);    //                                (dir.cc)
Answer Getdents(Kernel& kernel, Syscall& sc); // getdents, getdents64           (dir.cc)
Answer Chdir(Kernel& kernel, Syscall& sc);    // chdir, fchdir                  (dir.cc)
Answer Mknod(Kernel& kernel, Syscall& sc);    // mknod, mknodat                 (dir.cc)
Answer Getcwd(Kernel& kernel, Syscall& sc);   //                                (dir.cc)
Answer Unlink(Kernel& kernel, Syscall& sc);   // unlink, unlinkat               (namei.cc)
Answer Rename(Kernel& kernel, Syscall& sc);   // rename, renameat, renameat2    (namei.cc)
Answer Link(Kernel& kernel, Syscall& sc);     // link, linkat                   (namei.cc)
Answer Symlink(Kernel& kernel, Syscall& sc);  // symlink, symlinkat             (namei.cc)
Answer Readlink(Kernel& kernel, Syscall& sc); // readlink, readlinkat           (namei.cc)
Answer Access(Kernel& kernel, Syscall& sc);   // access, faccessat, faccessat2  (attr.cc)
Answer Chmod(Kernel& kernel, Syscall& sc);    // chmod, fchmod, fchmodat        (attr.cc)
Answer Truncate(Kernel& kernel, Syscall& sc); // truncate, ftruncate            (attr.cc)
Answer Chown(Kernel& kernel, Syscall& sc);    // chown, fchown, lchown, fchownat (attr.cc)
Answer Utimes(Kernel& kernel, Syscall& sc);   // utimensat, futimesat, utimes, utime (attr.cc)
Answer Fcntl(Kernel& kernel, Syscall& sc);    //                                (fcntl.cc)
Answer Flock(Kernel& kernel, Syscall& sc);    //                                (fcntl.cc)
Answer Xattr(Kernel& kernel, Syscall& sc);    // [lf]{set,get,list,remove}xattr (xattr.cc)
Answer Bind(Kernel& kernel, Syscall& sc);     // AF_UNIX paths in a mount       (socket.cc)
Answer Connect(Kernel& kernel, Syscall& sc);  //                                (socket.cc)
Answer Statfs(Kernel& kernel, Syscall& sc);   // statfs, fstatfs                (statfs.cc)
Answer Fallocate(Kernel& kernel, Syscall& sc);  //                              (fallocate.cc)
Answer CopyRange(Kernel& kernel, Syscall& sc);  // copy_file_range, sendfile, splice (splice.cc)
Answer CredentialsChange(Kernel& kernel, Syscall& sc);  // set*id, capset, umask (attr.cc)
Answer ExitThread(Kernel& kernel, Syscall& sc);  // exit, without PIDFD_THREAD     (exit.cc)

// rmdir's checks and removal, shared with unlinkat(AT_REMOVEDIR)   (dir.cc)
Answer RemoveDirectory(Location& loc, const Credentials& creds);

}  // namespace ukcov::sentry::syscalls
