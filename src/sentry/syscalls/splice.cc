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
  // copy_file_range copies within one superblock only (EXDEV otherwise).
  // The sentry's files are memfds on the host's one internal superblock,
  // with a host memfd or with another mount's files: the host would copy.
  Mount* mounts[2] = {nullptr, nullptr};
  bool host_shmem[2] = {false, false};
  int side = 0;
  for (int fd : {in_fd, out_fd}) {
    FileRef file = LookupFd(kernel, sc.task, fd);
    if (!file.file) return Answer::Error(file.error);
    if (file.file->PathOnly()) return Answer::Error(EBADF);
    Answer answer = file.file->CopyRange(kernel, sc, fd == out_fd);
    if (answer.kind != Answer::Kind::kContinue) return answer;
    mounts[side] = file.mount;
    host_shmem[side] = file.host_memfd;
    side++;
  }
  if (sc.nr() == SYS_copy_file_range && mounts[0] != mounts[1] && (mounts[0] || host_shmem[0]) &&
      (mounts[1] || host_shmem[1])) {
    if (sc.arg(5) != 0) return Answer::Error(EINVAL);
    return Answer::Error(EXDEV);
  }
  return Answer::Continue();
}

}  // namespace ukcov::sentry::syscalls
