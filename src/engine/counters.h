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
// would, bounded the same way) and clears the counters. Returns how many
// counters were set.
uint64_t CollectCounters(Slot& s);
// Clears the counters without recording: what ran for nobody in particular.
void DiscardCounters();

// Marks the counters as holding blocks that nobody will collect (a task
// without kcov entered): the next collection starts with a discard.
void NoteUncollected();
bool CountersClean();

// The scan itself, exposed for the benchmarks: calls emit(index) for each
// non-zero counter in [counters, counters + n) in order, and zeroes it.
// Untouched memory is skipped 64 bytes at a time.
template <class Emit>
inline uint64_t ScanAndClear(uint8_t* counters, size_t n, Emit&& emit) {
  uint64_t found = 0;
  size_t i = 0;
  // Head: bytes up to 8-byte alignment.
  for (; i < n && (reinterpret_cast<uintptr_t>(counters + i) & 7) != 0; i++) {
    if (counters[i] != 0) {
      counters[i] = 0;
      emit(i);
      found++;
    }
  }
  auto word_at = [&](size_t at) { return reinterpret_cast<uint64_t*>(counters + at); };
  for (; i + 64 <= n; i += 64) {
    uint64_t* w = word_at(i);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) == 0) continue;
    for (size_t k = 0; k < 8; k++) {
      uint64_t v = w[k];
      if (v == 0) continue;
      w[k] = 0;  // only what was set is written
      while (v != 0) {
        const unsigned byte = static_cast<unsigned>(__builtin_ctzll(v)) / 8;
        emit(i + k * 8 + byte);
        found++;
        v &= ~(uint64_t{0xff} << (byte * 8));
      }
    }
  }
  for (; i < n; i++) {
    if (counters[i] != 0) {
      counters[i] = 0;
      emit(i);
      found++;
    }
  }
  return found;
}

}  // namespace ukcov::engine
