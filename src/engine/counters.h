// The counters backend (-DUKCOV_COVERAGE=counters): SanitizerCoverage's
// inline 8-bit counters and PC table instead of callbacks. A block that runs
// increments its counter in place; the engine turns the counters that are
// set into PCs when a task leaves the kernel (or a remote section ends), and
// clears them. Counters are process-wide, like the code they count: which
// task's they are is the host's to guarantee (docs/design.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ukcov::engine {

struct Slot;

// True once an instrumented module registered counters.
bool CountersRegistered();

// Appends the PC of every set counter to the slot's trace (as the callbacks
// would, bounded the same way) and clears the counters. `synthetic`: gVisor's
// numbers (UKCOV_PC_GVISOR) instead of canonical addresses.
void CollectCounters(Slot& s, bool synthetic);
// Clears the counters without recording: what ran for nobody in particular.
void DiscardCounters();
// Marks every set counter's block in the run's coverage (run_coverage.h),
// clearing nothing.
void FoldCounters();

// Marks the counters as holding blocks that nobody will collect (a task
// without kcov entered): the next collection starts with a discard.
void NoteUncollected();
bool CountersClean();

// The first 64-byte chunk at or after `at` (a multiple of 64 from a 64-byte
// aligned base) that holds a non-zero byte, or `end` (also a multiple of
// 64): where a scan resumes. AVX2 where the CPU has it: 256 bytes of
// untouched counters are two loads, an OR and a test.
size_t NextTouchedChunk(const uint8_t* base, size_t at, size_t end);

// The collection proper: the PC value(i) of every set counter i appended to
// out[pos + 1 ...] while pos + 1 < limit, the counters cleared. A set word's
// eight bytes are expanded without branches (the slot is written whether or
// not the byte was set, and the position advances only for set ones), which
// is what makes a hit cost a few cycles. Returns the new position; the
// caller publishes it.
template <class Value>
inline uint64_t CollectWith(uint8_t* counters, size_t n, Value&& value, uint64_t* out, uint64_t pos, uint64_t limit) {
  size_t i = 0;
  auto one = [&](size_t at) {
    if (counters[at] != 0) {
      counters[at] = 0;
      if (pos + 1 < limit) out[++pos] = value(at);
    }
  };
  for (; i < n && (reinterpret_cast<uintptr_t>(counters + i) & 63) != 0; i++) one(i);
  uint8_t* chunk_base = counters + i;
  const size_t body = (n - i) / 64 * 64;
  for (size_t at = NextTouchedChunk(chunk_base, 0, body); at < body;
       at = NextTouchedChunk(chunk_base, at + 64, body)) {
    auto* w = reinterpret_cast<uint64_t*>(chunk_base + at);
    for (size_t k = 0; k < 8; k++) {
      const uint64_t v = w[k];
      if (v == 0) continue;
      w[k] = 0;
      const size_t idx = i + at + k * 8;
      if (pos + 9 < limit) {
        for (unsigned b = 0; b < 8; b++) {
          out[pos + 1] = value(idx + b);
          pos += ((v >> (8 * b)) & 0xff) != 0;
        }
      } else {
        for (unsigned b = 0; b < 8; b++)
          if (((v >> (8 * b)) & 0xff) != 0 && pos + 1 < limit) out[++pos] = value(idx + b);
      }
    }
  }
  for (i += body; i < n; i++) one(i);
  return pos;
}

// Clears the counters that are set, recording nothing (a limit of 0).
inline void ClearCounters(uint8_t* counters, size_t n) {
  CollectWith(counters, n, [](size_t) { return uint64_t{0}; }, nullptr, 0, 0);
}

// With canonical (or raw) addresses: base + offsets[i].
inline uint64_t CollectInto(uint8_t* counters, size_t n, uintptr_t base, const uint32_t* offsets, uint64_t* out,
                            uint64_t pos, uint64_t limit) {
  return CollectWith(counters, n, [base, offsets](size_t i) -> uint64_t { return base + offsets[i]; }, out, pos,
                     limit);
}

}  // namespace ukcov::engine
