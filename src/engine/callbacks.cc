// The SanitizerCoverage callbacks: what instrumented code calls at every edge
// and comparison. This file (like the rest of the engine) is never compiled
// with coverage flags, and nothing here calls out of it, so a callback can
// never recurse into another. With nothing enabled on the thread a callback
// is one TLS load, a test and a return (5 instructions with the load of the
// TLS offset); TRACE_PC is Linux's __sanitizer_cov_trace_pc (16). The other
// modes are laid out after the return: unique, then the whole run's
// coverage alone, then (out of line) the ranged modes and the combinations
// of the run's coverage with a kcov mode.
#include <cstdint>

#include "engine/run_coverage.h"
#include "engine/slot.h"

#define UKCOV_CALLBACK extern "C" __attribute__((visibility("default"), noinline, used))
#define UKCOV_RET_IP() reinterpret_cast<uintptr_t>(__builtin_return_address(0))

namespace ukcov::engine {

constinit thread_local Slot t_slot __attribute__((tls_model("initial-exec"))) = {};
constinit RunMap g_run_map = {};

namespace {

inline __attribute__((always_inline)) void Compare(uint64_t type, uint64_t arg1, uint64_t arg2, uintptr_t ret) {
  Slot& s = t_slot;
  if (__builtin_expect(!(static_cast<uint32_t>(LoadMode(s)) & kCmpBit), 1)) return;
  AppendCmp(s, type, arg1, arg2, ret);
}

// The guard callback's ranged modes, and the run's coverage with a kcov
// mode. Not inlined, so that the common paths stay short; it is in this
// file and calls nothing out of it. `guard` comes first: it stays in the
// register it arrived in.
__attribute__((noinline, cold)) void GuardRare(const uint32_t* guard, RecordMode m, uintptr_t ret) {
  Slot& s = t_slot;
  if (HasRun(m)) MarkRun(ret);
  switch (KcovPart(m)) {
    case RecordMode::kTracePc: return AppendBiasedPc(s, ret);
    case RecordMode::kUniquePc: return AppendUniquePc<false>(s, guard, ret);
    case RecordMode::kUniquePcRanged: return AppendUniquePc<true>(s, guard, ret);
    case RecordMode::kTracePcRanged: return AppendPc(s, ret);
    default: return;
  }
}

__attribute__((noinline, cold)) void PcRare(RecordMode m, uintptr_t ret) {
  if (HasRun(m)) MarkRun(ret);
  switch (KcovPart(m)) {
    case RecordMode::kTracePc: return AppendBiasedPc(t_slot, ret);
    case RecordMode::kTracePcRanged: return AppendPc(t_slot, ret);
    default: return;
  }
}

}  // namespace
}  // namespace ukcov::engine

using ukcov::engine::AppendPc;
using ukcov::engine::AppendUniquePc;
using ukcov::engine::AppendBiasedPc;
using ukcov::engine::Compare;
using ukcov::engine::GuardRare;
using ukcov::engine::PcRare;
using ukcov::engine::kCmpBit;
using ukcov::engine::LoadMode;
using ukcov::engine::MarkRun;
using ukcov::engine::RecordMode;
using ukcov::engine::Slot;
using ukcov::engine::t_slot;

// clang -fsanitize-coverage=trace-pc-guard: one call per edge, with the
// site's guard (numbered by __sanitizer_cov_trace_pc_guard_init).
UKCOV_CALLBACK void __sanitizer_cov_trace_pc_guard(uint32_t* guard) {
  Slot& s = t_slot;
  RecordMode m = LoadMode(s);
  if (__builtin_expect(m < RecordMode::kTracePc, 1)) return;  // off, or TRACE_CMP
  if (__builtin_expect(m == RecordMode::kTracePc, 1)) return AppendBiasedPc(s, UKCOV_RET_IP());
  if (m == RecordMode::kUniquePc) return AppendUniquePc<false>(s, guard, UKCOV_RET_IP());
  if (m == RecordMode::kRun) return MarkRun(UKCOV_RET_IP());
  // The rest, out of the way of the above (clang would otherwise test every
  // mode before returning when none is enabled).
  GuardRare(guard, m, UKCOV_RET_IP());
}

// gcc -fsanitize-coverage=trace-pc: one call per edge, no guard.
UKCOV_CALLBACK void __sanitizer_cov_trace_pc() {
  Slot& s = t_slot;
  RecordMode m = LoadMode(s);
  if (__builtin_expect(m < RecordMode::kTracePc, 1)) return;  // off, or TRACE_CMP
  if (__builtin_expect(m == RecordMode::kTracePc, 1)) return AppendBiasedPc(s, UKCOV_RET_IP());
  if (m == RecordMode::kRun) return MarkRun(UKCOV_RET_IP());
  PcRare(m, UKCOV_RET_IP());
}

#define UKCOV_CMP_CALLBACKS(bytes, log2, type)                                      \
  UKCOV_CALLBACK void __sanitizer_cov_trace_cmp##bytes(type a, type b) {            \
    Compare(UKCOV_KCOV_CMP_SIZE(log2), a, b, UKCOV_RET_IP());                        \
  }                                                                                 \
  UKCOV_CALLBACK void __sanitizer_cov_trace_const_cmp##bytes(type a, type b) {      \
    Compare(UKCOV_KCOV_CMP_SIZE(log2) | UKCOV_KCOV_CMP_CONST, a, b, UKCOV_RET_IP()); \
  }

UKCOV_CMP_CALLBACKS(1, 0, uint8_t)
UKCOV_CMP_CALLBACKS(2, 1, uint16_t)
UKCOV_CMP_CALLBACKS(4, 2, uint32_t)
UKCOV_CMP_CALLBACKS(8, 3, uint64_t)

// cases[0] = number of cases, cases[1] = operand width in bits, then the
// case values. One const record per case: {type, case, value, pc}.
UKCOV_CALLBACK void __sanitizer_cov_trace_switch(uint64_t value, uint64_t* cases) {
  Slot& s = t_slot;
  if (__builtin_expect(!(static_cast<uint32_t>(LoadMode(s)) & kCmpBit), 1)) return;
  uint64_t type = UKCOV_KCOV_CMP_CONST;
  switch (cases[1]) {
    case 8: type |= UKCOV_KCOV_CMP_SIZE(0); break;
    case 16: type |= UKCOV_KCOV_CMP_SIZE(1); break;
    case 32: type |= UKCOV_KCOV_CMP_SIZE(2); break;
    case 64: type |= UKCOV_KCOV_CMP_SIZE(3); break;
    default: return;
  }
  uintptr_t ret = UKCOV_RET_IP();
  for (uint64_t i = 0; i < cases[0]; i++) ukcov::engine::AppendCmp(s, type, cases[i + 2], value, ret);
}

// gcc's trace-cmp also reports floating-point compares. Linux's kcov has no
// record type for them (the kernel has no floating point); neither do we.
UKCOV_CALLBACK void __sanitizer_cov_trace_cmpf(float, float) {}
UKCOV_CALLBACK void __sanitizer_cov_trace_cmpd(double, double) {}
