// An open file, as one guest fd names it during one call: Linux's struct file
// with its file_operations. Instrumented.
//
// Each filesystem implements File (fs/kcov, fs/tmpfs); a file of the host
// kernel's is fs/host's HostFile, which lets the host answer everything. The
// syscall layer (syscalls/) decodes the ABI, makes the checks Linux makes
// before a file is reached (a negative position, a bad fd), and calls here;
// the filesystem owns the rest. Each default is Linux's answer for a file
// whose file_operations lack the operation.
#pragma once

#include <cstdint>

#include "sentry/kernel.h"
#include "sentry/vfs/inode.h"

namespace ukcov::sentry {

// read(2), write(2) and their positioned and vectored forms, decoded.
struct IoArgs {
  bool reading = false;
  bool vectored = false;    // readv, writev, preadv, pwritev, preadv2, pwritev2
  bool positioned = false;  // an explicit position (preadv2/pwritev2 with -1 have none)
  int64_t position = 0;
  uint64_t buffer = 0;  // the buffer, or the iovec array
  uint64_t count = 0;   // its bytes, or the iovec count
  bool v2 = false;         // preadv2, pwritev2
  uint64_t rw_flags = 0;  // their RWF_*
};

// mmap(2) of the file, decoded.
struct MmapArgs {
  uint64_t length = 0, prot = 0, flags = 0, offset = 0;
  uint64_t address = 0;  // the hint (or MAP_FIXED's address)
};

class File {
 public:
  virtual ~File() = default;

  // An O_PATH description: no operation reaches it (fdget skips it; the
  // syscall layer answers EBADF), but fcntl's few and what takes a path.
  virtual bool PathOnly() const { return false; }
  // The host kernel's own file: the host makes every check as well.
  virtual bool Passthrough() const { return false; }
  // The inode in the sentry's tree the file is open on (its f_inode): what
  // the calls on an fd's inode (fstat, fchmod, fchown, futimens, fsetxattr,
  // fchdir, fstatfs, *at from a dirfd) reach. Null for the host's files.
  virtual InodeRef OpenInode() const { return nullptr; }

  // read_iter/write_iter absent: EINVAL.
  virtual Answer ReadWrite(Kernel& kernel, Syscall& sc, const IoArgs& io);
  // llseek absent (not seekable): ESPIPE.
  virtual Answer Seek(Kernel& kernel, Syscall& sc, int64_t offset, unsigned whence);
  // fsync absent: EINVAL (fsync and fdatasync).
  virtual Answer Fsync(Kernel& kernel, Syscall& sc);
  // unlocked_ioctl absent: ENOTTY. The VFS's own commands (FIOCLEX,
  // FIONCLEX, FIONBIO, FIOASYNC) never reach here.
  virtual Answer Ioctl(Kernel& kernel, Syscall& sc, unsigned cmd, uint64_t arg);
  // mmap absent: ENODEV.
  virtual Answer Mmap(Kernel& kernel, Syscall& sc, const MmapArgs& args);
  // fallocate absent: EOPNOTSUPP (after the VFS's checks of mode, offset
  // and length, made by the syscall layer).
  virtual Answer Fallocate(Kernel& kernel, Syscall& sc, int mode, int64_t offset, int64_t length);
  // iterate_shared absent: ENOTDIR. `legacy`: getdents(2)'s struct
  // linux_dirent rather than getdents64's.
  virtual Answer Getdents(Kernel& kernel, Syscall& sc, uint64_t buffer, uint64_t count, bool legacy);
  // copy_file_range(2), sendfile(2), splice(2) with this file on one side
  // (`out`: the side written). The host moves the bytes between the guest's
  // own struct files where the answer is Continue.
  virtual Answer CopyRange(Kernel& kernel, Syscall& sc, bool out);
  // fcntl(2) commands that concern the open file (status flags, locks,
  // leases, seals...; fd flags and duplication are the host's alone), and
  // flock(2): the guest's struct file is a real host file, so by default
  // the host answers. On an O_PATH description only the commands
  // check_fcntl_cmd allows reach here (the syscall layer answers EBADF).
  virtual Answer Fcntl(Kernel& kernel, Syscall& sc, unsigned cmd, uint64_t arg);
  virtual Answer Flock(Kernel& kernel, Syscall& sc);
};

}  // namespace ukcov::sentry
