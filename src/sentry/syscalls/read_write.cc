// read(2)/write(2) and their positioned and vectored forms, lseek(2),
// fsync(2), fdatasync(2) (fs/read_write.c, fs/sync.c): the checks made
// before a file is reached, then the file's operations.
#include <sys/syscall.h>

#include <cerrno>

#include "sentry/fd_table.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry::syscalls {

Answer ReadWrite(Kernel& kernel, Syscall& sc) {
  const int nr = sc.nr();
  IoArgs io;
  io.reading = nr == SYS_read || nr == SYS_pread64 || nr == SYS_readv || nr == SYS_preadv || nr == SYS_preadv2;
  io.vectored = nr == SYS_readv || nr == SYS_writev || nr == SYS_preadv || nr == SYS_pwritev || nr == SYS_preadv2 ||
                nr == SYS_pwritev2;
  io.v2 = nr == SYS_preadv2 || nr == SYS_pwritev2;
  // Positioned forms check the position before the fd; preadv2/pwritev2
  // with -1 use the file position like readv/writev.
  io.positioned = nr == SYS_pread64 || nr == SYS_pwrite64 || nr == SYS_preadv || nr == SYS_pwritev;
  if (io.v2) io.positioned = static_cast<int64_t>(sc.arg(3)) != -1;
  io.position = static_cast<int64_t>(sc.arg(3));
  if (io.positioned && io.position < 0) return Answer::Error(EINVAL);
  io.buffer = sc.arg(1);
  io.count = sc.arg(2);
  if (io.v2) io.rw_flags = sc.arg(5);
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (!file.file) return Answer::Error(file.error);
  if (file.file->PathOnly()) return Answer::Error(EBADF);
  return file.file->ReadWrite(kernel, sc, io);
}

Answer Lseek(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (!file.file) return Answer::Error(file.error);
  if (file.file->PathOnly()) return Answer::Error(EBADF);
  return file.file->Seek(kernel, sc, static_cast<int64_t>(sc.arg(1)), static_cast<unsigned>(sc.arg(2)));
}

Answer Fsync(Kernel& kernel, Syscall& sc) {
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (!file.file) return Answer::Error(file.error);
  if (file.file->PathOnly()) return Answer::Error(EBADF);
  return file.file->Fsync(kernel, sc);
}

Answer FileHint(Kernel& kernel, Syscall& sc) {
  // fdget: an O_PATH description (to the host, a token memfd of the
  // sentry's) is no fd for these. The rest is the host's.
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(0));
  if (!file.file) return Answer::Error(file.error);
  if (file.file->PathOnly()) return Answer::Error(EBADF);
  return Answer::Continue();
}

}  // namespace ukcov::sentry::syscalls
