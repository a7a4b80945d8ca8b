// The supervisor: receives trapped syscalls on worker threads, keeps the
// task table, and reaps exited tasks and released files on a background
// thread. Plumbing: not instrumented (as Linux does not instrument its
// syscall entry or scheduler); it calls the instrumented kernel code.
#pragma once

#include <sys/epoll.h>
#include <sys/types.h>

#include <pthread.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/unique_fd.h"
#include "sentry/exec_tracer.h"
#include "sentry/host_features.h"
#include "sentry/kernel.h"
#include "sentry/listener.h"

namespace ukcov::sentry {

class Supervisor final : public BlockingCalls, public ExecCalls {
 public:
  Supervisor(Kernel& kernel, Listener& listener, const HostFeatures& features);
  ~Supervisor();

  void Start(int workers);
  // Stops the threads; the guest must be gone. Then finishes what the
  // reaper had not yet seen: exits of the guest's last tasks, releases of
  // its last kcov files.
  void Stop();

  size_t live_tasks();
  // `ukcov run --check-invariants` (src/fuzz/protocol.h): a guest's ioctl
  // UKCOV_FUZZ_CHECK_INVARIANTS checks the engine's and the mounts'
  // invariants, and the sentry aborts if one is broken.
  void EnableInvariantChecks() { check_invariants_ = true; }
  // Notifications served so far (`ukcov run --stats`).
  uint64_t trapped() const { return trapped_.load(std::memory_order_relaxed); }

  void OpenFifo(Syscall& sc, std::string path, int flags, mode_t mode, const Credentials& creds) override;
  void Exec(Syscall& sc, ExecPlan plan) override;
  void Map(Syscall& sc, MapPlan plan) override;

  // Runs `fn` as guest task `tid`, its coverage recorded as for a trapped
  // call (FuseServer::RunAs; `settle`: exits the host reported first).
  // False: `tid` is no guest task (the sentry's own threads, or gone).
  bool RunForTask(pid_t tid, bool settle, const std::function<void(TaskState&)>& fn);

  // The wait status of the sentry's child `pid` if the exec tracer reaped it
  // (it died while traced).
  std::optional<int> ReapedStatus(pid_t pid) { return tracer_.ReapedStatus(pid); }

 private:
  // One BlockingCalls call, on its thread: interrupted (a signal, no
  // SA_RESTART) when the task is gone or the sentry stops.
  struct BlockingCall {
    std::thread thread;
    pthread_t handle{};
    std::atomic<bool> cancelled{false};
    std::atomic<bool> done{false};
    void Cancel();
  };
  // Sends a handler's answer for notification `id`.
  void Respond(uint64_t id, const Answer& answer);
  void Work();
  void Serve(const seccomp_notif& notif);
  // Answers UKCOV_FUZZ_CHECK_INVARIANTS, or aborts.
  void CheckInvariants(uint64_t id);
  void Reap();
  // Processes the exits and releases the host has reported (one batch of
  // reaper events); false if the stop event was among them. Caller holds
  // reap_mu_.
  bool ProcessEvents(const epoll_event* events, int n);
  // Processes, before returning, every exit and release already reported.
  void SettleExits();
  // The task of thread `tid`, made when first seen; null with *error set
  // when it cannot be (ESRCH: the thread is gone).
  std::shared_ptr<TaskState> TaskFor(pid_t tid, int* error);
  // Registers a pidfd with the reaper: a thread's, or (without PIDFD_THREAD)
  // a process's, readable when every thread of it has exited.
  void Watch(int pidfd, pid_t id, bool process);
  // The reaper saw thread `tid`'s pidfd readable. Caller holds reap_mu_.
  void TaskExited(pid_t tid, int pidfd);
  // The reaper saw process `tgid`'s pidfd readable: all its threads are
  // gone. Caller holds reap_mu_.
  void ProcessExited(pid_t tgid, int pidfd);
  // A thread calls exit(2) (trapped without PIDFD_THREAD).
  void ThreadExiting(std::shared_ptr<TaskState> task);
  // Removes and returns every task of `process` but `keep`. Caller holds mu_.
  std::vector<std::shared_ptr<TaskState>> TakeTasksOf(const Process& process, pid_t keep);
  // Runs a task's exit in the kernel; drops a process that has none left.
  void FinishExit(std::shared_ptr<TaskState> task);

  // A non-leader thread's execve (see docs/sentry.md). The host gives the
  // exec'ing thread the leader's tid: its task moves there, and the tasks of
  // the old leader and every other thread are returned to be exited. Caller
  // holds mu_.
  std::vector<std::shared_ptr<TaskState>> TakeOverLeader(std::shared_ptr<TaskState> exec_task);
  // Before serving the leader's tid while `exec_tid` has an exec pending:
  // decides that exec if the thread's old tid is gone.
  void SettleExec(pid_t exec_tid);
  // Whether the exec pending for `process` replaced its image: the old
  // address space is gone while the process lives on.
  bool ExecReplacedImage(Process& process);
  void ForgetExec(Process& process);

  Kernel& kernel_;
  Listener& listener_;
  const HostFeatures features_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> trapped_{0};
  bool check_invariants_ = false;
  // UKCOV_TEST_CRASH_ON_MKDIR: a planted crash, for the tests of what
  // handles crashes (`ukcov fuzz`): abort when a guest mkdirs this name.
  std::string crash_on_mkdir_;
  std::mutex check_mu_;
  std::optional<ukcov_engine_stats> baseline_;  // at the first check (guarded by check_mu_)
  std::string baseline_tasks_;                    // the tasks then (DescribeTasks)
  // One line per task the sentry holds, for a broken invariant's report.
  std::string DescribeTasks();
  UniqueFd epoll_;       // the reaper's: thread pidfds, kcov releases, stop
  UniqueFd stop_event_;  // eventfd
  std::vector<std::thread> workers_;
  std::thread reaper_;
  ExecTracer tracer_;

  std::mutex blocking_mu_;
  std::vector<std::shared_ptr<BlockingCall>> blocking_;  // guarded by blocking_mu_
  std::mutex receive_mu_;  // one worker at a time waits on the listener
  std::mutex reap_mu_;  // one thread at a time processes exits and releases
  std::mutex mu_;
  std::unordered_map<pid_t, std::shared_ptr<TaskState>> tasks_;    // guarded by mu_
  std::unordered_map<pid_t, std::shared_ptr<Process>> processes_;  // guarded by mu_
};

// `ukcov run`: runs argv under the sentry; returns ukcov's exit status.
struct RunOptions {
  std::vector<std::string> argv;
  int workers = 0;  // 0: one per two CPUs
  std::vector<std::string> tmpfs;  // --tmpfs PATH[:OPTIONS], each a mount
  bool gvisor_pcs = false;         // counters backend: gVisor's synthetic PCs
  std::vector<std::string> without;  // host features to do without (HostFeatures::Disable)
  std::string intercept = "auto";    // --intercept: all, served, auto (docs/sentry.md)
  bool stats = false;                // --stats: the calls trapped, on stderr at the end
  std::string coverage;              // --coverage: the whole run's coverage, written here at the end
  bool check_invariants = false;     // --check-invariants: on a guest's request (src/fuzz/protocol.h)
};
int Run(const RunOptions& options);

}  // namespace ukcov::sentry
