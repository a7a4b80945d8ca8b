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

// Membership of a binary's blocks in O(1): a bit per byte of the span from
// its first block to its last (an eighth of the text's size). For a hot
// loop over a kcov area's PCs, where a sorted search per PC would cost more
// than the rest of the loop.
class BlockSet {
 public:
  BlockSet() = default;
  explicit BlockSet(const Blocks& blocks);
  bool Contains(uint64_t pc) const {
    const uint64_t i = pc - lo_;  // below lo_ wraps far past the span
    return i < span_ && (bits_[i / 64] >> (i % 64) & 1) != 0;
  }

 private:
  uint64_t lo_ = 0, span_ = 0;
  std::vector<uint64_t> bits_;
};

// The binary's GNU build ID in hex, or empty.
std::string BuildId(const std::string& binary);

}  // namespace ukcov::tools
