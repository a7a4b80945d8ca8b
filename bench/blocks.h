#pragma once

#include <cstdint>

// Blocks of blocks.inc that HIT() marks: the seed's counters per call.
constexpr int kSeedBlocks = 256;

namespace bench_trace { uint64_t Run(uint64_t x); }
namespace bench_plain { uint64_t Run(uint64_t x); }
namespace bench_seed { uint64_t Run(uint64_t x); }
namespace bench_counters { uint64_t Run(uint64_t x); }

// The seed's counters (one per instrumented block of the whole binary; the
// benchmark's blocks are the first kSeedBlocks of them).
extern uint32_t* g_seed_counters;
