#include "sentry/supervisor.h"

#include "engine/counters.h"
#include "fuzz/protocol.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <optional>
#include <string>

#include "sentry/coverage_file.h"
#include "sentry/credentials.h"
#include "sentry/filter.h"
#include "sentry/host_features.h"
#include "sentry/fs/debugfs/debugfs.h"
#include "sentry/fs/debugfs/served.h"
#include "sentry/fs/tmpfs/served.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/fs/kcov/kcov_device.h"
#include "sentry/fuse_server.h"
#include "sentry/interception.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/launcher.h"
#include "sentry/proc_ids.h"
#include "sentry/vfs/vfs.h"
#include "sentry/seccomp_compat.h"

namespace ukcov::sentry {
namespace {

// Reaper event tags: the stop event, kcov releases, and pidfds as
// (fd << 32 | id), with kProcessBit for a process's (its tgid).
constexpr uint64_t kStopTag = ~0ull;
constexpr uint64_t kKcovTag = ~0ull - 1;
constexpr uint64_t kProcessBit = 1ull << 62;

int PidfdOpen(pid_t pid, unsigned flags) { return static_cast<int>(syscall(SYS_pidfd_open, pid, flags)); }

// Whether the process or thread of `pidfd` has ended: its pidfd is readable.
bool PidfdEnded(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

// A served syscall occupies a guest thread and a worker on one CPU (the
// wake-ups hand the CPU over), so half the CPUs' worth of workers keeps every
// CPU busy; on 2 CPUs one worker measured faster than two, with the same
// throughput for 2 and 4 guest threads (docs/performance.md).
int DefaultWorkers() {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus > 1 ? static_cast<int>((cpus + 1) / 2) : 1;
}

void Interrupt(int) {}  // a blocking call's wait ends with EINTR

}  // namespace

Supervisor::Supervisor(Kernel& kernel, Listener& listener, const HostFeatures& features)
    : kernel_(kernel), listener_(listener), features_(features), epoll_(epoll_create1(EPOLL_CLOEXEC)),
      stop_event_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), tracer_(listener) {
  if (const char* name = std::getenv("UKCOV_TEST_CRASH_ON_MKDIR"); name != nullptr) crash_on_mkdir_ = name;
  epoll_event ev{EPOLLIN, {.u64 = kStopTag}};
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, stop_event_.get(), &ev);
  ev.data.u64 = kKcovTag;
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, kernel_.kcov().inotify_fd(), &ev);
  kernel_.set_blocking(this);
  kernel_.set_exec(this);

}

Supervisor::~Supervisor() { Stop(); }

void Supervisor::Start(int workers) {
  struct sigaction sa {};
  sa.sa_handler = Interrupt;  // no SA_RESTART: the interrupted call returns EINTR
  sigaction(SIGUSR2, &sa, nullptr);  // The guest blocks as soon as it has woken a worker, and the worker as soon
  // as it has answered: handing the CPU over directly is 15x faster than a
  // wake-up on another CPU here (docs/performance.md). A hint only: it is
  // correct with any number of workers.
  if (features_.sync_wake_up) listener_.EnableSyncWakeUp();
  for (int i = 0; i < workers; i++) workers_.emplace_back([this] { Work(); });
  reaper_ = std::thread([this] { Reap(); });
  tracer_.Start();
}

void Supervisor::Stop() {
  if (stopping_.exchange(true)) return;
  // The event stays readable: every worker and the reaper see it.
  uint64_t one = 1;
  (void)!write(stop_event_.get(), &one, sizeof one);
  for (auto& w : workers_) w.join();
  tracer_.Stop();
  {
    std::lock_guard lock(blocking_mu_);
    for (auto& call : blocking_) {
      call->Cancel();
      call->thread.join();
    }
    blocking_.clear();
  }
  if (reaper_.joinable()) reaper_.join();
  std::unordered_map<pid_t, std::shared_ptr<TaskState>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(tasks_);
    processes_.clear();
  }
  for (auto& [_, task] : left) {
    Kernel::Running running(kernel_);
    kernel_.ExitTask(std::move(task));
  }
  kernel_.kcov().ReleaseClosed();
  for (auto& mount : kernel_.vfs().mounts()) mount->fs->DrainReleases();
}

