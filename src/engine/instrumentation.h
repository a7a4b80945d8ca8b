// Load-time facts about the instrumented code (see instrumentation.cc).
#pragma once

namespace ukcov::engine {

// An address inside the first module that registered instrumentation, or null.
const void* FirstInstrumentedModule();

// Every module that registered instrumentation: an address inside each (the
// first kMaxModules; `overflow` when more registered). `generation` grows
// with each registration, so a reader can cache what it derived.
inline constexpr unsigned kMaxModules = 16;
struct InstrumentedModules {
  const void* addresses[kMaxModules];
  unsigned count;
  bool overflow;
  unsigned generation;
};
InstrumentedModules ListInstrumentedModules();

}  // namespace ukcov::engine
