// Many host threads serving many tasks at once: isolation, races between
// ioctls, cross-thread resets, closes and exits while recording. Run under
// TSan in CI.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>
#include <vector>

#include "fake_kernel.h"
#include "test_host.h"

namespace ukcov_test {
namespace {

using fake_kernel::RangeOf;

uintptr_t Raw(const ukcov::Engine& engine, uint64_t pc) {
  ukcov_pc_map map;
  ukcov_engine_pc_map(engine.get(), &map);
  return pc - map.bias;
}

// Coverage produced for one task never lands in another task's area, even
// with every thread recording at the same time. (The counters backend's
// counters are the code's, not a thread's: there the guarantee holds when
// the host runs its kernel code one thread at a time, as the sentry does in
// a counters build, and that is what this test then does.)
TEST(Concurrency, PerTaskIsolation) {
  const bool counters = CountersBuild();
  std::mutex kernel_lock;
  constexpr int kThreads = 16;
  constexpr int kRounds = 200;
  ukcov::Engine engine = MakeEngine();
  auto range_a = RangeOf(reinterpret_cast<const void*>(&fake_kernel::PathA));
  auto range_b = RangeOf(reinterpret_cast<const void*>(&fake_kernel::PathB));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      ukcov::Task task = MakeTask(engine);
      ukcov::Instance inst = OpenInstance(engine);
      if (Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 4096) != 0) return failures++, void();
      uint64_t* area = inst.area().data();
      const bool a = t % 2 == 0;
      for (int round = 0; round < kRounds; round++) {
        unsigned long mode = round % 3 == 2 && !counters ? UKCOV_KCOV_TRACE_CMP : UKCOV_KCOV_TRACE_PC;
        std::unique_lock lock(kernel_lock, std::defer_lock);
        if (counters) lock.lock();
        if (Ioctl(task, inst, UKCOV_KCOV_ENABLE, mode) != 0) failures++;
        __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
        Syscall(task, [&] { return a ? fake_kernel::PathA(round) : fake_kernel::PathB(round); });
        if (counters) lock.unlock();
        uint64_t n = Count(area);
        if (mode == UKCOV_KCOV_TRACE_PC) {
          if (n == 0) failures++;
          for (uint64_t i = 1; i <= n; i++)
            if (!(a ? range_a : range_b).Contains(Raw(engine, area[i]))) failures++;
        } else {
          for (uint64_t i = 0; i < n; i++)
            if (!(a ? range_a : range_b).Contains(Raw(engine, area[1 + 4 * i + 3]))) failures++;
        }
        if (Ioctl(task, inst, UKCOV_KCOV_DISABLE, 0) != 0) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(engine.stats().instances, 0u);
  EXPECT_EQ(engine.stats().tasks, 0u);
}

// An idle enabled task's count does not move while others run syscalls.
TEST(Concurrency, IdleTaskCountStaysPut) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Task idle = MakeTask(engine);
  ukcov::Instance idle_inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(idle, idle_inst, UKCOV_KCOV_INIT_TRACE, 4096), 0);
  ASSERT_EQ(Ioctl(idle, idle_inst, UKCOV_KCOV_ENABLE, 0), 0);
  uint64_t* area = idle_inst.area().data();
  uint64_t before = Count(area);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&] {
      ukcov::Task task = MakeTask(engine);
      ukcov::Instance inst = OpenInstance(engine);
      Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 4096);
      Ioctl(task, inst, UKCOV_KCOV_ENABLE, 0);
      for (int i = 0; i < 500; i++) Syscall(task, [] { return fake_kernel::Walk(5); });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Count(area), before);
}

