// Callbacks are async-signal-safe: a signal handler that runs instrumented
// code on the thread, interrupting callbacks at arbitrary points, never
// corrupts the trace or writes outside it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/time.h>

#include <atomic>

#include "fake_kernel.h"
#include "test_host.h"

namespace ukcov_test {
namespace {

std::atomic<int> g_handled{0};

void OnTimer(int) {
  fake_kernel::PathB(7);  // instrumented code inside the handler
  g_handled.fetch_add(1, std::memory_order_relaxed);
}

TEST(Signals, HandlersRunningInstrumentedCodeKeepTheTraceConsistent) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  constexpr uint64_t kWords = 1 << 16;
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, kWords), 0);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC), 0);
  uint64_t* area = inst.area().data();
  auto walk = fake_kernel::RangeOf(reinterpret_cast<const void*>(&fake_kernel::Walk));
  auto path_b = fake_kernel::RangeOf(reinterpret_cast<const void*>(&fake_kernel::PathB));
  ukcov_pc_map map;
  ukcov_engine_pc_map(engine.get(), &map);

  struct sigaction sa {};
  sa.sa_handler = OnTimer;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  struct sigaction old {};
  ASSERT_EQ(sigaction(SIGALRM, &sa, &old), 0);
  itimerval every{{0, 200}, {0, 200}};  // every 200 µs
  ASSERT_EQ(setitimer(ITIMER_REAL, &every, nullptr), 0);

  int rounds = 0;
  for (; g_handled.load() < 200 && rounds < 200000; rounds++) {
    area[0] = 0;
    Syscall(task, [] { return fake_kernel::Walk(200); });
    uint64_t n = Count(area);
    ASSERT_LT(n, kWords);
    for (uint64_t i = 1; i <= n; i++) {
      uintptr_t raw = area[i] - map.bias;
      ASSERT_TRUE(walk.Contains(raw) || path_b.Contains(raw)) << "round " << rounds << " slot " << i;
    }
  }
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  sigaction(SIGALRM, &old, nullptr);
  EXPECT_GE(g_handled.load(), 200) << "the timer never interrupted the recording";
}

}  // namespace
}  // namespace ukcov_test