size_t Supervisor::live_tasks() {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

void Supervisor::Work() {
  seccomp_notif notif;
  for (;;) {
    Result<void> received;
    {
      // One worker at a time waits on the listener and the stop event, so
      // that a notification poll() announced is there for NOTIF_RECV (which
      // blocks, and no signal is needed to end a wait: stop is an event).
      std::lock_guard lock(receive_mu_);
      pollfd fds[2] = {{listener_.fd(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents & POLLIN) return;
      // POLLHUP: no guest is left under the filter; nothing more will come.
      if (!(fds[0].revents & POLLIN)) return;
      received = listener_.Receive(&notif);
    }
    if (!received) {
      if (received.error() == EINTR || received.error() == ENOENT) continue;  // withdrawn: killed, interrupted
      return;
    }
    Serve(notif);
  }
}

void Supervisor::Serve(const seccomp_notif& notif) {
  trapped_.fetch_add(1, std::memory_order_relaxed);
  if (!crash_on_mkdir_.empty() && (notif.data.nr == SYS_mkdir || notif.data.nr == SYS_mkdirat)) {
    GuestMemory memory(static_cast<pid_t>(notif.pid), listener_.fd(), notif.id);
    Result<std::string> path = memory.ReadString(notif.data.args[notif.data.nr == SYS_mkdir ? 0 : 1], PATH_MAX);
    if (path && path->substr(path->rfind('/') + 1) == crash_on_mkdir_) {
      std::fprintf(stderr, "ukcov run: UKCOV_TEST_CRASH_ON_MKDIR: a guest made %s: aborting, as planted\n",
                   path->c_str());
      std::abort();
    }
  }
  if (check_invariants_ && notif.data.nr == SYS_ioctl &&
      static_cast<unsigned int>(notif.data.args[1]) == UKCOV_FUZZ_CHECK_INVARIANTS) {
    CheckInvariants(notif.id);
    return;
  }
  if (notif.data.nr == SYS_ioctl && KcovDevice::DependsOnExits(static_cast<unsigned int>(notif.data.args[1])))
    SettleExits();
  int error = 0;
  std::shared_ptr<TaskState> task = TaskFor(static_cast<pid_t>(notif.pid), &error);
  if (task) {
    Process& process = *task->process;
    const pid_t exec_tid = process.exec_tid.load(std::memory_order_acquire);
    if (exec_tid == task->tid) {
      // Back from its execve. A non-leader's failed; the leader's replaced
      // the image if the old address space is gone, and ended every other
      // thread.
      if (task->tid == process.tgid && ExecReplacedImage(process)) {
        std::vector<std::shared_ptr<TaskState>> ended;
        {
          std::lock_guard reap_lock(reap_mu_);
          {
            std::lock_guard lock(mu_);
            ended = TakeTasksOf(process, task->tid);
          }
          for (auto& t : ended) FinishExit(std::move(t));
        }
      }
      ForgetExec(process);
    } else if (exec_tid != 0 && task->tid == process.tgid) {
      // The leader's tid may now be the exec'ing thread's: its old tid is
      // gone before the new program runs. Settle that first.
      SettleExec(exec_tid);
      task = TaskFor(static_cast<pid_t>(notif.pid), &error);
    }
  }
  if (!task) {
    // Gone already (the notification is stale: any answer will do), or not
    // to be served: never passed to the host unseen.
    if (error == ESRCH)
      listener_.Continue(notif.id);
    else
      listener_.Fail(notif.id, error);
    return;
  }
  if (notif.data.nr == SYS_read && static_cast<int>(notif.data.args[0]) == -1) {
    // The exec tracer's read(-1): the program's fd for the thread's table.
    if (int fd = task->install_fd.exchange(-1, std::memory_order_acq_rel); fd >= 0) {
      int64_t installed = listener_.InstallFdAndReturn(notif.id, fd, /*cloexec=*/true);
      if (installed < 0 && installed != -ENOENT) listener_.Fail(notif.id, static_cast<int>(-installed));
      return;
    }
  }
  // What the host has reported released by now (the guest's earlier closes,
  // unmaps and exits: each reported before the guest's call returned) is
  // processed before this call, so that the call finds the same state
  // whatever the timing (docs/coverage.md, "Stable").
  for (auto& mount : kernel_.vfs().mounts()) mount->fs->DrainReleases();
  Answer answer;
  {
    Kernel::Running running(kernel_);
    // The task's coverage is written before the syscall returns to it.
    ukcov::Serving serving(*task->task);
    Syscall sc{notif, *task, GuestMemory(task->tid, listener_.fd(), notif.id)};
    answer = kernel_.Dispatch(sc);
  }
  if (answer.kind == Answer::Kind::kThreadExit) {
    // Linux releases the thread's kcov in do_exit, before anyone can see
    // it gone: processed before the host lets it go.
    ThreadExiting(std::move(task));
    listener_.Continue(notif.id);
    return;
  }
  Respond(notif.id, answer);
}

void Supervisor::Respond(uint64_t id, const Answer& answer) {
  switch (answer.kind) {
    case Answer::Kind::kContinue:
      listener_.Continue(id);
      break;
    case Answer::Kind::kReturn:
      if (answer.value < 0)
        listener_.Fail(id, static_cast<int>(-answer.value));
      else
        listener_.Return(id, answer.value);
      break;
    case Answer::Kind::kInstallFd: {
      int64_t fd = listener_.InstallFdAndReturn(id, answer.fd->get(), answer.cloexec);
      if (fd < 0 && fd != -ENOENT) listener_.Fail(id, static_cast<int>(-fd));
      break;  // our copy of the file closes here: the guest's are its own
    }
    case Answer::Kind::kThreadExit:
    case Answer::Kind::kDeferred:  // answered by its BlockingCall
      break;
  }
}

void Supervisor::Exec(Syscall& sc, ExecPlan plan) {
  tracer_.Submit(sc.task.shared_from_this(), sc.notif.id, std::move(plan));
}

bool Supervisor::RunForTask(pid_t tid, bool settle, const std::function<void(TaskState&)>& fn) {
  if (settle) SettleExits();
  std::shared_ptr<TaskState> task;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(tid);
    if (it != tasks_.end()) task = it->second;
  }
  if (!task) {
    // Not seen yet: a guest thread (made here), or one of the sentry's own.
    pid_t tgid = 0, ppid = 0;
    ReadIds(tid, &tgid, &ppid);
    if (tgid == 0 || tgid == getpid()) return false;
    int error = 0;
    task = TaskFor(tid, &error);
  }
  if (!task) return false;
  Kernel::Running running(kernel_);
  ukcov::Serving serving(*task->task);
  fn(*task);
  return true;
}

void Supervisor::Map(Syscall& sc, MapPlan plan) {
  tracer_.Submit(sc.task.shared_from_this(), sc.notif.id, std::move(plan));
}

void Supervisor::BlockingCall::Cancel() {
  cancelled = true;
  // Until the call has seen it: the signal may come before the call blocks.
  while (!done.load()) {
    pthread_kill(handle, SIGUSR2);
    usleep(1000);
  }
}

void Supervisor::OpenFifo(Syscall& sc, std::string path, int flags, mode_t mode, const Credentials& creds) {
  // Called by a handler: the task comes from its own state, not from the
  // task table (whose lock a handler never takes).
  std::shared_ptr<TaskState> task = sc.task.weak_from_this().lock();
  const uint64_t id = sc.notif.id;
  auto call = std::make_shared<BlockingCall>();
  std::lock_guard lock(blocking_mu_);
  // Calls that have ended are joined here; the rest at Stop.
  std::erase_if(blocking_, [](const std::shared_ptr<BlockingCall>& c) {
    if (!c->done.load()) return false;
    c->thread.join();
    return true;
  });
  call->thread = std::thread([this, call, id, path, flags, mode, creds] {
    UniqueFd file;
    int error = EINTR;
    while (!call->cancelled.load()) {
      AsGuest as_guest(creds);
      file.reset(open(path.c_str(), flags | O_CLOEXEC, mode));
      error = errno;
      if (file || error != EINTR) break;
    }
    if (file)
      Respond(id, Answer::InstallFd(std::move(file), flags & O_CLOEXEC));
    else
      listener_.Fail(id, error);  // a cancelled call's guest is gone: no one hears
    call->done = true;
  });
  call->handle = call->thread.native_handle();
  blocking_.push_back(call);
  if (task) {
    std::lock_guard task_lock(task->blocking_mu);
    task->cancel_blocking = [call] { call->Cancel(); };
  }
  // Killed before the cancel was in place: no exit will come to end it.
  uint64_t pending = id;
  if (!task || ioctl(listener_.fd(), SECCOMP_IOCTL_NOTIF_ID_VALID, &pending) != 0) call->Cancel();
}

std::shared_ptr<TaskState> Supervisor::TaskFor(pid_t tid, int* error) {
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(tid);
    if (it != tasks_.end()) return it->second;
  }
  pid_t tgid, ppid;
  ReadIds(tid, &tgid, &ppid);
  if (tgid == 0) return *error = ESRCH, nullptr;
  {
    // A process of this tgid that has ended (its pidfd readable) but whose
    // end the reaper has not processed yet is not this thread's: a reused
    // pid. Settle it first.
    std::unique_lock lock(mu_);
    auto known = processes_.find(tgid);
    if (known != processes_.end()) {
      if (PidfdEnded(known->second->pidfd.get())) {
        lock.unlock();
        SettleExits();
      }
    }
  }
  // A thread pidfd is readable when the thread exits (6.9+).
  UniqueFd pidfd;
  if (features_.pidfd_thread) {
    pidfd.reset(PidfdOpen(tid, PIDFD_THREAD));
    if (!pidfd) return *error = errno, nullptr;
  }

  std::lock_guard lock(mu_);
  auto it = tasks_.find(tid);  // another worker may have raced us
  if (it != tasks_.end()) return it->second;
  auto& process = processes_[tgid];
  const bool new_process = process == nullptr;
  if (new_process) {
    UniqueFd process_pidfd(PidfdOpen(tgid, 0));
    if (!process_pidfd) {
      processes_.erase(tgid);
      return *error = errno, nullptr;
    }
    process = std::make_shared<Process>();
    process->tgid = tgid;
    process->pidfd = std::move(process_pidfd);
    // The process lives until its pidfd says every thread of it is gone:
    // not when the threads the sentry has seen have exited (a thread may
    // not have made a trapped call yet), nor when its leader has.
    Watch(process->pidfd.get(), tgid, /*process=*/true);
  }
  auto state = std::make_shared<TaskState>();
  state->tid = tid;
  state->process = process;
  if (new_process) {
    // A new process starts in its parent's working directory.
    auto parent = processes_.find(ppid);
    if (parent != processes_.end()) {
      std::lock_guard cwd_lock(parent->second->cwd_mu);  // the new process is not shared yet
      process->cwd_mount = parent->second->cwd_mount;
      process->cwd_dir = parent->second->cwd_dir;
      std::lock_guard exe_lock(parent->second->exe_mu);  // and runs its program
      process->exe = parent->second->exe;
    }
  }
  // The creator: the cloner of this process (a new thread) or of the parent
  // process (a new process); its common handle is inherited.
  std::shared_ptr<Process> creator_process = process;
  if (new_process) {
    auto parent = processes_.find(ppid);
    creator_process = parent == processes_.end() ? nullptr : parent->second;
  }
  std::shared_ptr<TaskState> creator;
  if (creator_process) {
    auto c = tasks_.find(creator_process->last_cloner.load(std::memory_order_acquire));
    if (c != tasks_.end()) creator = c->second;
  }
  auto task = creator ? creator->task->Fork() : ukcov::Task::Create(kernel_.engine());
  if (!task) {
    if (new_process) processes_.erase(tgid);
    return *error = task.error(), nullptr;
  }
  process->live_threads.fetch_add(1, std::memory_order_acq_rel);
  state->task = std::make_shared<ukcov::Task>(std::move(task.value()));
  state->pidfd = std::move(pidfd);
  if (state->pidfd) Watch(state->pidfd.get(), tid, /*process=*/false);
  tasks_[tid] = state;
  return state;
}

void Supervisor::Watch(int pidfd, pid_t id, bool process) {
  epoll_event ev{EPOLLIN, {.u64 = (process ? kProcessBit : 0) | (static_cast<uint64_t>(pidfd) << 32) |
                                  static_cast<uint32_t>(id)}};
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, pidfd, &ev);
}

