// Instruction counts of the sentry's own work per emulated syscall, for
// callgrind (valgrind cannot run `ukcov run` itself: it does not know
// seccomp(2)). What the supervisor does between NOTIF_RECV and NOTIF_SEND
// for kcov.rst's read(-1, NULL, 0): enter the task, dispatch through the
// syscall table to the handler, leave. The two ioctls are the bare round
// trip that sentry_guest.cc times.
//
// Usage: bench_sentry_dispatch off|pc|cmp|run N   (run: kcov off, the whole
// run's coverage on: `ukcov run --coverage`)
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sentry/kernel.h"
#include "ukcov/kcov.h"

int main(int argc, char** argv) {
  using namespace ukcov;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s off|pc|cmp|run N\n", argv[0]);
    return 2;
  }
  int mode = std::strcmp(argv[1], "pc") == 0 ? UKCOV_KCOV_TRACE_PC : std::strcmp(argv[1], "cmp") == 0 ? UKCOV_KCOV_TRACE_CMP : -1;
  long n = std::atol(argv[2]);

  ukcov_engine_options options;
  ukcov_engine_options_init(&options);
  options.run_coverage = std::strcmp(argv[1], "run") == 0;
  auto engine = Engine::Create(&options);
  if (!engine) return 1;
  sentry::Kernel kernel(*engine);
  auto process = std::make_shared<sentry::Process>();
  process->tgid = getpid();
  sentry::TaskState task;
  task.tid = static_cast<pid_t>(syscall(SYS_gettid));
  task.process = process;
  auto engine_task = Task::Create(*engine);
  if (!engine_task) return 1;
  task.task = std::make_shared<Task>(std::move(*engine_task));

  auto instance = Instance::Open(*engine);
  if (!instance) return 1;
  std::span<uint64_t> area;
  if (mode >= 0) {
    if (instance->Ioctl(*task.task, UKCOV_KCOV_INIT_TRACE, 64 << 10) != 0) return 1;
    if (instance->Ioctl(*task.task, UKCOV_KCOV_ENABLE, static_cast<unsigned long>(mode)) != 0) return 1;
    area = instance->area();
  }

  seccomp_notif notif{};
  notif.pid = static_cast<uint32_t>(task.tid);
  notif.data.nr = SYS_read;
  notif.data.arch = 0xc000003e;  // AUDIT_ARCH_X86_64
  notif.data.args[0] = static_cast<uint64_t>(-1);
  long failures = 0;
  for (long i = 0; i < n; i++) {
    if (!area.empty()) __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
    sentry::Answer answer;
    {
      Serving serving(*task.task);  // as Supervisor::Serve does
      sentry::Syscall sc{notif, task, sentry::GuestMemory(task.tid, -1, 0)};
      answer = kernel.Dispatch(sc);
    }
    failures += answer.kind != sentry::Answer::Kind::kReturn || answer.value != -EBADF;
  }
  if (mode >= 0) instance->Ioctl(*task.task, UKCOV_KCOV_DISABLE, 0);
  return failures == 0 ? 0 : 1;
}
