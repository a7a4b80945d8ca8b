#include "tools/cover_command.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "tools/blocks.h"
#include "tools/coverage_report.h"
#include "tools/pc_input.h"
#include "tools/progress.h"
#include "tools/symbolizer.h"

namespace ukcov::tools {
namespace {

// `path` relative to the working directory when it is under it ("." for it).
std::string Relative(const std::string& path) {
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  const std::string here = cwd;
  if (path == here) return ".";
  if (path.rfind(here + "/", 0) == 0) return path.substr(here.size() + 1);
  return path;
}

// One input of `ukcov cover`: its PCs, and what its header says of the
// binary they come from (a `ukcov run --coverage` file).
struct CoverInput {
  std::vector<uint64_t> pcs;
  std::string binary, build_id;
};

// A file of PCs (hex, one per line, '#' comments: syzkaller's -coverfile,
// `ukcov run --coverage`) or a raw kcov area dump (binary words: it holds
// a NUL byte where text never does).
bool ReadCoverInput(const std::string& name, CoverInput* out, std::string* error) {
  std::ifstream file(name, std::ios::binary);
  struct stat st;
  if (stat(name.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return *error = name + ": " + std::strerror(EISDIR), false;
  if (!file) return *error = name + ": " + std::strerror(errno), false;
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return *error = name + ": read error", false;
  std::istringstream in(bytes);
  const bool area = bytes.find('\0') != std::string::npos;
  PcList list = area ? ReadArea(in) : ReadPcList(in);
  if (!list) return *error = name + ": " + list.error_message(), false;
  out->pcs = std::move(list.pcs);
  if (!area) {
    std::istringstream header(bytes);
    std::string line;
    while (std::getline(header, line) && !line.empty() && line[0] == '#') {
      if (line.rfind("# binary: ", 0) == 0) out->binary = line.substr(10);
      if (line.rfind("# build-id: ", 0) == 0) out->build_id = line.substr(12);
    }
  }
  return true;
}

}  // namespace

int Cover(const CoverOptions& o) {
  std::string error;
  std::vector<CoverInput> inputs, base;
  for (const auto* names : {&o.inputs, &o.base}) {
    for (const std::string& name : *names) {
      CoverInput in;
      if (!ReadCoverInput(name, &in, &error)) {
        std::cerr << "ukcov cover: " << error << "\n";
        return 1;
      }
      (names == &o.inputs ? inputs : base).push_back(std::move(in));
    }
  }
  // The binary: asked for, else the one the first coverage file names,
  // else this ukcov (the sentry).
  std::string binary = o.binary;
  for (const auto& in : inputs)
    if (binary.empty() && !in.binary.empty()) binary = in.binary;
  if (binary.empty()) binary = o.self;
  const std::string build_id = BuildId(binary);
  for (size_t i = 0; i < inputs.size() + base.size(); i++) {
    const CoverInput& in = i < inputs.size() ? inputs[i] : base[i - inputs.size()];
    const std::string& name = i < inputs.size() ? o.inputs[i] : o.base[i - inputs.size()];
    if (!in.build_id.empty() && !build_id.empty() && in.build_id != build_id) {
      std::cerr << "ukcov cover: " << name << " is the coverage of build " << in.build_id << ", but " << binary
                << " is build " << build_id << " (--binary names the binary that ran)\n";
      return 1;
    }
  }
  auto blocks = InstrumentedBlocks(binary, &error);
  if (!blocks) {
    std::cerr << "ukcov cover: " << error << "\n";
    return 1;
  }
  auto symbolizer = Symbolizer::Open(binary);
  if (!symbolizer) {
    std::cerr << "ukcov cover: " << binary << ": " << std::strerror(symbolizer.error()) << "\n";
    return 1;
  }
  char resolved[PATH_MAX];
  if (realpath(o.source_root.c_str(), resolved) == nullptr) {
    std::cerr << "ukcov cover: --source-root " << o.source_root << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  auto model = BuildModel(*symbolizer, *blocks, resolved, ProgressOnTerminal("symbolizing blocks"));
  if (!model) {
    std::cerr << "ukcov cover: " << Binutil("addr2line") << " on " << binary << ": "
              << std::strerror(model.error()) << "\n";
    return 1;
  }
  std::vector<uint64_t> pcs, base_pcs;
  for (const auto& in : inputs) pcs.insert(pcs.end(), in.pcs.begin(), in.pcs.end());
  for (const auto& in : base) base_pcs.insert(base_pcs.end(), in.pcs.begin(), in.pcs.end());
  size_t foreign = 0, base_foreign = 0;
  std::vector<bool> hit = HitBlocks(*model, pcs, &foreign);
  if (!o.base.empty()) {
    std::vector<bool> before = HitBlocks(*model, base_pcs, &base_foreign);
    for (size_t i = 0; i < hit.size(); i++) hit[i] = hit[i] && !before[i];
  }
  if (!o.lcov.empty()) {
    std::ofstream lcov;
    std::ostream* out = &std::cout;
    if (o.lcov != "-") {
      lcov.open(o.lcov, std::ios::trunc);
      if (!lcov) {
        std::cerr << "ukcov cover: --lcov " << o.lcov << ": " << std::strerror(errno) << "\n";
        return 1;
      }
      out = &lcov;
    }
    WriteLcov(*model, hit, o.base.empty() ? "ukcov" : "ukcov_new", *out);
    out->flush();
    if (!*out) {
      std::cerr << "ukcov cover: --lcov " << o.lcov << ": write error\n";
      return 1;
    }
  }
  if (o.quiet || o.lcov == "-") return 0;
  size_t blocks_hit = 0;
  for (bool h : hit) blocks_hit += h;
  size_t outside = 0;
  for (const auto& b : model->blocks) outside += b.file < 0;
  std::cout << "binary: " << Relative(binary) << " (" << model->blocks.size() << " blocks, " << model->backend
            << " backend), source tree: " << Relative(model->source_root) << " (" << model->blocks.size() - outside
            << " of the blocks)\n";
  size_t hit_in_tree = 0;
  for (size_t i = 0; i < hit.size(); i++) hit_in_tree += hit[i] && model->blocks[i].file >= 0;
  if (o.base.empty())
    std::cout << "covered: " << blocks_hit << " blocks, " << hit_in_tree << " of them in the source tree";
  else
    std::cout << "new: " << blocks_hit << " blocks covered by the inputs and not by --base, " << hit_in_tree
              << " of them in the source tree";
  if (foreign + base_foreign > 0)
    std::cout << " (" << foreign + base_foreign << " PCs of the inputs are no block of this binary)";
  std::cout << "\n\n";
  SummaryOptions summary;
  summary.level = o.by == "file" ? Level::kFile
                  : o.by == "function" ? Level::kFunction
                                       : Level::kDirectory;
  summary.sort = o.sort == "percent" ? SortKey::kPercent
                 : o.sort == "missed" ? SortKey::kMissed
                                      : SortKey::kName;
  summary.filters = o.filters;
  if (!o.base.empty()) summary.hit_word = "new";
  PrintSummary(*model, hit, summary, std::cout);
  return 0;
}


}  // namespace ukcov::tools
