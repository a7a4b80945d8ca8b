#include "sentry/exec_tracer.h"
#include "sentry/proc_ids.h"

#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace ukcov::sentry {
namespace {

// The errno that makes the kernel run a syscall again from its instruction
// once the thread returns to user mode with a signal or trap pending.
constexpr int kRestartNoIntr = 513;

// Where the traced thread is.
struct Event {
  enum Kind { kGone, kSyscall, kExec, kStop, kSignal };
  Kind kind = kGone;
  int sig = 0;
};

// One exec guided for one thread, on the tracer's thread.
class Guidance {
 public:
  Guidance(pid_t pid, std::mutex& exits_mu, std::unordered_map<pid_t, int>& exits)
      : pid_(pid), exits_mu_(exits_mu), exits_(exits) {}

  pid_t pid() const { return pid_; }

  // The next stop of the thread (its id follows a non-leader's exec).
  Event Wait() {
    for (;;) {
      siginfo_t si{};
      if (waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | __WALL | __WNOTHREAD | WNOWAIT) != 0) {
        if (errno == EINTR) continue;
        return {};  // ECHILD: reaped by someone else
      }
      if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
        // Recorded before it is reaped: the sentry's main thread, whose
        // child it may be, looks here when its own wait finds nothing.
        const int status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8
                                                    : (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0);
        {
          std::lock_guard lock(exits_mu_);
          exits_[si.si_pid] = status;
        }
        siginfo_t reaped{};
        while (waitid(P_PID, static_cast<id_t>(si.si_pid), &reaped, WEXITED | __WALL | __WNOTHREAD) != 0 && errno == EINTR) {
        }
        return {};
      }
      int status = 0;
      const pid_t r = waitpid(si.si_pid, &status, __WALL | __WNOTHREAD);
      if (r < 0) {
        if (errno == EINTR) continue;
        return {};
      }
      if (!WIFSTOPPED(status)) continue;
      pid_ = r;
      if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) return {Event::kExec};
      if (status >> 16 == PTRACE_EVENT_STOP) return {Event::kStop, WSTOPSIG(status)};
      if (WSTOPSIG(status) == (SIGTRAP | 0x80)) return {Event::kSyscall};
      return {Event::kSignal, WSTOPSIG(status)};
    }
  }

  // Resumes the thread to its next syscall stop or exec event. A signal
  // meanwhile is held (sent again after the detach): a handler must not
  // run in the middle of the exec.
  Event Next() {
    int sig = 0;
    for (;;) {
      if (ptrace(PTRACE_SYSCALL, pid_, 0, sig) != 0) return {};
      sig = 0;
      Event e = Wait();
      if (e.kind == Event::kSignal) {
        held_.push_back(e.sig);
        continue;
      }
      if (e.kind == Event::kStop) continue;  // a group stop: after the exec
      return e;
    }
  }

  // Runs syscall `nr` in the stopped thread from the syscall instruction at
  // `insn`, with `base`'s other registers; its result, or nothing once the
  // thread is gone. *exec: whether an exec event came between its entry and
  // its exit (the thread then runs a new program).
  std::optional<int64_t> Inject(const user_regs_struct& base, uint64_t insn, long nr, std::array<uint64_t, 6> a,
                                bool* exec = nullptr) {
    user_regs_struct regs = base;
    regs.rip = insn;
    regs.rax = static_cast<uint64_t>(nr);
    regs.orig_rax = ~0ull;  // not in a syscall: no restart on the way out
    regs.rdi = a[0];
    regs.rsi = a[1];
    regs.rdx = a[2];
    regs.r10 = a[3];
    regs.r8 = a[4];
    regs.r9 = a[5];
    if (ptrace(PTRACE_SETREGS, pid_, 0, &regs) != 0) return std::nullopt;
    if (Next().kind != Event::kSyscall) return std::nullopt;  // its entry
    Event e = Next();
    if (e.kind == Event::kExec) {
      if (exec) *exec = true;
      e = Next();
    }
    if (e.kind != Event::kSyscall) return std::nullopt;  // its exit
    if (ptrace(PTRACE_GETREGS, pid_, 0, &regs) != 0) return std::nullopt;
    return static_cast<int64_t>(regs.rax);
  }

  bool GetRegs(user_regs_struct* regs) { return ptrace(PTRACE_GETREGS, pid_, 0, regs) == 0; }
  bool SetRegs(const user_regs_struct& regs) { return ptrace(PTRACE_SETREGS, pid_, 0, &regs) == 0; }

  // Lets the thread go, and sends it the signals held meanwhile.
  void Detach(pid_t tgid) {
    ptrace(PTRACE_DETACH, pid_, 0, 0);
    for (int sig : held_) syscall(SYS_tgkill, tgid, pid_, sig);
  }

  // The thread's memory: stopped under ptrace, it answers no notification.
  GuestMemory Memory() const { return GuestMemory(pid_, /*listener=*/-1, 0); }

  // A syscall instruction in the thread's vDSO (a new image has no other
  // address the sentry knows), or 0.
  uint64_t VdsoSyscall() {
    std::ifstream maps("/proc/" + std::to_string(pid_) + "/maps");
    std::string line;
    while (std::getline(maps, line)) {
      if (line.find("[vdso]") == std::string::npos) continue;
      unsigned long start = 0, end = 0;
      if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) != 2 || end <= start || end - start > (1 << 20)) return 0;
      std::vector<unsigned char> code(end - start);
      if (!Memory().Read(start, code.data(), code.size())) return 0;
      for (size_t i = 0; i + 1 < code.size(); i++)
        if (code[i] == 0x0f && code[i + 1] == 0x05) return start + i;
      return 0;
    }
    return 0;
  }

 private:
  pid_t pid_;
  std::mutex& exits_mu_;
  std::unordered_map<pid_t, int>& exits_;
  std::vector<int> held_;
};

