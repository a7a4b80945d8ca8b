// copy_file_range(2), sendfile(2), splice(2) (fs/read_write.c,
// fs/splice.c): each side's file is asked first (the input's first, as
// Linux looks them up); the host moves the bytes.
#include <sys/syscall.h>

#include <cerrno>

#include "sentry/fd_table.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry::syscalls {

Answer CopyRange(Kernel& kernel, Syscall& sc) {
  int in_fd, out_fd;
  switch (sc.nr()) {
    case SYS_sendfile:
      out_fd = sc.fd_arg(0);
      in_fd = sc.fd_arg(1);
      break;
    default:  // copy_file_range, splice: (in, off_in, out, off_out, ...)
      in_fd = sc.fd_arg(0);
      out_fd = sc.fd_arg(2);
      break;
  }
  for (int fd : {in_fd, out_fd}) {
    FileRef file = LookupFd(kernel, sc.task, fd);
    if (!file.file) return Answer::Error(file.error);
    if (file.file->PathOnly()) return Answer::Error(EBADF);
    Answer answer = file.file->CopyRange(kernel, sc, fd == out_fd);
    if (answer.kind != Answer::Kind::kContinue) return answer;
  }
  return Answer::Continue();
}

}  // namespace ukcov::sentry::syscalls
