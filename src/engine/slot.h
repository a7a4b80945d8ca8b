// The per-host-thread recording slot: the only mutable global state of the
// engine. The SanitizerCoverage callbacks read it and nothing else.
//
// Concurrency: a slot is written only by its own thread (enter/leave, the
// ioctls of the task it serves, remote sections), so the only thing that can
// interleave with a callback is a signal handler on the same thread running
// instrumented code. As in Linux's kcov_start/kcov_stop, `mode` is stored
// last when recording starts and first when it stops, with compiler fences
// between, and a record's count is stored before its payload: a nested
// callback then either sees nothing to do or appends after our entry.
//
// The area lives in memory the guest can write (it is mapped shared), so the
// recording functions treat every word they read from it as hostile: only
// the bound checks below stand between a guest-written count and a wild
// store, and they are written so that no value of the count can overflow
// them.
#pragma once

#include <cstdint>

#include "ukcov/kcov.h"

namespace ukcov::engine {

class Task;
class Instance;
struct RemoteSection;

// Ordered so that one compare sends "nothing enabled" and TRACE_CMP back
// from the PC callbacks (below kTracePc) and picks TRACE_PC (equal). The
// low bit is TRACE_CMP's alone (the comparison callbacks test it), and
// kRunBit adds the whole run's coverage (run_coverage.h) to any mode.
enum class RecordMode : uint32_t {
  kOff = 0,
  kTraceCmp = 1,
  kTracePc = 2,  // every callback address is in the PC map's module: no range check
  kUniquePc = 4,
  kTracePcRanged = 6,   // kTracePc with instrumented code outside the map (raw PCs there)
  kUniquePcRanged = 8,  // kUniquePc likewise
  kRun = 16,            // nothing for kcov; the block goes into the run's coverage
};
inline constexpr uint32_t kCmpBit = 1;
inline constexpr uint32_t kRunBit = 16;
inline constexpr RecordMode WithRun(RecordMode m) { return static_cast<RecordMode>(static_cast<uint32_t>(m) | kRunBit); }
inline constexpr RecordMode KcovPart(RecordMode m) { return static_cast<RecordMode>(static_cast<uint32_t>(m) & ~kRunBit); }
inline constexpr bool HasRun(RecordMode m) { return static_cast<uint32_t>(m) & kRunBit; }

// The first cache line is all a callback touches.
struct alignas(64) Slot {
  RecordMode mode;  // accessed with __atomic relaxed + signal fences
  uint32_t unused;
  uint64_t* trace;       // trace[0] is the count
  uint64_t limit;        // PC/unique: words in the trace incl. the count word; CMP: max records
  uint64_t* bitmap;      // unique mode: one bit per guard index
  uint64_t bitmap_last;  // bits in the bitmap - 1 (0 without one): guard indices 1..bitmap_last have a bit
  uintptr_t pc_lo;       // canonical PC = ret + pc_bias when ret - pc_lo < pc_len
  uintptr_t pc_len;
  uintptr_t pc_bias;

  // Cold: bookkeeping of enter/leave and remote sections.
  Task* task;               // the task this thread serves (a reference is held)
  Instance* pinned;         // the instance `trace` belongs to (a reference is held)
  RemoteSection* remote;    // the open remote section, if any
};

// constinit + trivial type: no TLS wrapper call, and initial-exec so that an
// access is one %fs-relative load even when libukcov is a shared object.
extern constinit thread_local Slot t_slot __attribute__((tls_model("initial-exec")));

inline RecordMode LoadMode(const Slot& s) {
  return static_cast<RecordMode>(__atomic_load_n(reinterpret_cast<const uint32_t*>(&s.mode), __ATOMIC_RELAXED));
}
inline void StoreMode(Slot& s, RecordMode m) {
  __atomic_store_n(reinterpret_cast<uint32_t*>(&s.mode), static_cast<uint32_t>(m), __ATOMIC_RELAXED);
}

inline uint64_t EncodePc(const Slot& s, uintptr_t ret) {
  return ret - s.pc_lo < s.pc_len ? ret + s.pc_bias : ret;
}

inline uint64_t LoadWord(const uint64_t* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
inline void StoreWord(uint64_t* p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

// Linux kcov_append_to_buffer: at most limit-1 PCs, silently dropped after.
// kRanged: encode with the range check (EncodePc); else `ret + pc_bias`,
// exact when every caller is in the map's module
// (Engine::PcMapCoversInstrumentation): Linux's __sanitizer_cov_trace_pc,
// instruction for instruction.
template <bool kRanged>
inline __attribute__((always_inline)) void AppendPcAs(Slot& s, uintptr_t ret) {
  uint64_t* trace = s.trace;
  uint64_t pos = LoadWord(&trace[0]) + 1;
  if (__builtin_expect(pos < s.limit, 1)) {
    StoreWord(&trace[0], pos);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    StoreWord(&trace[pos], kRanged ? EncodePc(s, ret) : ret + s.pc_bias);
  }
}
inline __attribute__((always_inline)) void AppendPc(Slot& s, uintptr_t ret) { AppendPcAs<true>(s, ret); }
inline __attribute__((always_inline)) void AppendBiasedPc(Slot& s, uintptr_t ret) { AppendPcAs<false>(s, ret); }

// Unique mode: append only when the guard's bit was clear. Guard index 0
// (a site whose module constructor has not run yet) has no bit: always
// appended, as Linux appends sites beyond the bitmap.
template <bool kRanged>
inline __attribute__((always_inline)) void AppendUniquePc(Slot& s, const uint32_t* guard, uintptr_t ret) {
  uint32_t idx = __atomic_load_n(guard, __ATOMIC_RELAXED);
  // idx - 1 wraps for index 0: one compare for "numbered and in the bitmap".
  if (uint64_t{idx} - 1 < s.bitmap_last) {
    uint64_t* word = &s.bitmap[idx / 64];
    uint64_t bit = uint64_t{1} << (idx % 64);
    uint64_t old = LoadWord(word);
    if (old & bit) return;
    StoreWord(word, old | bit);
  }
  AppendPcAs<kRanged>(s, ret);
}

// Linux write_comp_data: at most (size-1)/4 records of {type, arg1, arg2, pc}.
// `count < limit` is Linux's `end_pos <= max_pos` without its overflow.
inline __attribute__((always_inline)) void AppendCmp(Slot& s, uint64_t type, uint64_t arg1, uint64_t arg2,
                                                     uintptr_t ret) {
  uint64_t* trace = s.trace;
  uint64_t count = LoadWord(&trace[0]);
  if (__builtin_expect(count < s.limit, 1)) {
    StoreWord(&trace[0], count + 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    uint64_t* rec = &trace[1 + count * UKCOV_KCOV_WORDS_PER_CMP];
    StoreWord(&rec[0], type);
    StoreWord(&rec[1], arg1);
    StoreWord(&rec[2], arg2);
    StoreWord(&rec[3], EncodePc(s, ret));
  }
}

}  // namespace ukcov::engine