bool IsError(int64_t r) { return r < 0 && r >= -4095; }

// Attaches to the thread of `g` trapped in notification `id`, makes it
// leave the call and stop; its registers then. False: it is gone (or traced
// by another: the call failed with EPERM).
bool Take(Listener& listener_, Guidance& g, uint64_t id, long options, user_regs_struct* saved) {
  if (ptrace(PTRACE_SEIZE, g.pid(), 0, options) != 0) {
    // Traced by someone else (a debugger the guest runs), or gone.
    listener_.Fail(id, errno == ESRCH ? ESRCH : EPERM);
    return false;
  }
  ptrace(PTRACE_INTERRUPT, g.pid(), 0, 0);
  // The thread leaves the trapped call at once: the interrupt's trap is
  // pending, so the kernel stops it (and would restart the call).
  if (!listener_.Fail(id, kRestartNoIntr)) {
    while (g.Wait().kind != Event::kGone) ptrace(PTRACE_CONT, g.pid(), 0, 0);  // killed
    return false;
  }
  Event e = g.Wait();
  while (e.kind == Event::kSignal) {  // not expected: the interrupt's trap comes first
    ptrace(PTRACE_CONT, g.pid(), 0, e.sig);
    e = g.Wait();
  }
  return e.kind != Event::kGone && g.GetRegs(saved);
}


// The thread's fd table is its parent process's too (clone(CLONE_FILES)
// without CLONE_THREAD, e.g. a vfork-style spawn that shares files).
bool SharesFilesWithParent(pid_t tid) {
  pid_t tgid, ppid;
  ReadIds(tid, &tgid, &ppid);
  return ppid > 0 && syscall(SYS_kcmp, tid, ppid, KCMP_FILES, 0, 0) == 0;
}

}  // namespace

ExecTracer::ExecTracer(Listener& listener) : listener_(listener) {}

ExecTracer::~ExecTracer() { Stop(); }

void ExecTracer::Start() { thread_ = std::thread([this] { Run(); }); }

void ExecTracer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  idle_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  for (Request& r : queue_) listener_.Fail(r.id, ESRCH);  // the guest is gone
  queue_.clear();
}

void ExecTracer::Submit(std::shared_ptr<TaskState> task, uint64_t id, ExecPlan plan) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Request{std::move(task), id, std::move(plan)});
  }
  cv_.notify_one();
}

void ExecTracer::Submit(std::shared_ptr<TaskState> task, uint64_t id, MapPlan plan) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Request{std::move(task), id, ExecPlan{}, std::move(plan)});
  }
  cv_.notify_one();
}

std::optional<int> ExecTracer::ReapedStatus(pid_t pid) {
  std::lock_guard lock(exits_mu_);
  auto it = exits_.find(pid);
  if (it == exits_.end()) return std::nullopt;
  return it->second;
}