std::vector<std::shared_ptr<TaskState>> Supervisor::TakeTasksOf(const Process& process, pid_t keep) {
  std::vector<std::shared_ptr<TaskState>> taken;
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (it->second->process.get() == &process && it->first != keep) {
      if (it->second->pidfd) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second->pidfd.get(), nullptr);
      taken.push_back(std::move(it->second));
      it = tasks_.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

void Supervisor::ProcessExited(pid_t tgid, int pidfd) {
  std::vector<std::shared_ptr<TaskState>> exited;
  {
    std::lock_guard lock(mu_);
    auto it = processes_.find(tgid);
    if (it == processes_.end() || it->second->pidfd.get() != pidfd) return;
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, pidfd, nullptr);
    // Threads whose own exit was not seen (without thread pidfds, every
    // thread that did not call exit(2)) end with it.
    exited = TakeTasksOf(*it->second, 0);
    ForgetExec(*it->second);
    processes_.erase(it);
  }
  for (auto& task : exited) FinishExit(std::move(task));
}

void Supervisor::ThreadExiting(std::shared_ptr<TaskState> task) {
  std::lock_guard reap_lock(reap_mu_);
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(task->tid);
    if (it == tasks_.end() || it->second != task) return;  // already ended
    tasks_.erase(it);
  }
  FinishExit(std::move(task));
}

