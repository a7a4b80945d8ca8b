// A task's exit, processed on the supervisor's reaper thread: deferred work
// done on the task's behalf, so it is collected as remote coverage under the
// common handle the task inherited (Linux: kcov_remote_start in a worker).
#include <cerrno>

#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/kernel.h"

namespace ukcov::sentry {

void Kernel::ExitTask(std::shared_ptr<TaskState> task) {
  const uint64_t handle = task->task->common_handle();
  ukcov::RemoteSection section(engine_, handle);  // -ENOENT when no instance registered it
  // Linux kcov_task_exit: an instance the task owns is disabled now. A
  // worker may still be finishing the task's last syscall: the engine's
  // task lives until the last TaskState reference goes.
  task->task->Exited();
  // The process goes with its last task: its pidfd, and with it the
  // sentry's access to the process's fds.
  if (task->process.use_count() == 1) task->process->pidfd.reset();
  task->pidfd.reset();
}

}  // namespace ukcov::sentry
