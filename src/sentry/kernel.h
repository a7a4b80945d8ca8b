// The sentry's kernel state and the interface between its plumbing (the
// supervisor: not instrumented) and its syscall handlers (instrumented).
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/unique_fd.h"
#include "sentry/credentials.h"
#include "sentry/vfs/inode.h"
#include "sentry/guest_memory.h"
#include "sentry/interception.h"
#include "ukcov/ukcov.hpp"

namespace ukcov::sentry {

class KcovDevice;
class Vfs;
namespace debugfs {
class Filesystem;
}
struct Mount;
struct TaskState;

// A guest process (thread group).
struct Process {
  pid_t tgid = 0;
  // For pidfd_getfd of the leader's table; without PIDFD_THREAD also the
  // reaper's sign that every thread has exited.
  UniqueFd pidfd;
  // The thread of this process that last called clone/fork: the creator of
  // the next new task seen here or in a new child process.
  std::atomic<pid_t> last_cloner{0};
  // Threads of the process the sentry knows and that have not exited.
  std::atomic<int> live_threads{0};
  // Bumped by umask(2), which changes every thread's umask: their cached
  // credentials are stale.
  std::atomic<uint64_t> creds_generation{0};
  // The working directory when it is in one of the sentry's mounts (the
  // host's stays where it was). Guarded by cwd_mu (a leaf lock).
  std::mutex cwd_mu;
  Mount* cwd_mount = nullptr;
  InodeRef cwd_dir;
  // Otherwise the host's, as last read from /proc (chdir and fchdir are
  // trapped and make it stale).
  std::string host_cwd;
  bool host_cwd_valid = false;
  // A thread that called execve, and the address space it had then: if
  // that is gone when the thread's tid disappears (a non-leader) or makes
  // its next syscall (the leader), the exec succeeded: a non-leader lives on
  // with the leader's tid, and every other thread is gone.
  std::atomic<pid_t> exec_tid{0};
  std::mutex exec_mu;
  UniqueFd exec_mm;  // guarded by exec_mu: /proc/TID/mem
  // The thread's old tid is gone but its exec is not decided yet; its
  // TaskState waits in the task table.
  std::atomic<bool> exec_undecided{false};

  // The program of the sentry's tree the process last exec'd (what
  // /proc/PID/exe names while the host's link still leads to its memfd:
  // forks inherit it, a later exec of a host program outdates it).
  struct Exe {
    Mount* mount = nullptr;
    InodeRef inode;
    InodeRef dir;      // the dentry it was run by (a file may have many names)
    std::string name;
  };
  std::mutex exe_mu;
  Exe exe;  // guarded by exe_mu
};

// A guest thread.
struct TaskState : std::enable_shared_from_this<TaskState> {
  pid_t tid = 0;
  std::shared_ptr<Process> process;
  // The engine's view of it. Shared: a non-leader thread that execs lives
  // on under a new TaskState with the leader's tid and the same task.
  std::shared_ptr<ukcov::Task> task;
  // Readable once the thread has exited (PIDFD_THREAD, Linux 6.9+); without
  // it, none: the thread's exit(2) is trapped and its process's pidfd
  // watched.
  UniqueFd pidfd;
  // Filesystem credentials, read when first needed and again after the
  // task changed them (a trapped set*id, capset or umask).
  std::mutex creds_mu;
  std::shared_ptr<const Credentials> creds;  // guarded by creds_mu; null: to be read
  uint64_t creds_generation = 0;             // guarded by creds_mu
  // Set by the exec tracer just before the thread makes the execve or mmap
  // the sentry planned for it (ExecPlan, MapPlan): that call is the host's
  // to run.
  std::atomic<bool> injected{false};
  // Set by the exec tracer while the thread makes a read(-1) it injected:
  // that call installs this fd in the thread's table (its result), as
  // SECCOMP_ADDFD needs a trapped call to install anything. -1: none.
  std::atomic<int> install_fd{-1};
  // A host call made for the task that waits for someone else (a FIFO's
  // open), and how to end the wait once the task is gone.
  std::mutex blocking_mu;
  std::function<void()> cancel_blocking;  // guarded by blocking_mu
};

// One trapped syscall, as the handlers see it.
struct Syscall {
  const seccomp_notif& notif;
  TaskState& task;
  GuestMemory memory;

  int nr() const { return notif.data.nr; }
  uint64_t arg(int i) const { return notif.data.args[i]; }
  int fd_arg(int i) const { return static_cast<int>(notif.data.args[i]); }  // ints are 32-bit in the ABI
};

// A handler's answer.
struct Answer {
  enum class Kind { kContinue, kReturn, kInstallFd, kThreadExit, kDeferred };
  Kind kind = Kind::kContinue;
  int64_t value = 0;  // kReturn: the result, or -errno
  std::shared_ptr<UniqueFd> fd;  // kInstallFd: the file to install in the guest
  bool cloexec = false;

