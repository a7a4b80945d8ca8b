// Remote coverage: background work bracketed by remote_start/stop lands in
// the owner's area at stop, truncated to what fits, never after a DISABLE.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include "fake_kernel.h"
#include "test_host.h"

extern "C" void __sanitizer_cov_trace_cmp4(uint32_t, uint32_t);

namespace ukcov_test {
namespace {

constexpr uint64_t kUsb1 = UKCOV_KCOV_SUBSYSTEM_USB | 1;
constexpr uint64_t kCommon = UKCOV_KCOV_SUBSYSTEM_COMMON | 42;

class Remote : public ::testing::Test {
 protected:
  uint64_t* RemoteEnable(uint64_t words, uint32_t area_size, uint32_t mode = UKCOV_KCOV_TRACE_PC,
                         long expect = 0) {
    EXPECT_EQ(Ioctl(owner_, inst_, UKCOV_KCOV_INIT_TRACE, words), 0);
    uint64_t arg[4] = {};
    auto* ra = reinterpret_cast<ukcov_kcov_remote_arg*>(arg);
    ra->trace_mode = mode;
    ra->area_size = area_size;
    ra->num_handles = 1;
    ra->common_handle = kCommon;
    ra->handles[0] = kUsb1;
    EXPECT_EQ(Ioctl(owner_, inst_, UKCOV_KCOV_REMOTE_ENABLE, reinterpret_cast<unsigned long>(ra)), expect);
    uint64_t* area = inst_.area().data();
    area[0] = 0;
    return area;
  }
  // Background work on a thread of its own, as a host's worker would run it.
  template <class F>
  int OnWorker(uint64_t handle, F&& work) {
    int status = 0;
    std::thread worker([&] {
      ukcov::RemoteSection section(engine_, handle);
      status = section.status();
      work();
    });
    worker.join();
    return status;
  }