void Supervisor::Reap() {
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epoll_.get(), events, 64, -1);
    if (n < 0 && errno != EINTR) return;
    std::lock_guard lock(reap_mu_);
    if (!ProcessEvents(events, n)) return;
  }
}

bool Supervisor::ProcessEvents(const epoll_event* events, int n) {
  bool go_on = true;
  for (int i = 0; i < n; i++) {
    uint64_t tag = events[i].data.u64;
    if (tag == kStopTag) {
      go_on = false;
      continue;
    }
    if (tag == kKcovTag) {
      kernel_.kcov().ReleaseClosed();
      continue;
    }
    if (tag & kProcessBit) {
      ProcessExited(static_cast<pid_t>(tag & 0xffffffff), static_cast<int>((tag & ~kProcessBit) >> 32));
      continue;
    }

    TaskExited(static_cast<pid_t>(tag & 0xffffffff), static_cast<int>(tag >> 32));
  }
  return go_on;
}

void Supervisor::CheckInvariants(uint64_t id) {
  // What the host has reported (exits, kcov releases, tmpfs releases) is
  // processed first: the asker has reaped every task of the program. The
  // exec tracer may still hold an ended thread's TaskState (it lets go of
  // it just after letting the thread go): waited for too.
  tracer_.AwaitIdle();
  SettleExits();
  kernel_.kcov().ReleaseClosed();
  for (auto& mount : kernel_.vfs().mounts()) mount->fs->DrainReleases();
  ukcov_engine_stats stats = kernel_.engine().stats();
  std::string problems;
  {
    std::lock_guard lock(check_mu_);
    if (!baseline_) {
      baseline_ = stats;
      baseline_tasks_ = DescribeTasks();
    }
    if (stats.tasks != baseline_->tasks || stats.instances != baseline_->instances ||
        stats.handles != baseline_->handles) {
      char line[200];
      std::snprintf(line, sizeof line,
                    "the engine holds %llu tasks, %llu instances, %llu remote handles; before: %llu, %llu, %llu\n",
                    static_cast<unsigned long long>(stats.tasks), static_cast<unsigned long long>(stats.instances),
                    static_cast<unsigned long long>(stats.handles),
                    static_cast<unsigned long long>(baseline_->tasks),
                    static_cast<unsigned long long>(baseline_->instances),
                    static_cast<unsigned long long>(baseline_->handles));
      problems += line;
      problems += "now:\n" + DescribeTasks() + "at the first check:\n" + baseline_tasks_;
    }
  }
  for (auto& mount : kernel_.vfs().mounts()) mount->fs->Check(&problems);
  ukcov::engine::NoteUncollected();  // the checks' counts are nobody's (FinishExit)
  if (!problems.empty()) {
    std::fprintf(stderr, "ukcov run: invariants broken (--check-invariants):\n%s", problems.c_str());
    std::abort();
  }
  listener_.Return(id, 0);
}

