// The exec tracer: makes a guest thread run the exec the sentry planned for
// it (ExecPlan) when the host cannot run the guest's own arguments (a
// program in a mount of the sentry's, a #! line the sentry read). Plumbing:
// not instrumented.
//
// A seccomp listener can only let the host run a syscall as the guest made
// it. So the tracer, one thread that owns every ptrace request, takes the
// thread for the length of its exec (docs/sentry.md, "exec"):
//   1. PTRACE_SEIZE it, PTRACE_INTERRUPT, and answer the trapped execve
//      with -ERESTARTNOINTR: the thread leaves the syscall and stops;
//   2. at that stop, make it run calls from its own syscall instruction:
//      unshare(CLONE_FILES) if its fd table is its parent process's too (as
//      the exec will, so that nothing lands in the parent's); a read(-1)
//      the workers answer by installing the program's fd (SECCOMP_ADDFD
//      needs a trapped call; close-on-exec; TaskState::install_fd); an
//      mmap for a new argv when the plan has one; then the planned call
//      (execveat(fd, "", argv, envp, AT_EMPTY_PATH)), which the workers let
//      through (TaskState::injected);
//   3. success (PTRACE_EVENT_EXEC): name the task as Linux would
//      (PR_SET_NAME, from a syscall instruction of the new image's vDSO),
//      and detach; failure: unmap, close the fd, restore every register
//      with the exec's error, and detach.
// Signals that arrive meanwhile are held and sent again after the detach.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "sentry/kernel.h"
#include "sentry/listener.h"

namespace ukcov::sentry {

class ExecTracer {
 public:
  explicit ExecTracer(Listener& listener);
  ~ExecTracer();

  void Start();
  // Ends the thread after the exec it is guiding; the rest are failed.
  void Stop();

  // Runs `plan` for the thread whose trapped execve is notification `id`.
  void Submit(std::shared_ptr<TaskState> task, uint64_t id, ExecPlan plan);
  // Runs `plan` for the thread whose trapped mmap is notification `id`:
  // the same stop, an injected read(-1) that installs the file, the mmap,
  // a close, and the mmap's result as the trapped call's.
  void Submit(std::shared_ptr<TaskState> task, uint64_t id, MapPlan plan);
  // Returns once every request submitted so far is done and let go of: its
  // thread's TaskState (and so the engine's task) and its plan's files. A
  // request holds them until just after it has let its thread go, so a
  // program can end, and be reaped, before the tracer has dropped them.
  void AwaitIdle();

  // The wait status of sentry child `pid` if the tracer reaped it: a
  // process that died while it was traced is reported to the tracer's
  // thread group, and this thread may have been the one to see it.
  std::optional<int> ReapedStatus(pid_t pid);

 private:
  struct Request {
    std::shared_ptr<TaskState> task;
    uint64_t id;
    ExecPlan plan;
    std::optional<MapPlan> map;  // a mapping instead of an exec
  };
  void Run();
  void Guide(Request& request);
  void GuideMap(Request& request);

  Listener& listener_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  bool busy_ = false;          // a request is being guided (guarded by mu_)
  std::condition_variable idle_cv_;
  // Whether the host names a task after the file an AT_EMPTY_PATH exec ran
  // (ExecPlan::comm_dentry): learnt at the first exec of an fd (-1: not
  // yet; assumed). Tracer thread only.
  int comm_from_dentry_ = -1;
  std::mutex exits_mu_;
  std::unordered_map<pid_t, int> exits_;  // guarded by exits_mu_
};

}  // namespace ukcov::sentry
