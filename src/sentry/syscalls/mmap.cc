// mmap(2) of a file (mm/mmap.c): the offset's alignment, then the file's
// checks; the host makes the mapping.
#include <cerrno>

#include "sentry/fd_table.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/file.h"

namespace ukcov::sentry::syscalls {

Answer Mmap(Kernel& kernel, Syscall& sc) {
  // The mmap the exec tracer made the thread call (MapPlan): the host's.
  if (sc.task.injected.exchange(false, std::memory_order_acq_rel)) return Answer::Continue();
  const MmapArgs args{sc.arg(1), sc.arg(2), sc.arg(3), sc.arg(5), sc.arg(0)};
  if (args.offset & 4095) return Answer::Error(EINVAL);  // before the fd, as Linux
  FileRef file = LookupFd(kernel, sc.task, sc.fd_arg(4));
  if (!file.file) return Answer::Error(file.error);
  if (file.file->PathOnly()) return Answer::Error(EBADF);
  return file.file->Mmap(kernel, sc, args);
}

}  // namespace ukcov::sentry::syscalls