std::string Supervisor::DescribeTasks() {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [tid, task] : tasks_) {
    const Process& process = *task->process;
    char line[200];
    std::snprintf(line, sizeof line, "  task %d of process %d: thread pidfd %s, process %s, exec pending for %d%s\n",
                  tid, process.tgid, task->pidfd ? "held" : "none",
                  PidfdEnded(process.pidfd.get()) ? "ended" : "running",
                  process.exec_tid.load(std::memory_order_relaxed), process.exec_undecided ? " (undecided)" : "");
    out += line;
  }
  return out;
}

void Supervisor::SettleExits() {
  // Waiting for reap_mu_ also waits for exits the reaper took but has not
  // finished; what is still pending, this thread processes (TaskExited and
  // ReleaseClosed are idempotent).
  std::lock_guard lock(reap_mu_);
  epoll_event events[64];
  int n;
  do {
    n = epoll_wait(epoll_.get(), events, 64, 0);
    if (n > 0 && !ProcessEvents(events, n)) return;  // stopping: Stop() finishes the rest
  } while (n == 64);
}

void Supervisor::TaskExited(pid_t tid, int pidfd) {
  std::vector<std::shared_ptr<TaskState>> exited;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(tid);
    if (it == tasks_.end() || it->second->pidfd.get() != pidfd) return;
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, pidfd, nullptr);
    Process& process = *it->second->process;
    if (tid != process.tgid && process.exec_tid.load(std::memory_order_acquire) == tid) {
      // Its tid is gone while it had an exec pending. Whether the exec took
      // the leader's tid may not be decidable yet (see ExecReplacedImage):
      // then the task waits for the leader's next syscall.
      if (!ExecReplacedImage(process)) {
        process.exec_undecided = true;
        return;
      }
      exited = TakeOverLeader(std::move(it->second));
    } else {
      exited.push_back(std::move(it->second));
      tasks_.erase(it);
      if (tid == process.tgid && process.exec_undecided) {
        // The process ends with an undecided exec: the thread is gone too.
        auto pending = tasks_.find(process.exec_tid.load(std::memory_order_relaxed));
        if (pending != tasks_.end()) {
          exited.push_back(std::move(pending->second));
          tasks_.erase(pending);
        }
        ForgetExec(process);
      }
    }
  }
  for (auto& task : exited) FinishExit(std::move(task));
}

void Supervisor::FinishExit(std::shared_ptr<TaskState> task) {
  if (!task) return;
  std::function<void()> cancel;
  {
    std::lock_guard lock(task->blocking_mu);
    cancel = std::move(task->cancel_blocking);
  }
  if (cancel) cancel();  // a host call it waits in ends with it
  Kernel::Running running(kernel_);
  kernel_.ExitTask(std::move(task));
  // Counters backend: the exit ran outside any task's serving, whenever the
  // host reported it; its counts are nobody's, and the next task to enter
  // drops them (else whichever task left next had them, by timing).
  ukcov::engine::NoteUncollected();
}

std::vector<std::shared_ptr<TaskState>> Supervisor::TakeOverLeader(std::shared_ptr<TaskState> exec_task) {
  // The thread lives on as the leader, with its task (coverage continues
  // across execve); what exited is the old leader, killed by the exec.
  Process& process = *exec_task->process;
  tasks_.erase(exec_task->tid);
  if (features_.pidfd_thread) {
    UniqueFd leader(PidfdOpen(process.tgid, PIDFD_THREAD));
    if (!leader) {
      // Already gone (the process ended since): the thread exited too.
      std::vector<std::shared_ptr<TaskState>> ended = TakeTasksOf(process, 0);
      ended.push_back(std::move(exec_task));
      ForgetExec(process);
      return ended;
    }
  }
  auto state = std::make_shared<TaskState>();
  state->tid = process.tgid;
  state->process = exec_task->process;
  state->task = exec_task->task;
  if (features_.pidfd_thread) state->pidfd.reset(PidfdOpen(process.tgid, PIDFD_THREAD));
  // The old leader, and every other thread, were ended by the exec.
  std::vector<std::shared_ptr<TaskState>> ended = TakeTasksOf(process, 0);
  if (state->pidfd) Watch(state->pidfd.get(), state->tid, /*process=*/false);
  tasks_[process.tgid] = std::move(state);
  ForgetExec(process);
  return ended;
}