void ExecTracer::AwaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return stopping_ || (queue_.empty() && !busy_); });
}

void ExecTracer::Run() {
  for (;;) {
    {
      Request request;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping: Stop() wakes AwaitIdle
        request = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
      }
      if (request.map)
        GuideMap(request);
      else
        Guide(request);
    }  // the request, its TaskState and its files, let go of
    {
      std::lock_guard lock(mu_);
      busy_ = false;
    }
    idle_cv_.notify_all();
  }
}

void ExecTracer::GuideMap(Request& request) {
  TaskState& task = *request.task;
  MapPlan& plan = *request.map;
  const pid_t tgid = task.process->tgid;
  Guidance g(task.tid, exits_mu_, exits_);
  user_regs_struct saved{};
  if (!Take(listener_, g, request.id, PTRACE_O_TRACESYSGOOD, &saved)) return;
  const uint64_t insn = saved.rip - 2;
  // The file, for the length of the mapping call (see Guide: ADDFD needs a
  // trapped call). Close-on-exec, and closed again below.
  task.install_fd.store(plan.file.get(), std::memory_order_release);
  std::optional<int64_t> installed = g.Inject(saved, insn, SYS_read, {~0ull, 0, 0, 0, 0, 0});
  task.install_fd.store(-1, std::memory_order_release);
  plan.file.reset();  // the guest's copy holds the struct file now
  if (!installed) return;
  int64_t result = *installed;
  if (!IsError(*installed)) {
    task.injected.store(true, std::memory_order_release);
    std::optional<int64_t> mapped = g.Inject(
        saved, insn, SYS_mmap,
        {plan.address, plan.length, plan.prot, plan.flags, static_cast<uint64_t>(*installed), plan.offset});
    task.injected.store(false, std::memory_order_release);
    if (!mapped) return;
    result = *mapped;
    if (!g.Inject(saved, insn, SYS_close, {static_cast<uint64_t>(*installed), 0, 0, 0, 0, 0})) return;
  }
  user_regs_struct restored = saved;
  restored.rax = static_cast<uint64_t>(result);
  restored.orig_rax = ~0ull;
  g.SetRegs(restored);
  g.Detach(tgid);
}

