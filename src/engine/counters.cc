// Registration of the counters and PC tables of each instrumented module
// (module constructors call the two init hooks, in that order), and their
// collection. Process-wide for the same reason as instrumentation.cc: it
// describes the loaded code.
#include "engine/counters.h"

#include <immintrin.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "engine/run_coverage.h"
#include "engine/slot.h"
#include "ukcov/ukcov.h"

namespace ukcov::engine {
namespace {

struct Region {
  uint8_t* counters;
  size_t n;
  // The PC table, compacted at registration to 32-bit offsets from the
  // lowest PC: the collection reads 4 bytes per hit instead of the table's
  // 16 (PC and flags). Null until pcs_init.
  uintptr_t base;
  uint32_t* offsets;
  // gVisor's numbers (block | function << 8 | package << 20), one a counter.
  uint32_t* codes;
};

constexpr int kMaxRegions = 64;
Region g_regions[kMaxRegions];
std::atomic<int> g_count{0};
std::atomic<bool> g_clean{true};
uint32_t g_next_package = 0;  // packages are numbered across modules, in load order

constexpr uintptr_t kFunctionEntry = 1;  // PC table flag: the block is a function's entry
constexpr uint32_t kBlocksPerFunction = 256, kFunctionsPerPackage = 4096, kPackages = 4096;

// Numbers the module's blocks as gVisor numbers its Go coverage blocks.
uint32_t* GvisorCodes(const uintptr_t* pcs, size_t n) {
  auto* codes = static_cast<uint32_t*>(std::malloc(n * sizeof(uint32_t)));
  if (codes == nullptr) return nullptr;
  uint32_t package = g_next_package, function = 0, block = 0;
  bool started = false;
  for (size_t i = 0; i < n; i++) {
    const bool entry = pcs[2 * i + 1] & kFunctionEntry;
    if (started && (entry || block == kBlocksPerFunction)) {
      block = 0;
      if (++function == kFunctionsPerPackage) {
        function = 0;
        package++;
      }
    }
    started = true;
    if (package >= kPackages) {  // beyond what 32 bits of code can number
      std::free(codes);
      return nullptr;
    }
    codes[i] = block++ | function << 8 | package << 20;
  }
  g_next_package = package + 1;
  return codes;
}

size_t NextTouchedChunkScalar(const uint8_t* base, size_t at, size_t end) {
  for (; at < end; at += 64) {
    const auto* w = reinterpret_cast<const uint64_t*>(base + at);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0) return at;
  }
  return end;
}

__attribute__((target("avx2"))) size_t NextTouchedChunkAvx2(const uint8_t* base, size_t at, size_t end) {
  for (; at + 256 <= end; at += 256) {
    const auto* p = reinterpret_cast<const __m256i*>(base + at);
    __m256i v = _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_load_si256(p), _mm256_load_si256(p + 1)),
                                                _mm256_or_si256(_mm256_load_si256(p + 2), _mm256_load_si256(p + 3))),
                                _mm256_or_si256(_mm256_or_si256(_mm256_load_si256(p + 4), _mm256_load_si256(p + 5)),
                                                _mm256_or_si256(_mm256_load_si256(p + 6), _mm256_load_si256(p + 7))));
    if (!_mm256_testz_si256(v, v)) break;
  }
  for (; at < end; at += 64) {
    const auto* p = reinterpret_cast<const __m256i*>(base + at);
    __m256i v = _mm256_or_si256(_mm256_load_si256(p), _mm256_load_si256(p + 1));
    if (!_mm256_testz_si256(v, v)) return at;
  }
  return end;
}

}  // namespace

size_t NextTouchedChunk(const uint8_t* base, size_t at, size_t end) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2 ? NextTouchedChunkAvx2(base, at, end) : NextTouchedChunkScalar(base, at, end);
}

bool CountersRegistered() { return g_count.load(std::memory_order_acquire) > 0; }

