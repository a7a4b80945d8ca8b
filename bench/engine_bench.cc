// Per-block cost of recording coverage, and per-syscall cost of collecting
// it, against the seed's design measured in the same run. bench/run.sh turns
// the JSON into the table of docs/performance.md.
#include <benchmark/benchmark.h>

#include "harness.h"

namespace bench {
namespace {

// One "syscall" of 256 conditional blocks with the task's kcov in `mode`.
void BM_Blocks(benchmark::State& state, Mode mode) {
  Served served(mode);
  for (auto _ : state) benchmark::DoNotOptimize(served.Call());
  state.counters["callbacks"] = static_cast<double>(mode == Mode::kSeed ? kSeedBlocks : CallbacksPerCall(Mode::kPc));
  state.counters["records"] = static_cast<double>(mode == Mode::kCmp ? served.count() : 0);
}
BENCHMARK_CAPTURE(BM_Blocks, plain, Mode::kPlain);
BENCHMARK_CAPTURE(BM_Blocks, ukcov_off, Mode::kOff);
BENCHMARK_CAPTURE(BM_Blocks, ukcov_pc, Mode::kPc);
BENCHMARK_CAPTURE(BM_Blocks, ukcov_cmp, Mode::kCmp);
BENCHMARK_CAPTURE(BM_Blocks, ukcov_unique, Mode::kUnique);
BENCHMARK_CAPTURE(BM_Blocks, seed_counters, Mode::kSeed);
BENCHMARK_CAPTURE(BM_Blocks, ukcov_run, Mode::kRun);

// A whole syscall as the host runs it: enter, the handler, leave (ukcov's
// return to user space does no work).
void BM_Syscall_Ukcov(benchmark::State& state) {
  Served served(Mode::kPc);
  ukcov_leave();
  ukcov::Task& task = served.task();
  for (auto _ : state) {
    ukcov_enter(task.get());
    benchmark::DoNotOptimize(served.Call());
    ukcov_leave();
  }
  ukcov_enter(task.get());
}
BENCHMARK(BM_Syscall_Ukcov);

// The seed's syscall: the handler bumps its counters, then the return to
// user space scans all N counters of the binary.
void BM_Syscall_Seed(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Served served(Mode::kSeed, n);
  uint64_t* area = served.area();
  for (auto _ : state) {
    benchmark::DoNotOptimize(served.Call());
    area[0] = 0;
    benchmark::DoNotOptimize(served.seed().Consume(area, kAreaWords));
  }
}
BENCHMARK(BM_Syscall_Seed)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);

// enter + leave alone, for a task with and without kcov.
void BM_EnterLeave(benchmark::State& state, Mode mode) {
  Served served(mode);
  ukcov_leave();
  ukcov_task* task = served.task().get();
  for (auto _ : state) {
    ukcov_enter(task);
    ukcov_leave();
  }
  ukcov_enter(task);
}
BENCHMARK_CAPTURE(BM_EnterLeave, no_kcov, Mode::kOff);
BENCHMARK_CAPTURE(BM_EnterLeave, kcov_pc, Mode::kPc);

}  // namespace
}  // namespace bench

BENCHMARK_MAIN();
