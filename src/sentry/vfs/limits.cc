#include "sentry/vfs/limits.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "sentry/kernel.h"

namespace ukcov::sentry {

uint64_t FileSizeLimit(const TaskState& task) {
  rlimit limit;
  if (prlimit(task.process->tgid, RLIMIT_FSIZE, nullptr, &limit) != 0) return RLIM_INFINITY;
  return limit.rlim_cur;
}

int FileSizeExceeded(const TaskState& task) {
  syscall(SYS_tgkill, task.process->tgid, task.tid, SIGXFSZ);
  return EFBIG;
}

int CheckFileGrowth(const TaskState& task, uint64_t old_size, uint64_t new_size) {
  if (new_size <= old_size) return 0;
  const uint64_t limit = FileSizeLimit(task);
  if (limit != RLIM_INFINITY && new_size > limit) return FileSizeExceeded(task);
  return 0;
}

}  // namespace ukcov::sentry
