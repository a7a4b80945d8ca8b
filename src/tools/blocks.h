// The denominator of a coverage report: every instrumented block of a
// binary, as the canonical PC a kcov area would hold for it.
//   trace backend (SanitizerCoverage callbacks, clang or gcc): the return
//     address of each call to __sanitizer_cov_trace_pc_guard or
//     __sanitizer_cov_trace_pc, found with binutils' objdump, as syzkaller
//     finds a kernel's coverable PCs;
//   counters backend: each entry of the PC table (section __sancov_pcs),
//     plus one, as the engine reports a block.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ukcov/result.hpp"

namespace ukcov::tools {

struct Blocks {
  std::string backend;        // "trace" or "counters"
  std::vector<uint64_t> pcs;  // canonical, ascending, distinct
};

Result<Blocks> InstrumentedBlocks(const std::string& binary, std::string* error);

// The binary's GNU build ID in hex, or empty.
std::string BuildId(const std::string& binary);

}  // namespace ukcov::tools
