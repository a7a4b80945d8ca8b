// The sentry's own work per tmpfs call, for callgrind: this process plays
// the guest and the sentry at once (GuestMemory and pidfd_getfd work on
// oneself), driving Kernel::Dispatch with the notifications a trapped call
// would bring, without the user-notification round trip around it.
//
// Usage: bench_tmpfs_dispatch meta|write|read N [kcov]
//   meta: N x (create + stat + rename + unlink); write/read: N x 4 KiB.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/kernel.h"
#include "sentry/vfs/vfs.h"
#include "ukcov/kcov.h"

using namespace ukcov;

namespace {

struct Driver {
  sentry::Kernel& kernel;
  sentry::TaskState& task;

  sentry::Answer Call(int nr, uint64_t a0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0) {
    seccomp_notif notif{};
    notif.pid = static_cast<uint32_t>(task.tid);
    notif.data.nr = nr;
    notif.data.arch = 0xc000003e;
    notif.data.args[0] = a0;
    notif.data.args[1] = a1;
    notif.data.args[2] = a2;
    notif.data.args[3] = a3;
    notif.data.args[4] = a4;
    Serving serving(*task.task);
    sentry::Syscall sc{notif, task, sentry::GuestMemory(task.tid, -1, 0)};
    return kernel.Dispatch(sc);
  }
  static uint64_t P(const void* p) { return reinterpret_cast<uint64_t>(p); }
  // An fd the sentry would install: kept as this process's own.
  int Open(const char* path, int flags) {
    sentry::Answer a = Call(SYS_openat, static_cast<uint64_t>(AT_FDCWD), P(path), static_cast<uint64_t>(flags), 0644);
    if (a.kind != sentry::Answer::Kind::kInstallFd) return -1;
    return dup(a.fd->get());
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s meta|write|read N [kcov]\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  long n = std::atol(argv[2]);
  bool with_kcov = argc > 3 && std::strcmp(argv[3], "kcov") == 0;
  char dir[] = "/tmp/ukcov-tmpfs-dispatch.XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;

  auto engine = Engine::Create();
  if (!engine) return 1;
  sentry::Kernel kernel(*engine);
  std::string error;
  if (!sentry::tmpfs::MountTmpfs(kernel.vfs(), dir, {}, &error)) return 1;
  auto process = std::make_shared<sentry::Process>();
  process->tgid = getpid();
  process->pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
  sentry::TaskState task;
  task.tid = static_cast<pid_t>(syscall(SYS_gettid));
  task.process = process;
  auto engine_task = Task::Create(*engine);
  if (!engine_task) return 1;
  task.task = std::make_shared<Task>(std::move(*engine_task));
  auto instance = Instance::Open(*engine);
  std::span<uint64_t> area;
  if (with_kcov) {
    instance->Ioctl(*task.task, UKCOV_KCOV_INIT_TRACE, 1 << 20);
    instance->Ioctl(*task.task, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC);
    area = instance->area();
  }
  Driver d{kernel, task};
  auto reset = [&] {
    if (!area.empty()) __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
  };

  std::string base = std::string(dir) + "/";
  int failures = 0;
  if (mode == "meta") {
    struct stat st;
    for (long i = 0; i < n; i++) {
      std::string a = base + "f" + std::to_string(i), b = base + "g" + std::to_string(i);
      reset();
      int fd = d.Open(a.c_str(), O_CREAT | O_WRONLY | O_EXCL);
      failures += fd < 0;
      close(fd);
      reset();
      failures += d.Call(SYS_stat, Driver::P(a.c_str()), Driver::P(&st)).value != 0;
      reset();
      failures += d.Call(SYS_rename, Driver::P(a.c_str()), Driver::P(b.c_str())).value != 0;
      reset();
      failures += d.Call(SYS_unlink, Driver::P(b.c_str())).value != 0;
    }
  } else {
    static char block[4096];
    int fd = d.Open((base + "data").c_str(), O_CREAT | O_RDWR);
    for (long i = 0; i < n; i++) {
      reset();
      sentry::Answer a = mode == "write" ? d.Call(SYS_write, static_cast<uint64_t>(fd), Driver::P(block), 4096)
                                         : d.Call(SYS_pread64, static_cast<uint64_t>(fd), Driver::P(block), 4096, 0);
      failures += a.kind != sentry::Answer::Kind::kReturn;
      if (mode == "read" && i == 0) d.Call(SYS_pwrite64, static_cast<uint64_t>(fd), Driver::P(block), 4096, 0);
    }
    close(fd);
  }
  rmdir(dir);
  return failures == 0 ? 0 : 1;
}
