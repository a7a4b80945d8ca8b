// How the engine turns a return address into the PC a guest reads.
#pragma once

#include <cstdint>

#include "ukcov/result.hpp"

namespace ukcov::engine {

struct PcMap {
  uintptr_t lo = 0;    // start of the module's executable segments
  uintptr_t len = 0;   // their extent; 0 = encode nothing (raw PCs)
  uintptr_t bias = 0;  // canonical = address + bias
  uintptr_t load_base = 0;

  uint64_t Encode(uintptr_t address) const { return address - lo < len ? address + bias : address; }
};

// The canonical map of the loaded module containing `address`:
// 0xffffffff80000000 + (address - load base) over its executable segments.
// EINVAL when no loaded module contains the address.
Result<PcMap> CanonicalPcMapFor(const void* address);

// Any address inside the main executable.
const void* MainExecutableAddress();

}  // namespace ukcov::engine
