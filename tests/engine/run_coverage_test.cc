// The whole run's coverage (ukcov_engine_options.run_coverage): every block
// that ran while the engine served a task, whatever kcov did meanwhile, in
// both backends.
#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <vector>

#include "fake_kernel.h"
#include "test_host.h"

namespace ukcov_test {
namespace {

ukcov::Engine RunEngine() {
  ukcov_engine_options options;
  ukcov_engine_options_init(&options);
  options.run_coverage = 1;
  auto engine = ukcov::Engine::Create(&options);
  EXPECT_TRUE(engine.ok()) << engine.error();
  return std::move(engine.value());
}

std::set<uint64_t> RunPcs(const ukcov::Engine& engine) {
  std::set<uint64_t> pcs;
  long n = ukcov_engine_run_coverage(
      engine.get(), [](void* ctx, uint64_t pc) { static_cast<std::set<uint64_t>*>(ctx)->insert(pc); }, &pcs);
  EXPECT_EQ(n, static_cast<long>(pcs.size()));
  return pcs;
}

// The host address of a canonical PC.
uintptr_t AddressOf(const ukcov::Engine& engine, uint64_t pc) {
  ukcov_pc_map map;
  ukcov_engine_pc_map(engine.get(), &map);
  return static_cast<uintptr_t>(pc - map.bias);
}

TEST(RunCoverage, BlocksThatRanWhileServingAndNothingElse) {
  ukcov::Engine engine = RunEngine();
  ukcov::Task task = MakeTask(engine);
  fake_kernel::PathB(1);  // served by nobody: not the run's
  EXPECT_TRUE(RunPcs(engine).empty());
  Syscall(task, [] { return fake_kernel::PathA(5); });
  std::set<uint64_t> first = RunPcs(engine);
  ASSERT_FALSE(first.empty());
  const fake_kernel::Range a = fake_kernel::RangeOf(reinterpret_cast<const void*>(&fake_kernel::PathA));
  for (uint64_t pc : first) EXPECT_TRUE(a.Contains(AddressOf(engine, pc) - 1)) << std::hex << pc;
  // The same work again adds nothing; other work adds its own blocks.
  Syscall(task, [] { return fake_kernel::PathA(5); });
  EXPECT_EQ(RunPcs(engine), first);
  Syscall(task, [] { return fake_kernel::PathB(5); });
  std::set<uint64_t> both = RunPcs(engine);
  EXPECT_GT(both.size(), first.size());
  for (uint64_t pc : first) EXPECT_TRUE(both.count(pc));
}

// With kcov recording too, the run holds exactly the PCs kcov saw.
TEST(RunCoverage, SameSetAsKcovTracePc) {
  ukcov::Engine engine = RunEngine();
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 1 << 16), 0);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC), 0);
  uint64_t* area = inst.area().data();
  __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
  Syscall(task, [] { return fake_kernel::Walk(20) + fake_kernel::PathA(3) + fake_kernel::PathB(4); });
  const uint64_t n = Count(area);
  ASSERT_GT(n, 0u);
  std::set<uint64_t> kcov(area + 1, area + 1 + n);
  // Only the fake kernel is instrumented (the ioctls ran in the engine,
  // which never is): the run is kcov's set, no more, no less.
  EXPECT_EQ(RunPcs(engine), kcov);
}

TEST(RunCoverage, ComparisonsStillRecordedAlongside) {
  if (CountersBuild()) GTEST_SKIP() << "the counters backend has no CMP mode";
  ukcov::Engine engine = RunEngine();
  ukcov::Task task = MakeTask(engine);
  ukcov::Instance inst = OpenInstance(engine);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_INIT_TRACE, 4096), 0);
  ASSERT_EQ(Ioctl(task, inst, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_CMP), 0);
  uint64_t* area = inst.area().data();
  __atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
  Syscall(task, [] { return fake_kernel::IsMagic(0x1122334455667788); });
  EXPECT_GT(Count(area), 0u);
  EXPECT_FALSE(RunPcs(engine).empty());
}

TEST(RunCoverage, RemoteSectionsAreTheRunsToo) {
  ukcov::Engine engine = RunEngine();
  ukcov::Task task = MakeTask(engine);
  Syscall(task, [&] {
    // No handle registered: no section, but serving goes on recording.
    EXPECT_EQ(ukcov_remote_start(engine.get(), UKCOV_KCOV_SUBSYSTEM_USB | 1), -ENOENT);
    return fake_kernel::PathA(2);
  });
  EXPECT_FALSE(RunPcs(engine).empty());
}

TEST(RunCoverage, OneEngineAtATime) {
  ukcov_engine_options options;
  ukcov_engine_options_init(&options);
  options.run_coverage = 1;
  {
    ukcov::Engine first = RunEngine();
    ukcov_engine* second = nullptr;
    EXPECT_EQ(ukcov_engine_create(&options, &second), -EBUSY);
  }
  ukcov_engine* again = nullptr;
  ASSERT_EQ(ukcov_engine_create(&options, &again), 0);
  ukcov_engine_destroy(again);
}

TEST(RunCoverage, NotCollectedUnlessAsked) {
  ukcov::Engine engine = MakeEngine();
  EXPECT_EQ(ukcov_engine_run_coverage(engine.get(), nullptr, nullptr), -EINVAL);
}

}  // namespace
}  // namespace ukcov_test
