// What the build compiled in, learnt at load time from module constructors:
// the features of each ukcov_instrument()ed target and the trace-pc-guard
// sites, which are numbered here. This is process-wide by nature (it
// describes the loaded code), written only by constructors and read by
// engines; it is not per-engine state.
#include <atomic>
#include <cstdint>

#include "engine/instrumentation.h"
#include "ukcov/ukcov.h"

namespace ukcov::engine {
namespace {

std::atomic<unsigned> g_features{0};
std::atomic<uint32_t> g_guards{0};
std::atomic<const void*> g_first_module{nullptr};
// Registrations are rare (module constructors); a reader copies the list.
std::atomic<const void*> g_modules[kMaxModules];
std::atomic<unsigned> g_module_slots{0};  // slots claimed (may exceed kMaxModules)
std::atomic<unsigned> g_generation{0};

void NoteModule(const void* address) {
  const void* expected = nullptr;
  g_first_module.compare_exchange_strong(expected, address, std::memory_order_acq_rel);
  unsigned slot = g_module_slots.fetch_add(1, std::memory_order_acq_rel);
  if (slot < kMaxModules) g_modules[slot].store(address, std::memory_order_release);
  g_generation.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace

const void* FirstInstrumentedModule() { return g_first_module.load(std::memory_order_acquire); }

InstrumentedModules ListInstrumentedModules() {
  InstrumentedModules list{};
  list.generation = g_generation.load(std::memory_order_acquire);
  unsigned slots = g_module_slots.load(std::memory_order_acquire);
  list.overflow = slots > kMaxModules;
  for (unsigned i = 0; i < slots && i < kMaxModules; i++) {
    // A slot claimed but not yet stored is left out; its registration has
    // not finished, so its generation is not counted either.
    if (const void* a = g_modules[i].load(std::memory_order_acquire)) list.addresses[list.count++] = a;
  }
  return list;
}

}  // namespace ukcov::engine

extern "C" {

void ukcov_register_instrumentation(unsigned features, const void* module_address) {
  ukcov::engine::g_features.fetch_or(features, std::memory_order_acq_rel);
  if (module_address != nullptr) ukcov::engine::NoteModule(module_address);
}

unsigned ukcov_registered_features(void) { return ukcov::engine::g_features.load(std::memory_order_acquire); }

uint32_t ukcov_guard_count(void) { return ukcov::engine::g_guards.load(std::memory_order_acquire); }

// Called by each instrumented module's constructor, possibly more than once
// for the same range. Numbers the module's guards 1..n after those of the
// modules loaded before it, so indices are stable from run to run of the
// same binary and a unique-mode bitmap can use them directly.
__attribute__((visibility("default"), used)) void __sanitizer_cov_trace_pc_guard_init(uint32_t* start,
                                                                                      uint32_t* stop) {
  if (start == stop || *start != 0) return;
  auto n = static_cast<uint32_t>(stop - start);
  uint32_t first = ukcov::engine::g_guards.fetch_add(n, std::memory_order_acq_rel) + 1;
  for (uint32_t i = 0; i < n; i++) __atomic_store_n(&start[i], first + i, __ATOMIC_RELAXED);
  ukcov::engine::g_features.fetch_or(UKCOV_FEATURE_GUARDS, std::memory_order_acq_rel);
  ukcov::engine::NoteModule(start);
}

}  // extern "C"