void Supervisor::SettleExec(pid_t exec_tid) {
  std::lock_guard reap_lock(reap_mu_);
  std::vector<std::shared_ptr<TaskState>> exited;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(exec_tid);
    if (it == tasks_.end()) return;  // already settled
    Process& process = *it->second->process;
    if (!process.exec_undecided) {
      // Is the thread's old tid gone? Asked of the pidfd itself (the exec's
      // release of the old leader need not have reached the reaper yet), or
      // without thread pidfds of the host's thread table.
      if (it->second->pidfd) {
        if (!PidfdEnded(it->second->pidfd.get())) return;  // still running its exec
        epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second->pidfd.get(), nullptr);
      } else if (syscall(SYS_tgkill, process.tgid, exec_tid, 0) == 0 || errno != ESRCH) {
        return;
      }
    }
    // The leader's tid is making a syscall in a program that runs: an exec
    // that succeeded has replaced the old image by now.
    if (ExecReplacedImage(process)) {
      exited = TakeOverLeader(std::move(it->second));
    } else {
      exited.push_back(std::move(it->second));  // its exec failed; it exited later
      tasks_.erase(exec_tid);
      ForgetExec(process);
    }
  }
  for (auto& task : exited) FinishExit(std::move(task));
}

bool Supervisor::ExecReplacedImage(Process& process) {
  std::lock_guard lock(process.exec_mu);
  // The address space the thread had at its execve reads 0 bytes once it is
  // gone, and EIO (at address 0) while it lives: after a failed exec, or
  // for a moment after a successful one has taken the leader's tid and
  // before it drops the old image.
  char byte;
  if (!process.exec_mm || pread(process.exec_mm.get(), &byte, 1, 0) != 0) return false;
  // Gone with the whole process, it says nothing of the exec: a thread
  // whose exec failed, and whose exit the host reported after the
  // process's, would take over a leader that no longer exists (a task the
  // sentry kept for ever; ukcov fuzz's invariant check found it).
  return !PidfdEnded(process.pidfd.get());
}

void Supervisor::ForgetExec(Process& process) {
  std::lock_guard lock(process.exec_mu);
  process.exec_tid.store(0, std::memory_order_relaxed);
  process.exec_mm.reset();
  process.exec_undecided = false;
}

// ---- ukcov run ----

namespace {

pid_t g_main_guest = 0;
void Forward(int sig) {
  if (g_main_guest > 0) kill(g_main_guest, sig);
}

// After the main guest process is gone, the rest of its tree goes too: kill
// our children (orphans re-parent to us, the subreaper) until none is left.
void KillRemaining() {
  const pid_t self = getpid();
  for (;;) {
    // Usually the main guest was the last: no child at all, no scan of
    // every process of the host.
    pid_t r;
    while ((r = waitpid(-1, nullptr, WNOHANG | __WALL)) > 0) {
    }
    if (r < 0 && errno == ECHILD) return;
    bool any = false;
    if (DIR* d = opendir("/proc")) {
      while (dirent* e = readdir(d)) {
        pid_t pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        pid_t tgid, ppid;
        ReadIds(pid, &tgid, &ppid);
        if (ppid == self && tgid == pid) {
          kill(pid, SIGKILL);
          any = true;
        }
      }
      closedir(d);
    }
    while (waitpid(-1, nullptr, WNOHANG | __WALL) > 0) any = true;
    if (!any && waitpid(-1, nullptr, WNOHANG | __WALL) < 0 && errno == ECHILD) return;
    if (!any) usleep(1000);
  }
}

}  // namespace

// The sentry holds a memfd per open kcov file: it takes the hard limit on
// fds for itself, and gives the guest back the limits it was started with.
rlimit RaiseFdLimit() {
  rlimit original{};
  getrlimit(RLIMIT_NOFILE, &original);
  rlimit raised = original;
  raised.rlim_cur = raised.rlim_max;
  setrlimit(RLIMIT_NOFILE, &raised);
  return original;
}

