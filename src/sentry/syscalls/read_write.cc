// read(2)/write(2) and their positioned and vectored forms, lseek(2),
// fsync(2): on the kcov file, what Linux says of a file with none of these
// operations.
#include <fcntl.h>
#include <sys/syscall.h>

#include <cerrno>

#include "sentry/fd_table.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/tmpfs_ops.h"

namespace ukcov::sentry::syscalls {

Answer ReadWrite(Kernel& kernel, Syscall& sc) {
  const int nr = sc.nr();
  const bool reading = nr == SYS_read || nr == SYS_pread64 || nr == SYS_readv || nr == SYS_preadv ||
                       nr == SYS_preadv2;
  // Positioned forms check the position before the fd; preadv2/pwritev2
  // with -1 use the file position like readv/writev.
  bool positioned = nr == SYS_pread64 || nr == SYS_pwrite64 || nr == SYS_preadv || nr == SYS_pwritev;
  if (nr == SYS_preadv2 || nr == SYS_pwritev2) positioned = static_cast<int64_t>(sc.arg(3)) != -1;
  if (positioned && static_cast<int64_t>(sc.arg(3)) < 0) return Answer::Error(EINVAL);

  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  switch (file.kind) {
    case FileRef::Kind::kBad:
      return Answer::Error(file.error);
    case FileRef::Kind::kHost:
      return Answer::Continue();
    case FileRef::Kind::kKcov:
      break;
    case FileRef::Kind::kTmpfs: {
      const bool vectored = nr == SYS_readv || nr == SYS_writev || nr == SYS_preadv || nr == SYS_pwritev ||
                            nr == SYS_preadv2 || nr == SYS_pwritev2;
      return TmpfsReadWrite(kernel, sc, file, reading, vectored, positioned, static_cast<int64_t>(sc.arg(3)));
    }
  }
  // kcov is opened non-seekable: no positioned I/O at all.
  if (positioned) return Answer::Error(ESPIPE);
  int mode = file.kcov->access_mode;
  if (reading ? mode == O_WRONLY : mode == O_RDONLY) return Answer::Error(EBADF);
  return Answer::Error(EINVAL);  // no read or write operation
}

Answer Lseek(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (file.kind == FileRef::Kind::kBad) return Answer::Error(file.error);
  if (file.kind == FileRef::Kind::kHost) return Answer::Continue();
  if (file.kind == FileRef::Kind::kTmpfs) return TmpfsLseek(kernel, sc, file);
  return Answer::Error(ESPIPE);
}

Answer Fsync(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (file.kind == FileRef::Kind::kBad) return Answer::Error(file.error);
  if (file.kind == FileRef::Kind::kHost) return Answer::Continue();
  if (file.kind == FileRef::Kind::kTmpfs) return TmpfsFsync(kernel, file);
  return Answer::Error(EINVAL);  // no fsync operation
}

}  // namespace ukcov::sentry::syscalls
