// The sentry's syscall costs, measured from the guest's side: run natively
// and under `ukcov run`, the same binary times a syscall the filter lets
// through, one the sentry traps and continues, one it answers itself (with
// kcov off, in TRACE_PC mode and in TRACE_CMP mode), and, natively, the bare
// user-notification round trip that bounds what any seccomp-notify sentry can
// do: a listener thread that answers with RECV + SEND and nothing else.
//
// Timing is wall-clock (UseRealTime): the sentry's work happens in another
// process, so the guest's CPU time would not see it.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ukcov/kcov.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace {

constexpr size_t kCover = 64 << 10;  // words: far more than one syscall writes

// The kcov file of this thread, set up once and enabled per benchmark.
struct Kcov {
  int fd = -1;
  std::atomic<uint64_t>* area = nullptr;

  bool Open() {
    if (fd >= 0) return true;
    fd = open("/sys/kernel/debug/kcov", O_RDWR);
    if (fd < 0) return false;
    if (ioctl(fd, UKCOV_KCOV_INIT_TRACE, kCover) != 0) return false;
    void* p = mmap(nullptr, kCover * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return false;
    area = static_cast<std::atomic<uint64_t>*>(p);
    return true;
  }
};

Kcov& ThreadKcov() {
  static Kcov kcov;
  return kcov;
}

// Not trapped by the sentry's filter: the cost of the filter alone.
void BM_Untrapped(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getppid));
}
BENCHMARK(BM_Untrapped)->UseRealTime();

// read(2) is trapped; on a host fd the sentry looks it up and continues it.
// With a kcov file open somewhere, the lookup must borrow the fd
// (pidfd_getfd) to tell host files from the sentry's.
void TrappedContinued(benchmark::State& state, bool kcov_open) {
  if (kcov_open && !ThreadKcov().Open()) {
    state.SkipWithError("no /sys/kernel/debug/kcov");
    return;
  }
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  char byte;
  for (auto _ : state) benchmark::DoNotOptimize(read(fd, &byte, 0));
  close(fd);
}
BENCHMARK_CAPTURE(TrappedContinued, no_kcov_open, false)->UseRealTime();
BENCHMARK_CAPTURE(TrappedContinued, kcov_open, true)->UseRealTime();

