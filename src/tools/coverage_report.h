// A coverage report: the binary's blocks (the denominator, blocks.h)
// attributed to the project's own source, and what a set of hit PCs covers
// of them, by directory, file and function; written as an lcov tracefile
// or a terminal summary.
//
// Attribution: a block counts for the innermost of its frames (inlined
// callers included) that lies in the source tree and has a line, so code
// inlined from a system header counts at the project's line that called
// it, and compiler-generated line-0 code at the nearest real line around
// it. A block with no such frame (an out-of-line instantiation of a
// system header's template) is outside the tree: it counts in the blocks
// of the binary, not in any file.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "tools/blocks.h"
#include "tools/symbolizer.h"
#include "ukcov/result.hpp"

namespace ukcov::tools {

struct SourceFunction {
  std::string name;     // demangled
  std::string linkage;  // lcov's name for it (no commas)
  int file = 0;
  int first_line = 0;   // the lowest line of its blocks (0: none has a line)
};

struct AttributedBlock {
  uint64_t pc = 0;
  int file = -1;      // index in Model::files; -1: outside the source tree
  int line = 0;
  int function = -1;  // index in Model::functions
};

struct Model {
  std::string source_root;         // absolute, no trailing slash
  std::string backend;             // "trace" or "counters"
  std::vector<std::string> files;  // relative to source_root
  std::vector<SourceFunction> functions;
  std::vector<AttributedBlock> blocks;  // ascending by pc
};

// Symbolises every block of `blocks` (one addr2line run) and attributes it.
Result<Model> BuildModel(const Symbolizer& symbolizer, const Blocks& blocks, const std::string& source_root,
                         const Progress& progress);

// Which of the model's blocks `pcs` hit (index-aligned with model.blocks);
// `foreign` counts the PCs that are no block of the binary.
std::vector<bool> HitBlocks(const Model& model, const std::vector<uint64_t>& pcs, size_t* foreign);

struct Tally {
  size_t blocks = 0, blocks_hit = 0;
  size_t lines = 0, lines_hit = 0;
  size_t functions = 0, functions_hit = 0;
};

enum class Level { kDirectory, kFile, kFunction };
enum class SortKey { kName, kPercent, kMissed };

struct SummaryOptions {
  Level level = Level::kDirectory;
  SortKey sort = SortKey::kName;
  std::vector<std::string> filters;  // path prefixes or globs (fnmatch); empty: all
  std::string hit_word = "hit";      // "new" for a difference
};

// One row per directory, file or function, then the total of the rows.
void PrintSummary(const Model& model, const std::vector<bool>& hit, const SummaryOptions& options, std::ostream& out);
// The totals over the whole source tree.
Tally Total(const Model& model, const std::vector<bool>& hit, const std::vector<std::string>& filters = {});

// An lcov tracefile (geninfo's format: SF, FN/FNDA/FNF/FNH, DA/LF/LH per
// file) that lcov --summary and genhtml read. SF paths are absolute, so
// genhtml finds the sources from anywhere; function names are linkage names
// (genhtml --demangle-cpp shows them demangled).
void WriteLcov(const Model& model, const std::vector<bool>& hit, const std::string& test_name, std::ostream& out);

}  // namespace ukcov::tools