// Exactly one of many tasks racing to ENABLE one instance wins.
TEST(Concurrency, OneWinnerPerEnable) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Instance inst = OpenInstance(engine);
  {
    ukcov::Task t = MakeTask(engine);
    ASSERT_EQ(Ioctl(t, inst, UKCOV_KCOV_INIT_TRACE, 512), 0);
  }
  for (int round = 0; round < 50; round++) {
    std::atomic<int> wins{0}, einval{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++) {
      threads.emplace_back([&] {
        ukcov::Task task = MakeTask(engine);
        long r = Ioctl(task, inst, UKCOV_KCOV_ENABLE, 0);
        if (r == 0) {
          wins++;
          Syscall(task, [] { return fake_kernel::Walk(3); });
          EXPECT_EQ(Ioctl(task, inst, UKCOV_KCOV_DISABLE, 0), 0);
        } else {
          EXPECT_EQ(r, -EINVAL);
          einval++;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_GE(wins.load(), 1);  // a later thread may win again after a DISABLE
    EXPECT_EQ(wins.load() + einval.load(), 8);
  }
}

// syzkaller resets other threads' areas by storing 0 while they record.
TEST(Concurrency, CrossThreadResetsStayInBounds) {
  constexpr int kThreads = 4;
  constexpr uint64_t kWords = 64;
  ukcov::Engine engine = MakeEngine();
  std::vector<ukcov::Instance> insts;
  std::vector<uint64_t*> areas;
  {
    ukcov::Task t = MakeTask(engine);
    for (int i = 0; i < kThreads; i++) {
      insts.push_back(OpenInstance(engine));
      ASSERT_EQ(Ioctl(t, insts.back(), UKCOV_KCOV_INIT_TRACE, kWords), 0);
      areas.push_back(insts.back().area().data());
    }
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      ukcov::Task task = MakeTask(engine);
      ASSERT_EQ(Ioctl(task, insts[t], UKCOV_KCOV_ENABLE, 0), 0);
      for (int i = 0; i < 2000; i++) {
        Syscall(task, [] { return fake_kernel::Walk(7); });
        __atomic_store_n(&areas[(t + 1) % kThreads][0], 0, __ATOMIC_RELAXED);
      }
    });
  }
  for (auto& t : threads) t.join();
  stop = true;
  for (uint64_t* area : areas) EXPECT_LT(Count(area), kWords);
}

// close() while enabled: the owner goes on recording; the instance is freed
// when the owner exits.
TEST(Concurrency, CloseWhileRecordingOnAnotherThread) {
  ukcov::Engine engine = MakeEngine();
  ukcov::Instance inst = OpenInstance(engine);
  std::atomic<int> phase{0};
  std::thread owner([&] {
    ukcov::Task task = MakeTask(engine);
    ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 512), 0);
    ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, 0), 0);
    uint64_t* area = inst.area().data();
    phase = 1;
    while (phase.load() != 2) Syscall(task, [] { return fake_kernel::Walk(2); });
    area[0] = 0;
    Syscall(task, [] { return fake_kernel::Walk(2); });
    EXPECT_GT(Count(area), 0u);
  });
  while (phase.load() != 1) std::this_thread::yield();
  ukcov::Instance keep_area_readable = inst.Share();  // stands in for the guest's mapping
  inst.Close();
  phase = 2;
  owner.join();
  keep_area_readable.Close();
  EXPECT_EQ(engine.stats().instances, 0u);
}

// The host learns of a task's death on another thread while a handler for
// it still runs: the area stays valid until the handler leaves.
TEST(Concurrency, ExitWhileServedElsewhere) {
  ukcov::Engine engine = MakeEngine();
  for (int round = 0; round < 50; round++) {
    ukcov::Instance inst = OpenInstance(engine);
    ukcov_task* task = ukcov_task_create(engine.get());
    ukcov_enter(task);
    ASSERT_EQ(ukcov_instance_ioctl(inst.get(), task, UKCOV_KCOV_INIT_TRACE, 512, nullptr), 0);
    ASSERT_EQ(ukcov_instance_ioctl(inst.get(), task, UKCOV_KCOV_ENABLE, 0, nullptr), 0);
    std::atomic<bool> exited{false};
    std::thread reaper([&] {
      ukcov_task_exit(task);
      exited = true;
    });
    inst.Close();
    while (!exited.load()) fake_kernel::Walk(3);
    reaper.join();
    fake_kernel::Walk(3);
    ukcov_leave();
    ASSERT_EQ(engine.stats().instances, 0u);
    ASSERT_EQ(engine.stats().tasks, 0u);
  }
}

// A remote section running while its owner exits on another thread.
TEST(Concurrency, OwnerExitRacingRemoteSections) {
  ukcov::Engine engine = MakeEngine();
  constexpr uint64_t kHandle = UKCOV_KCOV_SUBSYSTEM_USB | 9;
  for (int round = 0; round < 30; round++) {
    ukcov::Task owner = MakeTask(engine);
    ukcov::Instance inst = OpenInstance(engine);
    ASSERT_EQ(Ioctl(owner, inst, UKCOV_KCOV_INIT_TRACE, 512), 0);
    uint64_t arg[4] = {};
    auto* ra = reinterpret_cast<ukcov_kcov_remote_arg*>(arg);
    *ra = {.trace_mode = 0, .area_size = 128, .num_handles = 1};
    ra->handles[0] = kHandle;
    ASSERT_EQ(Ioctl(owner, inst, UKCOV_KCOV_REMOTE_ENABLE, reinterpret_cast<unsigned long>(ra)), 0);
    std::atomic<bool> go{true};
    std::vector<std::thread> workers;
    for (int w = 0; w < 3; w++) {
      workers.emplace_back([&] {
        while (go.load()) {
          ukcov::RemoteSection section(engine, kHandle);
          if (section.status() != 0) EXPECT_EQ(section.status(), -ENOENT);
          fake_kernel::Walk(4);
        }
      });
    }
    std::this_thread::yield();
    owner.Exit();
    inst.Close();
    go = false;
    for (auto& w : workers) w.join();
    ASSERT_EQ(engine.stats().instances, 0u);
    ASSERT_EQ(engine.stats().handles, 0u);
  }
}

}  // namespace
}  // namespace ukcov_test