  static Answer Continue() { return {}; }
  static Answer Return(int64_t v) { return {Kind::kReturn, v}; }
  static Answer Error(int e) { return {Kind::kReturn, -static_cast<int64_t>(e)}; }
  static Answer InstallFd(UniqueFd fd, bool cloexec) {
    return {Kind::kInstallFd, 0, std::make_shared<UniqueFd>(std::move(fd)), cloexec};
  }
  // The thread is leaving (exit(2)): its exit is processed now, then the
  // host continues the call.
  static Answer ThreadExit() { return {Kind::kThreadExit}; }
  // The call is answered later, by a host call the handler handed to
  // BlockingCalls, or by the exec tracer (ExecCalls).
  static Answer Deferred() { return {Kind::kDeferred}; }
};

// Host calls made for a guest that can wait indefinitely for another party
// (the guest's own peer): made on a thread of their own, with no lock held
// and no worker waiting, and answered from there; ended when the task is
// gone. Plumbing (the supervisor's).
class BlockingCalls {
 public:
  virtual ~BlockingCalls() = default;
  // open(2) of a host FIFO with `creds`, the fd installed in the guest.
  virtual void OpenFifo(Syscall& sc, std::string path, int flags, mode_t mode, const Credentials& creds) = 0;
};

// An exec the host cannot make from the guest's own arguments: the program
// is a file of the sentry's tree, or a #! line the sentry read chose the
// interpreter (Linux's binfmt_script, run by the sentry so that the script's
// path is the one the guest gave). The guest's thread is made to call
// execveat(fd, "", argv, envp, AT_EMPTY_PATH) on an fd of `program`, or
// execve(host_path, ...), by the exec tracer (docs/sentry.md, "exec").
struct ExecPlan {
  UniqueFd program;       // a description of the sentry's file to run, or
  std::string host_path;  // a host file to run
  // argv: the guest's own array (argv), or argv_head's strings followed by
  // the guest's string pointers argv_rest (the script's arguments).
  bool replace_argv = false;
  std::vector<std::string> argv_head;
  std::vector<uint64_t> argv_rest;
  uint64_t argv = 0;
  uint64_t envp = 0;          // the guest's, always
  uint64_t empty_string = 0;  // a NUL byte in the guest's memory (the end of its path)
  // The task's name after the exec, as Linux sets it: the basename of the
  // path the guest gave, or after an AT_EMPTY_PATH exec either that
  // ("/dev/fd/N": N) or, on kernels that do (6.14, and stable ones since),
  // the name of the file that ran (comm_dentry).
  std::string comm;
  bool empty_path = false;
  std::string comm_dentry;
  // Called on the tracer's thread once the exec has replaced the image,
  // before the new program runs.
  std::function<void()> replaced;
};

// Runs ExecPlans: answers the syscall later (Answer::Deferred). Plumbing
// (the supervisor's exec tracer).
// A mapping the sentry makes the guest's thread create itself (the host
// maps only what a thread asks for): `file`, installed in the thread's table
// for the length of the call, mapped with the guest's own arguments. The
// thread's mmap returns the address, or the host's error.
struct MapPlan {
  UniqueFd file;
  uint64_t address = 0, length = 0, prot = 0, flags = 0, offset = 0;
};

// Calls the sentry makes the guest's thread run (the exec tracer, ptrace):
// each answers the trapped call `sc` in the end.
class ExecCalls {
 public:
  virtual ~ExecCalls() = default;
  virtual void Exec(Syscall& sc, ExecPlan plan) = 0;
  virtual void Map(Syscall& sc, MapPlan plan) = 0;
};

class Kernel {
 public:
  explicit Kernel(ukcov::Engine& engine, Interception interception = Interception::kAll);
  ~Kernel();

  // What the filter traps (docs/sentry.md, "Interception modes"): handlers
  // see only those calls, and nothing they cache may depend on the rest.
  Interception interception() const { return interception_; }
  // The debugfs mounted at /sys/kernel/debug (fs/debugfs).
  debugfs::Filesystem& debugfs() { return *debugfs_; }

  ukcov::Engine& engine() { return engine_; }
  BlockingCalls& blocking() { return *blocking_; }
  void set_blocking(BlockingCalls* blocking) { blocking_ = blocking; }
  ExecCalls& exec() { return *exec_; }
  void set_exec(ExecCalls* exec) { exec_ = exec; }
  KcovDevice& kcov() { return *kcov_; }
  Vfs& vfs() { return *vfs_; }
  dev_t memfd_dev() const { return memfd_dev_; }
  // The task's credentials (read from /proc when stale).
  std::shared_ptr<const Credentials> CredentialsOf(TaskState& task);

  // The syscall table (syscalls/table.cc).
  Answer Dispatch(Syscall& sc);
  // The task has exited (syscalls/exit.cc); runs on the reaper thread.
  // True when it was the last thread of its process.
  bool ExitTask(std::shared_ptr<TaskState> task);

  // Held while instrumented kernel code runs (a syscall served, a task's
  // exit processed) when the engine counts blocks instead of tracing them:
  // the counters are process-wide, so one thread at a time in the kernel is
  // what makes each collection exactly the blocks that ran for that task
  // (docs/design.md). With the trace backend it is never taken.
  // Whether Running serializes (the counters backend).
  bool serializes() const { return serialize_; }

  class Running {
   public:
    explicit Running(Kernel& kernel) : lock_(kernel.exec_mu_, std::defer_lock) {
      if (kernel.serialize_) lock_.lock();
    }

   private:
    std::unique_lock<std::mutex> lock_;
  };

 private:
  ukcov::Engine& engine_;
  BlockingCalls* blocking_ = nullptr;
  ExecCalls* exec_ = nullptr;
  std::unique_ptr<KcovDevice> kcov_;
  std::unique_ptr<Vfs> vfs_;
  const Interception interception_;
  debugfs::Filesystem* debugfs_ = nullptr;
  dev_t memfd_dev_ = 0;  // the device of every memfd: the sentry's files
  bool serialize_ = false;  // the counters backend: see Running
  std::mutex exec_mu_;
};

}  // namespace ukcov::sentry