  ukcov::Engine engine_ = MakeEngine();
  ukcov::Task owner_ = MakeTask(engine_);
  ukcov::Instance inst_ = OpenInstance(engine_);
};

TEST_F(Remote, SectionIsAppendedAtStop) {
  uint64_t* area = RemoteEnable(4096, 1024);
  auto walk = fake_kernel::RangeOf(reinterpret_cast<const void*>(&fake_kernel::Walk));
  ASSERT_EQ(OnWorker(kUsb1, [] { fake_kernel::Walk(10); }), 0);
  uint64_t n = Count(area);
  ASSERT_GT(n, CountersBuild() ? 2u : 10u);  // counters: each of Walk()'s 3 blocks once
  ukcov_pc_map map;
  ukcov_engine_pc_map(engine_.get(), &map);
  for (uint64_t i = 1; i <= n; i++) EXPECT_TRUE(walk.Contains(area[i] - map.bias));
  // A second section appends after the first.
  ASSERT_EQ(OnWorker(kCommon, [] { fake_kernel::Walk(10); }), 0);
  EXPECT_EQ(Count(area), 2 * n);
}

TEST_F(Remote, OwnersOwnSyscallsAreNotTraced) {
  uint64_t* area = RemoteEnable(4096, 1024);
  Syscall(owner_, [] { return fake_kernel::Walk(10); });
  EXPECT_EQ(Count(area), 0u);
}

TEST_F(Remote, AppendTruncatesToTheAreaAndKeepsWhatWasThere) {
  uint64_t* area = RemoteEnable(16, 1024);
  area[0] = CountersBuild() ? 13 : 10;  // room for fewer PCs than the section has
  ASSERT_EQ(OnWorker(kUsb1, [] { fake_kernel::Walk(100); }), 0);
  EXPECT_EQ(Count(area), 15u);
  ASSERT_EQ(OnWorker(kUsb1, [] { fake_kernel::Walk(100); }), 0);
  EXPECT_EQ(Count(area), 15u);  // full: nothing more
}

TEST_F(Remote, TemporaryAreaBoundsEachSection) {
  uint64_t* area = RemoteEnable(4096, 4);  // 3 PCs per section
  ASSERT_EQ(OnWorker(kUsb1, [] { fake_kernel::Walk(100); }), 0);
  EXPECT_EQ(Count(area), 3u);
}

TEST_F(Remote, GuestCorruptedCountStopsTheAppend) {
  uint64_t* area = RemoteEnable(64, 1024);
  area[0] = ~0ull - 5;
  ASSERT_EQ(OnWorker(kUsb1, [] { fake_kernel::Walk(10); }), 0);
  EXPECT_EQ(area[0], ~0ull - 5);
  for (int i = 1; i < 512; i++) ASSERT_EQ(area[i], 0u);
}

TEST_F(Remote, CmpRecordsMoveWhole) {
  if (CountersBuild()) {  // no comparison coverage: ENOTSUPP, as Linux without it
    RemoteEnable(10, 1024, UKCOV_KCOV_TRACE_CMP, -UKCOV_ENOTSUPP);
    return;
  }
  uint64_t* area = RemoteEnable(10, 1024, UKCOV_KCOV_TRACE_CMP);  // (10-1)/4 = 2 records
  ASSERT_EQ(OnWorker(kUsb1, [] {
              for (uint32_t i = 0; i < 5; i++) __sanitizer_cov_trace_cmp4(i, 100);
            }),
            0);
  ASSERT_EQ(Count(area), 2u);
  EXPECT_EQ(area[1], UKCOV_KCOV_CMP_SIZE(2));
  EXPECT_EQ(area[2], 0u);
  EXPECT_EQ(area[3], 100u);
  EXPECT_EQ(area[6], 1u);
  EXPECT_EQ(area[9], 0u);  // the slack word after the last whole record
}

TEST_F(Remote, DisableDuringSectionDropsIt) {
  uint64_t* area = RemoteEnable(4096, 1024);
  std::atomic<int> phase{0};
  std::thread worker([&] {
    ukcov::RemoteSection section(engine_, kUsb1);
    EXPECT_EQ(section.status(), 0);
    fake_kernel::Walk(10);
    phase = 1;
    while (phase.load() != 2) std::this_thread::yield();
    fake_kernel::Walk(10);
  });
  while (phase.load() != 1) std::this_thread::yield();
  ASSERT_EQ(Ioctl(owner_, inst_, UKCOV_KCOV_DISABLE, 0), 0);
  phase = 2;
  worker.join();
  EXPECT_EQ(Count(area), 0u);
}

TEST_F(Remote, OwnerExitDuringSectionDropsItAndFreesAfterStop) {
  RemoteEnable(4096, 1024);
  std::atomic<int> phase{0};
  std::thread worker([&] {
    ukcov::RemoteSection section(engine_, kUsb1);
    EXPECT_EQ(section.status(), 0);
    phase = 1;
    while (phase.load() != 2) std::this_thread::yield();
    fake_kernel::Walk(10);
  });
  while (phase.load() != 1) std::this_thread::yield();
  owner_.Exit();
  inst_.Close();
  EXPECT_EQ(engine_.stats().instances, 1u);  // the section still holds it
  EXPECT_EQ(engine_.stats().handles, 0u);
  phase = 2;
  worker.join();
  EXPECT_EQ(engine_.stats().instances, 0u);
}

TEST_F(Remote, UnknownHandleAndNestingAreRefused) {
  RemoteEnable(4096, 1024);
  EXPECT_EQ(OnWorker(UKCOV_KCOV_SUBSYSTEM_USB | 2, [] {}), -ENOENT);
  std::thread worker([&] {
    ukcov::RemoteSection outer(engine_, kUsb1);
    ASSERT_EQ(outer.status(), 0);
    ukcov::RemoteSection inner(engine_, kCommon);
    EXPECT_EQ(inner.status(), -EBUSY);
  });
  worker.join();
}

TEST_F(Remote, RefusedInATaskThatRecords) {
  RemoteEnable(4096, 1024);
  ukcov::Task other = MakeTask(engine_);
  ukcov::Instance mine = OpenInstance(engine_);
  ASSERT_EQ(Ioctl(other, mine, UKCOV_KCOV_INIT_TRACE, 64), 0);
  ASSERT_EQ(Ioctl(other, mine, UKCOV_KCOV_ENABLE, 0), 0);
  ukcov::Serving serving(other);
  EXPECT_EQ(ukcov_remote_start(engine_.get(), kUsb1), -EBUSY);
}

TEST_F(Remote, AllowedInATaskWithoutKcov) {
  uint64_t* area = RemoteEnable(4096, 1024);
  ukcov::Task plain = MakeTask(engine_);
  {
    ukcov::Serving serving(plain);
    ukcov::RemoteSection section(engine_, kUsb1);
    ASSERT_EQ(section.status(), 0);
    fake_kernel::PathA(3);
  }
  EXPECT_GT(Count(area), 0u);
}

TEST_F(Remote, CommonHandleIsInheritedAndCarriesWork) {
  uint64_t* area = RemoteEnable(4096, 1024);
  EXPECT_EQ(owner_.common_handle(), kCommon);
  ukcov::Task child = std::move(owner_.Fork().value());
  ukcov::Task grandchild = std::move(child.Fork().value());
  // The child's syscall queues work; the worker attributes it through the
  // handle it captured (Linux kcov_common_handle()).
  uint64_t captured = Syscall(grandchild, [] { return ukcov_common_handle(); });
  EXPECT_EQ(captured, kCommon);
  ASSERT_EQ(OnWorker(captured, [] { fake_kernel::PathB(7); }), 0);
  EXPECT_GT(Count(area), 0u);
}

TEST_F(Remote, CountIsPublishedWithRelease) {
  uint64_t* area = RemoteEnable(1 << 16, 64);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      uint64_t n = __atomic_load_n(&area[0], __ATOMIC_ACQUIRE);
      for (uint64_t i = 1; i <= n && i < (1 << 16); i++) ASSERT_NE(__atomic_load_n(&area[i], __ATOMIC_RELAXED), 0u);
    }
  });
  for (int i = 0; i < 200; i++) ASSERT_EQ(OnWorker(kUsb1, [] { fake_kernel::PathA(4); }), 0);
  done = true;
  reader.join();
  EXPECT_GT(Count(area), 200u);
}

}  // namespace
}  // namespace ukcov_test
