// The counters backend (issue 5): what a return to user space costs to
// collect the blocks that ran, over a grid of binary sizes N and hit rates,
// for this backend's scan, a faithful re-implementation of the seed's full
// scan (bench/seed.h), and the trace backend's per-block callbacks for the
// same hits; and the steady cost of one block executed under each backend.
// bench/run.sh turns the JSON into docs/performance.md's table and plot.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "blocks.h"
#include "engine/counters.h"
#include "seed.h"
#include "ukcov/ukcov.hpp"

extern "C" void __sanitizer_cov_trace_pc_guard(uint32_t* guard);

namespace {

using Clock = std::chrono::steady_clock;

// The same hits for every design: `permille` of N counters. Clustered
// (the default): as code runs, in functions: runs of 24 consecutive blocks
// of which about two thirds run, at random places. Uniform: each block
// independently, the worst case for skipping untouched memory and for the
// locality of the PC table.
enum Spread { kClustered = 0, kUniform = 1 };

std::vector<size_t> Hits(size_t n, int permille, int spread) {
  std::mt19937_64 rng(42);
  std::vector<uint8_t> hit(n, 0);
  const size_t want = n * static_cast<size_t>(permille) / 1000;
  size_t have = 0;
  if (spread == kUniform) {
    for (size_t i = 0; i < n; i++)
      if (static_cast<int>(rng() % 1000) < permille) hit[i] = 1;
  } else {
    while (have < want) {
      const size_t start = rng() % (n - 24);
      for (size_t k = 0; k < 24 && have < want; k++)
        if (rng() % 3 != 0 && !hit[start + k]) hit[start + k] = 1, have++;
    }
  }
  std::vector<size_t> hits;
  for (size_t i = 0; i < n; i++)
    if (hit[i]) hits.push_back(i);
  return hits;
}

void Args(benchmark::internal::Benchmark* b) {
  for (int64_t spread : {kClustered, kUniform})
    for (int64_t n : {10000, 100000, 1000000, 4000000})
      for (int64_t permille : {1, 10, 100}) b->Args({n, permille, spread});
  b->ArgNames({"N", "permille", "uniform"})->UseManualTime()->Unit(benchmark::kMicrosecond);
}

// This backend: the byte counters, scanned 64 bytes at a time, each set one
// turned into its PC (from the PC table) in the area and cleared.
void BM_CountersScan(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::vector<size_t> hits = Hits(n, static_cast<int>(state.range(1)), static_cast<int>(state.range(2)));
  auto* counters = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64));
  std::fill(counters, counters + n, 0);
  // The PC table as the engine keeps it: 32-bit offsets from the lowest PC.
  std::vector<uint32_t> offsets(n);
  for (size_t i = 0; i < n; i++) offsets[i] = static_cast<uint32_t>(16 * i);
  const uint64_t base = 0xffffffff80000000ull;
  std::vector<uint64_t> area(n + 2);
  for (auto _ : state) {
    for (size_t i : hits) counters[i] = 1;
    auto t0 = Clock::now();
    uint64_t* a = area.data();
    const uint64_t words = area.size();
    a[0] = ukcov::engine::CollectInto(counters, n, base, offsets.data(), a, 0, words);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  if (area[0] != hits.size()) state.SkipWithError("wrong number of PCs");
  state.counters["hits"] = static_cast<double>(hits.size());
  std::free(counters);
}
BENCHMARK(BM_CountersScan)->Apply(Args);

// The seed: every counter of the binary visited at every return.
void BM_SeedScan(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::vector<size_t> hits = Hits(n, static_cast<int>(state.range(1)), static_cast<int>(state.range(2)));
  SeedCoverage seed(n);
  std::vector<uint64_t> area(n + 2);
  for (auto _ : state) {
    uint32_t* counters = seed.counters();
    for (size_t i : hits) counters[i] = 1;
    auto t0 = Clock::now();
    area[0] = 0;
    benchmark::DoNotOptimize(seed.Consume(area.data(), area.size()));
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  if (area[0] != hits.size()) state.SkipWithError("wrong number of PCs");
  state.counters["hits"] = static_cast<double>(hits.size());
}
BENCHMARK(BM_SeedScan)->Apply(Args);

// The trace backend for the same hits: nothing to do at the return, one
// callback per block as it runs (here: the callback called once per hit,
// with a recording slot, as a handler's blocks would).
void BM_TraceCallbacks(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const size_t hits = Hits(n, static_cast<int>(state.range(1)), static_cast<int>(state.range(2))).size();
  ukcov_engine_options options;
  ukcov_engine_options_init(&options);
  options.features = UKCOV_FEATURE_CMP | UKCOV_FEATURE_GUARDS;  // no counting at leave
  auto engine = ukcov::Engine::Create(&options);
  auto task = ukcov::Task::Create(*engine);
  auto inst = ukcov::Instance::Open(*engine);
  inst->Ioctl(*task, UKCOV_KCOV_INIT_TRACE, hits + 2);
  inst->Ioctl(*task, UKCOV_KCOV_ENABLE, UKCOV_KCOV_TRACE_PC);
  uint64_t* area = inst->area().data();
  std::vector<uint32_t> guards(hits, 1);
  ukcov::Serving serving(*task);
  for (auto _ : state) {
    auto t0 = Clock::now();
    area[0] = 0;
    for (size_t i = 0; i < hits; i++) __sanitizer_cov_trace_pc_guard(&guards[i]);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  if (area[0] != hits) state.SkipWithError("wrong number of PCs");
  state.counters["hits"] = static_cast<double>(hits);
}
BENCHMARK(BM_TraceCallbacks)->Apply(Args);

// The steady cost per block executed: the 256-block handler with a counter
// increment per block, against the same handler uninstrumented.
void BM_BlocksCounters(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(bench_counters::Run(~0ull));
}
BENCHMARK(BM_BlocksCounters);
void BM_BlocksPlain(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(bench_plain::Run(~0ull));
}
BENCHMARK(BM_BlocksPlain);

}  // namespace

BENCHMARK_MAIN();