void CollectCounters(Slot& s, bool synthetic) {
  uint64_t* trace = s.trace;
  if (trace == nullptr) {
    DiscardCounters();
    return;
  }
  // The task is inside a syscall: nothing of it reads the area until the
  // return, so the PCs go in first and the count is published once, after
  // them. The count word is the guest's to write: bounded as AppendPc does.
  const uint64_t start = LoadWord(&trace[0]);
  uint64_t pos = start;
  const int count = g_count.load(std::memory_order_acquire);
  for (int r = 0; r < count; r++) {
    Region& region = g_regions[r];
    if (region.offsets == nullptr || (synthetic && region.codes == nullptr)) {  // nothing to name the blocks by
      ClearCounters(region.counters, region.n);
      continue;
    }
    if (synthetic) {
      const uint32_t* codes = region.codes;
      pos = CollectWith(region.counters, region.n, [codes](size_t i) { return ~uint64_t{codes[i]}; }, trace, pos,
                        s.limit);
      continue;
    }
    // Canonical PCs: the engine's encoding of the module's addresses. A
    // block's PC is its first instruction plus one, so that every consumer
    // that treats kcov PCs as return addresses (and looks up PC - 1, as
    // ukcov symbolize and syzkaller do) lands on the block itself.
    const uintptr_t base = EncodePc(s, region.base) + 1;
    pos = CollectInto(region.counters, region.n, base, region.offsets, trace, pos, s.limit);
  }
  if (pos != start) {
    __atomic_thread_fence(__ATOMIC_RELEASE);
    StoreWord(&trace[0], pos);
  }
  g_clean.store(true, std::memory_order_release);
}

void DiscardCounters() {
  const int count = g_count.load(std::memory_order_acquire);
  for (int r = 0; r < count; r++) ClearCounters(g_regions[r].counters, g_regions[r].n);
  g_clean.store(true, std::memory_order_release);
}

void FoldCounters() {
  const int count = g_count.load(std::memory_order_acquire);
  for (int r = 0; r < count; r++) {
    const Region& region = g_regions[r];
    if (region.offsets == nullptr) continue;
    // A block's PC is its first instruction plus one, as CollectCounters
    // records it.
    const uintptr_t base = region.base + 1;
    ForEachSetByte(region.counters, region.n, [&](size_t i) { MarkRun(base + region.offsets[i]); });
  }
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
  g_regions[count] = {reinterpret_cast<uint8_t*>(start), static_cast<size_t>(end - start), 0, nullptr, nullptr};
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
  if (region.offsets != nullptr || static_cast<size_t>(pcs_end - pcs_beg) != 2 * region.n) return;
  uintptr_t lo = UINTPTR_MAX;
  for (size_t i = 0; i < region.n; i++) lo = std::min(lo, pcs_beg[2 * i]);
  auto* offsets = static_cast<uint32_t*>(std::malloc(region.n * sizeof(uint32_t)));
  if (offsets == nullptr) return;
  for (size_t i = 0; i < region.n; i++) {
    const uintptr_t off = pcs_beg[2 * i] - lo;
    if (off > UINT32_MAX) {  // a module over 4 GiB of text: not this engine's
      std::free(offsets);
      return;
    }
    offsets[i] = static_cast<uint32_t>(off);
  }
  region.base = lo;
  region.offsets = offsets;
  region.codes = GvisorCodes(pcs_beg, region.n);
}

int ukcov_gvisor_pc_address(uint64_t pc, uintptr_t* address) {
  using namespace ukcov::engine;
  const uint64_t code = ~pc;
  if (code >> 32) return -ENOENT;
  const int count = g_count.load(std::memory_order_acquire);
  for (int r = 0; r < count; r++) {
    const Region& region = g_regions[r];
    if (region.codes == nullptr) continue;
    // Codes increase with the index within a module: a binary search.
    const uint32_t* begin = region.codes;
    const uint32_t* end = region.codes + region.n;
    const uint32_t* it = std::lower_bound(begin, end, static_cast<uint32_t>(code));
    if (it != end && *it == code) {
      *address = region.base + region.offsets[it - begin];
      return 0;
    }
  }
  return -ENOENT;
}

}  // extern "C"
