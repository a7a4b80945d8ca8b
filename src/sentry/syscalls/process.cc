// clone(2) and friends: remember who creates tasks, so a new task inherits
// its creator's common remote handle (Linux kcov_task_init). (execve(2) is
// in exec.cc.)
#include "sentry/syscalls/syscalls.h"

namespace ukcov::sentry::syscalls {

Answer Clone(Kernel&, Syscall& sc) {
  sc.task.process->last_cloner.store(sc.task.tid, std::memory_order_release);
  return Answer::Continue();
}

}  // namespace ukcov::sentry::syscalls
