// A task's exit, processed on the supervisor's reaper thread: deferred work
// done on the task's behalf, so it is collected as remote coverage under the
// common handle the task inherited (Linux: kcov_remote_start in a worker).
#include <cerrno>

#include "sentry/kernel.h"
#include "sentry/syscalls/syscalls.h"

namespace ukcov::sentry {

bool Kernel::ExitTask(std::shared_ptr<TaskState> task) {
  const uint64_t handle = task->task->common_handle();
  ukcov::RemoteSection section(engine_, handle);  // -ENOENT when no instance registered it
  // Linux kcov_task_exit: an instance the task owns is disabled now. A
  // worker may still be finishing the task's last syscall: the engine's
  // task lives until the last TaskState reference goes.
  task->task->Exited();
  // The thread's pidfd and its process's close with their last owner, not
  // here: a worker still serving the task's last syscall may be using them.
  const int left = task->process->live_threads.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (left > 0) return false;
  // The process is gone: the next task to be created by its creator's
  // clone must not be attributed to it.
  task->process->last_cloner.store(0, std::memory_order_release);
  return true;
}

namespace syscalls {

// exit(2), trapped where the host has no PIDFD_THREAD: the only sign of a
// thread's end (a whole process's end shows on its pidfd).
Answer ExitThread(Kernel&, Syscall&) { return Answer::ThreadExit(); }

}  // namespace syscalls
}  // namespace ukcov::sentry
