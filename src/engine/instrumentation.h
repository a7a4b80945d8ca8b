// Load-time facts about the instrumented code (see instrumentation.cc).
#pragma once

namespace ukcov::engine {

// An address inside the first module that registered instrumentation, or null.
const void* FirstInstrumentedModule();

}  // namespace ukcov::engine