void ExecTracer::Guide(Request& request) {
  TaskState& task = *request.task;
  ExecPlan& plan = request.plan;
  const pid_t tgid = task.process->tgid;
  Guidance g(task.tid, exits_mu_, exits_);
  user_regs_struct saved{};
  if (!Take(listener_, g, request.id, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC, &saved)) return;
  const uint64_t insn = saved.rip - 2;  // `syscall` (and `int $0x80`) is 2 bytes
  int error = 0;  // the exec's answer when the plan cannot run

  // The program's fd, installed in the table the exec will use. A table
  // shared with the parent process (clone(CLONE_FILES)) is the exec's own
  // copy by then (Linux unshares it): the fd must not stay in the parent's.
  int64_t guest_fd = -1;
  if (plan.program) {
    if (SharesFilesWithParent(task.tid)) {
      std::optional<int64_t> r = g.Inject(saved, insn, SYS_unshare, {CLONE_FILES, 0, 0, 0, 0, 0});
      if (!r) return;
      if (IsError(*r)) error = static_cast<int>(-*r);
    }
    if (error == 0) {
      // ADDFD needs a trapped call: a read(-1) the workers answer with the
      // fd (TaskState::install_fd) while the file is held here.
      task.install_fd.store(plan.program.get(), std::memory_order_release);
      std::optional<int64_t> r = g.Inject(saved, insn, SYS_read, {~0ull, 0, 0, 0, 0, 0});
      task.install_fd.store(-1, std::memory_order_release);
      if (!r) return;
      if (IsError(*r))
        error = static_cast<int>(-*r);
      else
        guest_fd = *r;
    }
    plan.program.reset();
  }

  // A new argv and the host path, in memory mapped for them.
  uint64_t argv = plan.argv;
  uint64_t path = plan.empty_string;
  uint64_t scratch = 0;
  size_t scratch_size = 0;
  bool ok = error == 0;
  if (ok && (plan.replace_argv || !plan.host_path.empty())) {
    std::vector<std::string> strings;
    if (!plan.host_path.empty()) strings.push_back(plan.host_path);
    for (auto& s : plan.argv_head) strings.push_back(s);
    const size_t pointers = plan.argv_head.size() + plan.argv_rest.size() + 1;
    size_t bytes = pointers * 8;
    for (auto& s : strings) bytes += s.size() + 1;
    scratch_size = (bytes + 4095) & ~size_t{4095};
    std::optional<int64_t> r =
        g.Inject(saved, insn, SYS_mmap,
                 {0, scratch_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, ~0ull, 0});
    if (!r) return;
    if (IsError(*r)) {
      error = static_cast<int>(-*r);
      ok = false;
    } else {
      scratch = static_cast<uint64_t>(*r);
      std::vector<char> image(scratch_size, 0);
      std::vector<uint64_t> array;
      size_t at = pointers * 8;
      size_t next = 0;
      if (!plan.host_path.empty()) {
        path = scratch + at;
        std::memcpy(image.data() + at, strings[next].c_str(), strings[next].size() + 1);
        at += strings[next++].size() + 1;
      }
      for (; next < strings.size(); next++) {
        array.push_back(scratch + at);
        std::memcpy(image.data() + at, strings[next].c_str(), strings[next].size() + 1);
        at += strings[next].size() + 1;
      }
      if (plan.replace_argv) {
        for (uint64_t p : plan.argv_rest) array.push_back(p);
        array.push_back(0);
        std::memcpy(image.data(), array.data(), array.size() * 8);
        argv = scratch;
      }
      if (!g.Memory().Write(scratch, image.data(), image.size())) {
        error = EFAULT;
        ok = false;
      }
    }
  }

  if (ok) {
    bool replaced = false;
    task.injected.store(true, std::memory_order_release);
    std::optional<int64_t> r =
        plan.host_path.empty()
            ? g.Inject(saved, insn, SYS_execveat,
                       {static_cast<uint64_t>(guest_fd), path, argv, plan.envp, AT_EMPTY_PATH, 0}, &replaced)
            : g.Inject(saved, insn, SYS_execve, {path, argv, plan.envp, 0, 0, 0}, &replaced);
    task.injected.store(false, std::memory_order_release);
    if (!r) return;
    if (replaced && *r == 0) {
      // The new program, stopped before its first instruction: named as
      // Linux names it (the host named it after our fd or the memfd).
      user_regs_struct fresh{};
      if (plan.host_path.empty()) {
        // The host named it after our fd's number or the file: which says
        // what it does with the guest's own AT_EMPTY_PATH execs.
        std::ifstream comm_file("/proc/" + std::to_string(g.pid()) + "/comm");
        std::string comm;
        std::getline(comm_file, comm);
        comm_from_dentry_ = comm != std::to_string(guest_fd);
      }
      const std::string& comm = plan.empty_path && comm_from_dentry_ != 0 ? plan.comm_dentry : plan.comm;
      if (g.GetRegs(&fresh)) {
        const uint64_t vdso = g.VdsoSyscall();
        char name[16] = {0};
        std::strncpy(name, comm.c_str(), sizeof name - 1);
        const uint64_t at = ((fresh.rsp - 256) & ~15ull);  // below the red zone, unused yet
        if (vdso != 0 && !comm.empty() && g.Memory().Write(at, name, sizeof name)) {
          if (!g.Inject(fresh, vdso, SYS_prctl, {PR_SET_NAME, at, 0, 0, 0, 0})) return;
          g.SetRegs(fresh);
        }
      }
      if (plan.replaced) plan.replaced();  // before the program can ask
      g.Detach(g.pid());
      return;
    }
    error = IsError(*r) ? static_cast<int>(-*r) : ENOEXEC;
  }
  // Failed: everything as it was, but the exec's error.
  if (scratch != 0 && !g.Inject(saved, insn, SYS_munmap, {scratch, scratch_size, 0, 0, 0, 0})) return;
  if (guest_fd >= 0 && !g.Inject(saved, insn, SYS_close, {static_cast<uint64_t>(guest_fd), 0, 0, 0, 0, 0})) return;
  user_regs_struct restored = saved;
  restored.rax = static_cast<uint64_t>(-static_cast<int64_t>(error));
  restored.orig_rax = ~0ull;
  g.SetRegs(restored);
  g.Detach(tgid);
}

}  // namespace ukcov::sentry
