// `ukcov cover`: coverage inputs (whole-run files, PC lists, kcov area
// dumps) against the binary's blocks, as a summary, an lcov tracefile or a
// difference (docs/coverage.md).
#pragma once

#include <string>
#include <vector>

namespace ukcov::tools {

struct CoverOptions {
  std::vector<std::string> inputs, base;  // their union; --base: what they covered is not counted
  std::string binary;                     // empty: the one the first input names, else `self`
  std::string self;                       // this ukcov
  std::string source_root, lcov, by = "directory", sort = "name";
  std::vector<std::string> filters;
  bool quiet = false;
};

// 0, or 1 with the error on stderr.
int Cover(const CoverOptions& options);

}  // namespace ukcov::tools