int Run(const RunOptions& options) {
  const std::string& program = options.argv.at(0);
  Result<std::string> path = ResolveProgram(program);
  if (!path) {
    if (path.error() == ENOENT)
      std::fprintf(stderr, "ukcov run: %s: command not found\n", program.c_str());
    else
      std::fprintf(stderr, "ukcov run: %s: %s\n", program.c_str(), std::strerror(path.error()));
    return path.error() == ENOENT ? 127 : 126;
  }
  std::string error;
  Result<HostFeatures> features = HostFeatures::Probe(&error);
  if (!features) {
    std::fprintf(stderr, "ukcov run: %s\n", error.c_str());
    return 125;
  }
  for (const std::string& name : options.without) {
    if (!features->Disable(name)) {
      std::fprintf(stderr, "ukcov run: --without %s: not a host feature (%s)\n", name.c_str(), HostFeatures::kNames);
      return 2;
    }
  }
  // The interception mode (docs/sentry.md): "served" needs a mount namespace
  // of the guest's own (CAP_SYS_ADMIN) for the FUSE debugfs, and no mount
  // of the sentry's; "auto" takes it where it can.
  Interception mode = Interception::kAll;
  UniqueFd fuse_device;
  {
    std::optional<Interception> asked = ParseInterception(options.intercept);
    if (!asked && options.intercept != "auto") {
      std::fprintf(stderr, "ukcov run: --intercept %s: not a mode (all, served, auto)\n", options.intercept.c_str());
      return 2;
    }
    const bool want = asked == Interception::kServed || options.intercept == "auto";
    std::string why;
    if (want) {
      struct stat st;
      if (!options.tmpfs.empty() && !asked)
        why = "--tmpfs is served over FUSE only when asked (--intercept served; docs/sentry.md)";
      else if (geteuid() != 0)
        why = "it needs CAP_SYS_ADMIN for the guest's mount namespace (run as root)";
      else if (stat(debugfs::kMountPoint, &st) != 0 || !S_ISDIR(st.st_mode))
        why = std::string("this host has no ") + debugfs::kMountPoint + " to mount it on";
      else if (fuse_device.reset(open("/dev/fuse", O_RDWR | O_CLOEXEC)), !fuse_device)
        why = std::string("/dev/fuse: ") + std::strerror(errno);
    }
    if (asked == Interception::kServed && !why.empty()) {
      std::fprintf(stderr, "ukcov run: --intercept served: %s\n", why.c_str());
      return 125;
    }
    if (want && why.empty()) mode = Interception::kServed;
    if (mode != Interception::kServed) fuse_device.reset();
  }
  Result<Filter> filter = Filter::Build(*features, mode, &error);
  if (!filter) {
    std::fprintf(stderr, "ukcov run: %s\n", error.c_str());
    return 125;
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const rlimit guest_fd_limit = RaiseFdLimit();
  ukcov_engine_options engine_options;
  ukcov_engine_options_init(&engine_options);
  if (options.gvisor_pcs) {
    if (!(ukcov_registered_features() & UKCOV_FEATURE_COUNTERS)) {
      std::fprintf(stderr, "ukcov run: --gvisor-pcs needs the counters backend: build with -DUKCOV_COVERAGE=counters\n");
      return 125;
    }
    engine_options.pc_encoding = UKCOV_PC_GVISOR;
  }
  std::optional<CoverageFile> coverage;
  if (!options.coverage.empty()) {
    Result<CoverageFile> file = CoverageFile::Create(options.coverage);
    if (!file) {
      std::fprintf(stderr, "ukcov run: --coverage %s: %s\n", options.coverage.c_str(), std::strerror(file.error()));
      return 125;
    }
    coverage.emplace(std::move(file.value()));
    engine_options.run_coverage = 1;
  }
  auto engine = ukcov::Engine::Create(&engine_options);
  if (!engine) {
    std::fprintf(stderr, "ukcov run: cannot create the kcov engine: %s\n", std::strerror(engine.error()));
    return 125;
  }
  Kernel kernel(*engine, mode);
  for (const std::string& spec : options.tmpfs) {
    size_t colon = spec.find(':');
    std::string where = spec.substr(0, colon);
    Result<tmpfs::Options> mount_options =
        tmpfs::ParseOptions(colon == std::string::npos ? "" : spec.substr(colon + 1), &error);
    if (!mount_options || !tmpfs::MountTmpfs(kernel.vfs(), where, *mount_options, &error)) {
      std::fprintf(stderr, "ukcov run: %s\n", error.c_str());
      return 125;
    }
  }
  // Mount points are hidden from the host's calls, or, served, are FUSE
  // mounts of the sentry's (one connection each).
  std::vector<std::string> mount_points;
  std::vector<Mount*> served_list;         // the tmpfs mounts served, in order
  std::vector<ServedMount> served_mounts;  // and, for the launch, where and on which device
  std::vector<UniqueFd> mount_devices;
  for (const auto& mount : kernel.vfs().mounts()) {
    if (mode != Interception::kServed || mount->fs.get() == &kernel.debugfs()) {
      mount_points.push_back(mount->path);
      continue;
    }
    mount_devices.emplace_back(open("/dev/fuse", O_RDWR | O_CLOEXEC));
    if (!mount_devices.back()) {
      std::fprintf(stderr, "ukcov run: /dev/fuse: %s\n", std::strerror(errno));
      return 125;
    }
    served_list.push_back(mount.get());
    served_mounts.push_back({mount->path, mount_devices.back().get()});
  }
  Result<Launch> launch = Spawn(*path, options.argv, *filter, guest_fd_limit, mount_points, fuse_device.get(),
                                served_mounts, &error);
  if (!launch) {
    std::fprintf(stderr, "ukcov run: %s\n", error.c_str());
    return 125;
  }
  g_main_guest = launch->pid;
  // Files the sentry makes on the host for a guest get the guest's umask,
  // applied by the handler: the sentry's own must not apply on top. (After
  // the guest is forked: it keeps the umask it was started with.)
  if (!options.tmpfs.empty()) umask(0);
  signal(SIGINT, SIG_IGN);  // the terminal's ^C reaches the guest directly
  signal(SIGQUIT, SIG_IGN);
  // A lease the sentry takes for a moment (tmpfs's exec check) is broken
  // with SIGIO when a guest opens the file for writing meanwhile.
  signal(SIGIO, SIG_IGN);
  signal(SIGTERM, Forward);
  signal(SIGHUP, Forward);

  Listener listener(std::move(launch->listener));
  Supervisor supervisor(kernel, listener, *features);
  if (options.check_invariants) supervisor.EnableInvariantChecks();
  // The served debugfs: the guest mounted it on our /dev/fuse before
  // handing over its listener (launcher.cc).
  std::unique_ptr<debugfs::Served> served;
  std::vector<std::unique_ptr<tmpfs::Served>> served_tmpfs;
  std::vector<std::unique_ptr<FuseServer>> fuse;  // debugfs's, then each served mount's
  if (mode == Interception::kServed) {
    const FuseServer::RunAs run_as = [&supervisor](pid_t tid, bool settle,
                                                   const std::function<void(TaskState&)>& fn) {
      return supervisor.RunForTask(tid, settle, fn);
    };
    kernel.kcov().SetServed(launch->served_dev);
    served = std::make_unique<debugfs::Served>(kernel.debugfs(), kernel.kcov());
    fuse.push_back(std::make_unique<FuseServer>(kernel, DebugfsFuseOps(), served.get(), "debugfs", run_as));
    bool started = fuse.back()->Start(std::move(fuse_device), &error).ok();
    for (size_t i = 0; started && i < served_list.size(); i++) {
      Mount* mount = served_list[i];
      auto& fs = static_cast<tmpfs::Filesystem&>(*mount->fs);  // --tmpfs's: the only mounts but debugfs
      served_tmpfs.push_back(std::make_unique<tmpfs::Served>(fs));
      tmpfs::Served* tree = served_tmpfs.back().get();
      mount->served_dev = launch->served_mount_devs[i];
      mount->served_inode = [tree](uint64_t ino) { return tree->Find(ino); };
      fuse.push_back(std::make_unique<FuseServer>(kernel, TmpfsFuseOps(), tree, "tmpfs at " + mount->path, run_as));
      mount->served_settle = [connection = fuse.back().get()] { connection->Settle(); };
      AddTmpfsRawHandlers(*fuse.back());
      started = fuse.back()->Start(std::move(mount_devices[i]), &error).ok();
    }
    if (!started) {
      std::fprintf(stderr, "ukcov run: %s\n", error.c_str());
      kill(launch->pid, SIGKILL);
      waitpid(launch->pid, nullptr, 0);
      return 125;
    }
  }
  supervisor.Start(options.workers > 0 ? options.workers : DefaultWorkers());

  int exec_error[2] = {0, 0};
  ssize_t n;
  do n = read(launch->exec_status.get(), exec_error, sizeof exec_error);
  while (n < 0 && errno == EINTR);
  // Waited for once it has exited (its pidfd readable), never before: this
  // thread's waits would also take the exec tracer's stops of it (a tracer
  // in the real parent's thread group shares its reports).
  int status = 0;
  {
    UniqueFd pidfd(PidfdOpen(launch->pid, 0));
    pollfd p{pidfd.get(), POLLIN, 0};
    while (pidfd && poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    pid_t r;
    while ((r = waitpid(launch->pid, &status, __WALL)) < 0 && errno == EINTR) {
    }
    if (r < 0) status = supervisor.ReapedStatus(launch->pid).value_or(status);
  }
  KillRemaining();
  uint64_t fuse_requests = 0;
  for (auto& server : fuse) {
    server->Stop();
    fuse_requests += server->requests();
  }
  if (!fuse.empty()) kernel.kcov().ReleaseAllServed();
  supervisor.Stop();
  if (options.stats)
    std::fprintf(stderr, "ukcov run: interception %s: %llu calls trapped, %llu FUSE requests\n", Name(mode),
                 static_cast<unsigned long long>(supervisor.trapped()),
                 static_cast<unsigned long long>(fuse_requests));
  // Every serving thread has stopped: the run's coverage is complete.
  if (coverage) {
    if (Result<void> written = coverage->Commit(*engine, options.argv); !written) {
      std::fprintf(stderr, "ukcov run: --coverage %s: %s\n", options.coverage.c_str(),
                   std::strerror(written.error()));
      return 125;
    }
  }
  // With the guest gone, nothing of it may remain in the engine.
  if (const char* check = std::getenv("UKCOV_CHECK_LEAKS"); check != nullptr && *check == '1') {
    ukcov_engine_stats stats = engine->stats();
    if (stats.tasks != 0 || stats.instances != 0 || stats.handles != 0) {
      std::fprintf(stderr, "ukcov run: leaked %llu tasks, %llu instances, %llu remote handles\n",
                   static_cast<unsigned long long>(stats.tasks), static_cast<unsigned long long>(stats.instances),
                   static_cast<unsigned long long>(stats.handles));
      return 125;
    }
    std::string problems;
    for (auto& mount : kernel.vfs().mounts()) mount->fs->Check(&problems);
    if (!problems.empty()) {
      std::fprintf(stderr, "ukcov run: tmpfs invariants broken:\n%s", problems.c_str());
      return 125;
    }
  }
  if (n == sizeof exec_error) {
    std::fprintf(stderr, "ukcov run: %s: %s\n", program.c_str(), std::strerror(exec_error[1]));
    return exec_error[1] == ENOENT ? 127 : 126;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

}  // namespace ukcov::sentry
