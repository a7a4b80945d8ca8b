// clone(2) and friends: remember who creates tasks, so a new task inherits
// its creator's common remote handle (Linux kcov_task_init). execve(2): note
// the exec, which ends every other thread, and gives a non-leader thread
// the leader's tid.
#include <fcntl.h>

#include <string>

#include "sentry/syscalls/syscalls.h"

namespace ukcov::sentry::syscalls {

Answer Clone(Kernel&, Syscall& sc) {
  sc.task.process->last_cloner.store(sc.task.tid, std::memory_order_release);
  return Answer::Continue();
}

Answer Execve(Kernel&, Syscall& sc) {
  Process& process = *sc.task.process;
  // The process's address space, held open: it dies with a successful exec
  // (reads then return 0), and lives on after a failed one.
  UniqueFd mm(open(("/proc/" + std::to_string(sc.task.tid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
  std::lock_guard lock(process.exec_mu);
  process.exec_mm = std::move(mm);
  process.exec_tid.store(sc.task.tid, std::memory_order_release);
  return Answer::Continue();
}

}  // namespace ukcov::sentry::syscalls