// kcov.rst's syscall: read(-1, NULL, 0) is answered by the sentry (EBADF)
// without a fd borrow. mode: -1 no kcov, else the ENABLE mode.
void Emulated(benchmark::State& state, int mode) {
  Kcov& kcov = ThreadKcov();
  if (mode >= 0) {
    if (!kcov.Open() || ioctl(kcov.fd, UKCOV_KCOV_ENABLE, mode) != 0) {
      state.SkipWithError("no /sys/kernel/debug/kcov");
      return;
    }
  }
  uint64_t words = 0;
  for (auto _ : state) {
    if (mode >= 0) kcov.area[0].store(0, std::memory_order_relaxed);
    benchmark::DoNotOptimize(read(-1, nullptr, 0));
    if (mode >= 0) words += kcov.area[0].load(std::memory_order_relaxed);
  }
  state.SetItemsProcessed(state.iterations());
  if (mode >= 0) {
    ioctl(kcov.fd, UKCOV_KCOV_DISABLE, 0);
    state.counters["kcov_words"] = static_cast<double>(words) / static_cast<double>(state.iterations());
  }
}
BENCHMARK_CAPTURE(Emulated, kcov_off, -1)->UseRealTime();
// Throughput with guest threads in parallel (kcov off: the area is per thread).
BENCHMARK_CAPTURE(Emulated, kcov_off, -1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK_CAPTURE(Emulated, kcov_pc, UKCOV_KCOV_TRACE_PC)->UseRealTime();
BENCHMARK_CAPTURE(Emulated, kcov_cmp, UKCOV_KCOV_TRACE_CMP)->UseRealTime();

// The same on the kcov fd itself (read → EINVAL): the answer needs the fd's
// identity, so it pays the borrow.
void EmulatedOnKcovFd(benchmark::State& state) {
  Kcov& kcov = ThreadKcov();
  if (!kcov.Open()) {
    state.SkipWithError("no /sys/kernel/debug/kcov");
    return;
  }
  char byte;
  for (auto _ : state) benchmark::DoNotOptimize(read(kcov.fd, &byte, 1));
}
BENCHMARK(EmulatedOnKcovFd)->UseRealTime();

// The floor: a listener whose handler is empty, in its own process as the
// sentry is. The filter is installed on this thread only (no TSYNC), for
// getppid with a magic first argument only, so nothing else is trapped.
constexpr uint64_t kMagic = 0x75c0f00d;

class BareListener {
 public:
  static BareListener* Get() {
    static BareListener* listener = Install();
    return listener;
  }
  void SetSyncWakeUp(bool on) {
    ioctl(fd_, SECCOMP_IOCTL_NOTIF_SET_FLAGS, on ? SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP : 0UL);
  }

 private:
  explicit BareListener(int fd) : fd_(fd) {}

  static BareListener* Install() {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return nullptr;
    pid_t server = fork();
    if (server == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(sv[0]);
      int fd = ReceiveFd(sv[1]);
      if (fd >= 0) Serve(fd);
      _exit(0);
    }
    close(sv[1]);
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(kMagic), 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    int fd = -1;
    if (server > 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
      fd = static_cast<int>(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                                    &prog));
    bool sent = fd >= 0 && SendFd(sv[0], fd);
    close(sv[0]);
    return sent ? new BareListener(fd) : nullptr;
  }

  static bool SendFd(int sock, int fd) {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    return sendmsg(sock, &msg, 0) == 1;
  }

  static int ReceiveFd(int sock) {
    char byte;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (recvmsg(sock, &msg, 0) != 1) return -1;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    return fd;
  }

  static void Serve(int fd) {
    seccomp_notif notif;
    seccomp_notif_resp resp;
    for (;;) {
      std::memset(&notif, 0, sizeof notif);
      if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &notif) != 0) {
        if (errno == EINTR || errno == ENOENT) continue;
        return;
      }
      std::memset(&resp, 0, sizeof resp);
      resp.id = notif.id;
      ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
  }

  int fd_;
};

void BareRoundTrip(benchmark::State& state, bool sync_wake_up) {
  BareListener* listener = BareListener::Get();
  if (listener == nullptr) {
    state.SkipWithError("cannot install a seccomp listener");
    return;
  }
  listener->SetSyncWakeUp(sync_wake_up);
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getppid, kMagic));
}
BENCHMARK_CAPTURE(BareRoundTrip, plain, false)->UseRealTime();
BENCHMARK_CAPTURE(BareRoundTrip, sync_wake_up, true)->UseRealTime();

// `loop MODE N`: N emulated syscalls and nothing else, for instruction
// counts of the sentry's side (bench/run.sh runs the sentry under callgrind
// at two values of N). MODE: off, pc or cmp.
int Loop(const char* mode, long n) {
  Kcov& kcov = ThreadKcov();
  int kcov_mode = std::strcmp(mode, "pc") == 0 ? UKCOV_KCOV_TRACE_PC : std::strcmp(mode, "cmp") == 0 ? UKCOV_KCOV_TRACE_CMP : -1;
  if (kcov_mode >= 0 && (!kcov.Open() || ioctl(kcov.fd, UKCOV_KCOV_ENABLE, kcov_mode) != 0)) return 77;
  for (long i = 0; i < n; i++) {
    if (kcov_mode >= 0) kcov.area[0].store(0, std::memory_order_relaxed);
    if (read(-1, nullptr, 0) != -1 || errno != EBADF) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "loop") == 0) return Loop(argv[2], std::atol(argv[3]));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
