// A faithful re-implementation of the seed's collection (gVisor's
// coverage.ConsumeCoverageData): at every return to user space, under a
// global mutex, walk every counter of the binary; for each non-zero one,
// clear it and write its synthetic PC through a writer into the kcov area
// until the area is full.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

class SeedCoverage {
 public:
  explicit SeedCoverage(size_t blocks) : counters_(blocks, 0), synthetic_pcs_(blocks) {
    for (size_t i = 0; i < blocks; i++) synthetic_pcs_[i] = 0xffffffff80000000ull + (i << 4);
  }
  uint32_t* counters() { return counters_.data(); }

  // Returns the number of PCs written; area[0] is the count, as kcov's.
  size_t Consume(uint64_t* area, size_t words) {
    std::lock_guard lock(mu_);
    AreaWriter w{area, words};
    size_t total = 0;
    for (size_t i = 0; i < counters_.size(); i++) {
      if (counters_[i] == 0) continue;
      counters_[i] = 0;
      if (!w.Write(synthetic_pcs_[i])) break;  // io.EOF: area full
      total++;
    }
    return total;
  }

 private:
  // The kcov area as an io.Writer of 8-byte PCs (gVisor's kcovIOWriter).
  struct AreaWriter {
    uint64_t* area;
    size_t words;
    __attribute__((noinline)) bool Write(uint64_t pc) {
      uint64_t pos = area[0] + 1;
      if (pos >= words) return false;
      area[pos] = pc;
      area[0] = pos;
      return true;
    }
  };

  std::mutex mu_;
  std::vector<uint32_t> counters_;
  std::vector<uint64_t> synthetic_pcs_;
};
