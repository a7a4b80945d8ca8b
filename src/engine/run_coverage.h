// The whole run's coverage (ukcov_engine_options.run_coverage): one byte per
// byte of the instrumented module's executable segments, set when a block
// whose callback returns to that address ran while the engine served a task
// (the trace backend's callbacks under kRunBit), or when its counter was
// found set at a leave (the counters backend). Process-wide, as the code it
// maps: one engine at a time owns it. The pages are anonymous and touched
// only where code ran, so the map costs what was covered.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/pc_map.h"
#include "ukcov/result.hpp"

namespace ukcov::engine {

struct RunMap {
  uint8_t* bytes;  // null: no run coverage
  uintptr_t lo;    // the module's executable segments, [lo, lo + len)
  uintptr_t len;
};

// Read by the callbacks (defined in callbacks.cc); written only by
// ClaimRunMap/ReleaseRunMap, while no thread serves with kRunBit.
extern constinit RunMap g_run_map __attribute__((visibility("hidden")));

// A block returning to `address` ran. A store of 1 whatever was there: the
// same value from every thread, so no read and no atomic read-modify-write.
inline __attribute__((always_inline)) void MarkRun(uintptr_t address) {
  const uintptr_t i = address - g_run_map.lo;
  if (__builtin_expect(i < g_run_map.len, 1)) __atomic_store_n(&g_run_map.bytes[i], uint8_t{1}, __ATOMIC_RELAXED);
}

// Maps the run's bytes over `module`'s executable segments. EBUSY: another
// engine owns the run map; ENOMEM.
Result<void> ClaimRunMap(const PcMap& module);
void ReleaseRunMap();

// Calls fn(i) for every i < n with bytes[i] != 0, ascending; eight bytes
// at a time, as most of a map or a counters array is zero.
template <class Fn>
void ForEachSetByte(const uint8_t* bytes, size_t n, Fn&& fn) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    __builtin_memcpy(&w, bytes + i, 8);
    if (w == 0) continue;
    for (size_t k = 0; k < 8; k++)
      if (bytes[i + k] != 0) fn(i + k);
  }
  for (; i < n; i++)
    if (bytes[i] != 0) fn(i);
}

// Every address marked so far, ascending.
template <class Visit>
void VisitRun(Visit&& visit) {
  const RunMap m = g_run_map;
  if (m.bytes == nullptr) return;
  ForEachSetByte(m.bytes, m.len, [&](size_t i) { visit(m.lo + i); });
}

}  // namespace ukcov::engine
