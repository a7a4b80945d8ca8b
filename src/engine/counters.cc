// Registration of the counters and PC tables of each instrumented module
// (module constructors call the two init hooks, in that order), and their
// collection. Process-wide for the same reason as instrumentation.cc: it
// describes the loaded code.
#include "engine/counters.h"

#include <atomic>

#include "engine/slot.h"
#include "ukcov/ukcov.h"

namespace ukcov::engine {
namespace {

struct Region {
  uint8_t* counters;
  size_t n;
  const uintptr_t* pcs;  // n pairs {pc, flags}; null until pcs_init
};

constexpr int kMaxRegions = 64;
Region g_regions[kMaxRegions];
std::atomic<int> g_count{0};
std::atomic<bool> g_clean{true};

}  // namespace

bool CountersRegistered() { return g_count.load(std::memory_order_acquire) > 0; }

uint64_t CollectCounters(Slot& s) {
  uint64_t found = 0;
  const int count = g_count.load(std::memory_order_acquire);
  for (int r = 0; r < count; r++) {
    Region& region = g_regions[r];
    const uintptr_t* pcs = region.pcs;
    found += ScanAndClear(region.counters, region.n, [&](size_t i) {
      if (pcs != nullptr && s.trace != nullptr) AppendPc(s, pcs[2 * i]);
    });
  }
  g_clean.store(true, std::memory_order_release);
  return found;
}

void DiscardCounters() {
  const int count = g_count.load(std::memory_order_acquire);
  for (int r = 0; r < count; r++) ScanAndClear(g_regions[r].counters, g_regions[r].n, [](size_t) {});
  g_clean.store(true, std::memory_order_release);
}

void NoteUncollected() { g_clean.store(false, std::memory_order_release); }
bool CountersClean() { return g_clean.load(std::memory_order_acquire); }

}  // namespace ukcov::engine

extern "C" {

// SanitizerCoverage's hooks for inline-8bit-counters and pc-table.
__attribute__((visibility("default"), used)) void __sanitizer_cov_8bit_counters_init(char* start, char* end) {
  using namespace ukcov::engine;
  if (start == end) return;
  const int count = g_count.load(std::memory_order_acquire);
  for (int r = 0; r < count; r++)
    if (g_regions[r].counters == reinterpret_cast<uint8_t*>(start)) return;  // called again for the same module
  if (count == kMaxRegions) return;
  g_regions[count] = {reinterpret_cast<uint8_t*>(start), static_cast<size_t>(end - start), nullptr};
  g_count.store(count + 1, std::memory_order_release);
  ukcov_register_instrumentation(UKCOV_FEATURE_COUNTERS, start);
}

__attribute__((visibility("default"), used)) void __sanitizer_cov_pcs_init(const uintptr_t* pcs_beg,
                                                                          const uintptr_t* pcs_end) {
  using namespace ukcov::engine;
  // The table of the module whose counters were registered last, one
  // {pc, flags} pair per counter.
  const int count = g_count.load(std::memory_order_acquire);
  if (count == 0) return;
  Region& region = g_regions[count - 1];
  if (region.pcs == nullptr && static_cast<size_t>(pcs_end - pcs_beg) == 2 * region.n) region.pcs = pcs_beg;
}

}  // extern "C"
