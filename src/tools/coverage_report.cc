#include "tools/coverage_report.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>
#include <unordered_map>

#include "base/lexical_path.h"

namespace ukcov::tools {
namespace {

std::string DirOf(const std::string& file) {
  size_t slash = file.rfind('/');
  return slash == std::string::npos ? "./" : file.substr(0, slash + 1);
}

bool Matches(const std::string& path, const std::vector<std::string>& filters) {
  if (filters.empty()) return true;
  for (const auto& f : filters) {
    if (f.find_first_of("*?[") != std::string::npos) {
      if (fnmatch(f.c_str(), path.c_str(), 0) == 0) return true;
    } else if (path.rfind(f, 0) == 0) {
      return true;
    }
  }
  return false;
}

struct Row {
  std::string name;
  Tally t;
};

// A function's name without its parameters: "ns::Class::Method".
std::string ShortName(const std::string& name) {
  int depth = 0;
  for (size_t i = 0; i < name.size(); i++) {
    if (name[i] == '<') depth++;
    if (name[i] == '>') depth--;
    if (name[i] == '(' && depth == 0 && i > 0) return name.substr(0, i);
  }
  return name;
}

// Rows sort by path, then (functions) by line, then name.
struct RowKey {
  std::string path;
  int line = 0;
  std::string name;
  bool operator<(const RowKey& o) const { return std::tie(path, line, name) < std::tie(o.path, o.line, o.name); }
  std::string Display() const { return line > 0 ? path + ":" + std::to_string(line) + "  " + name : path; }
};

// Per-row tallies: blocks directly; lines and functions as sets.
struct Accumulator {
  Tally t;
  std::map<std::pair<int, int>, bool> lines;  // (file, line) -> hit
  std::map<int, bool> functions;              // function -> hit
  void Add(const AttributedBlock& b, bool hit) {
    t.blocks++;
    t.blocks_hit += hit;
    if (b.line > 0) {
      bool& l = lines[{b.file, b.line}];
      l = l || hit;
    }
    bool& f = functions[b.function];
    f = f || hit;
  }
  Tally Finish() const {
    Tally out = t;
    for (const auto& [_, hit] : lines) out.lines++, out.lines_hit += hit;
    for (const auto& [_, hit] : functions) out.functions++, out.functions_hit += hit;
    return out;
  }
};

double Percent(size_t hit, size_t total) { return total == 0 ? 0.0 : 100.0 * static_cast<double>(hit) / static_cast<double>(total); }

std::string Cell(size_t hit, size_t total, bool percent) {
  char buf[64];
  if (percent)
    std::snprintf(buf, sizeof buf, "%6zu/%-6zu %5.1f%%", hit, total, Percent(hit, total));
  else
    std::snprintf(buf, sizeof buf, "%5zu/%-5zu", hit, total);
  return buf;
}

}  // namespace

Result<Model> BuildModel(const Symbolizer& symbolizer, const Blocks& blocks, const std::string& source_root,
                         const Progress& progress) {
  Result<std::vector<Symbolized>> symbolized = symbolizer.SymbolizeAll(blocks.pcs, progress, /*linkage=*/true);
  if (!symbolized) return Errno{symbolized.error()};
  Model model;
  model.source_root = NormalizeLexically(source_root);
  model.backend = blocks.backend;
  const std::string prefix = model.source_root + "/";
  std::unordered_map<std::string, int> file_index;
  std::map<std::pair<int, std::string>, int> function_index;  // (file, linkage)
  for (const Symbolized& s : *symbolized) {
    AttributedBlock b;
    b.pc = s.pc;
    for (const Frame& f : s.frames) {
      if (f.line <= 0 || f.file.empty()) continue;
      std::string path = NormalizeLexically(f.file);
      if (path.rfind(prefix, 0) != 0) continue;
      std::string rel = path.substr(prefix.size());
      auto [it, added] = file_index.emplace(rel, static_cast<int>(model.files.size()));
      if (added) model.files.push_back(rel);
      b.file = it->second;
      b.line = f.line;
      auto [fit, fadded] = function_index.emplace(std::make_pair(b.file, f.linkage),
                                                  static_cast<int>(model.functions.size()));
      if (fadded) model.functions.push_back({f.function, f.linkage, b.file, f.line});
      SourceFunction& fn = model.functions[static_cast<size_t>(fit->second)];
      fn.first_line = std::min(fn.first_line, f.line);
      b.function = fit->second;
      break;
    }
    model.blocks.push_back(b);
  }
  return model;
}

std::vector<bool> HitBlocks(const Model& model, const std::vector<uint64_t>& pcs, size_t* foreign) {
  std::vector<bool> hit(model.blocks.size(), false);
  std::set<uint64_t> distinct(pcs.begin(), pcs.end());
  *foreign = 0;
  for (uint64_t pc : distinct) {
    auto it = std::lower_bound(model.blocks.begin(), model.blocks.end(), pc,
                               [](const AttributedBlock& b, uint64_t p) { return b.pc < p; });
    if (it == model.blocks.end() || it->pc != pc) {
      ++*foreign;
      continue;
    }
    hit[static_cast<size_t>(it - model.blocks.begin())] = true;
  }
  return hit;
}

Tally Total(const Model& model, const std::vector<bool>& hit, const std::vector<std::string>& filters) {
  Accumulator acc;
  for (size_t i = 0; i < model.blocks.size(); i++) {
    const AttributedBlock& b = model.blocks[i];
    if (b.file < 0 || !Matches(model.files[static_cast<size_t>(b.file)], filters)) continue;
    acc.Add(b, hit[i]);
  }
  return acc.Finish();
}

void PrintSummary(const Model& model, const std::vector<bool>& hit, const SummaryOptions& options,
                  std::ostream& out) {
  std::map<RowKey, Accumulator> rows;
  for (size_t i = 0; i < model.blocks.size(); i++) {
    const AttributedBlock& b = model.blocks[i];
    if (b.file < 0) continue;
    const std::string& file = model.files[static_cast<size_t>(b.file)];
    if (!Matches(file, options.filters)) continue;
    RowKey key;
    switch (options.level) {
      case Level::kDirectory: key.path = DirOf(file); break;
      case Level::kFile: key.path = file; break;
      case Level::kFunction: {
        const SourceFunction& fn = model.functions[static_cast<size_t>(b.function)];
        key = {file, fn.first_line, ShortName(fn.name)};
        break;
      }
    }
    rows[key].Add(b, hit[i]);
  }
  std::vector<Row> list;
  for (const auto& [key, acc] : rows) list.push_back({key.Display(), acc.Finish()});
  if (options.sort == SortKey::kPercent)
    std::stable_sort(list.begin(), list.end(), [](const Row& a, const Row& b) {
      return Percent(a.t.blocks_hit, a.t.blocks) > Percent(b.t.blocks_hit, b.t.blocks);
    });
  if (options.sort == SortKey::kMissed)
    std::stable_sort(list.begin(), list.end(), [](const Row& a, const Row& b) {
      return a.t.blocks - a.t.blocks_hit > b.t.blocks - b.t.blocks_hit;
    });
  const char* what = options.level == Level::kDirectory ? "directory" : options.level == Level::kFile ? "file" : "function";
  size_t width = std::string(what).size();
  for (const Row& r : list) width = std::max(width, std::min<size_t>(r.name.size(), 100));
  auto line = [&](const std::string& name, const Tally& t) {
    std::string n = name.size() > 100 ? name.substr(0, 97) + "..." : name;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%-*s  %s  %s  %s", static_cast<int>(width), n.c_str(),
                  Cell(t.blocks_hit, t.blocks, true).c_str(), Cell(t.lines_hit, t.lines, true).c_str(),
                  Cell(t.functions_hit, t.functions, false).c_str());
    out << buf << "\n";
  };
  char head[512];
  const std::string hw = options.hit_word;
  std::snprintf(head, sizeof head, "%-*s  %-19s  %-19s  %s", static_cast<int>(width), what,
                ("blocks " + hw + "/total").c_str(), ("lines " + hw + "/total").c_str(), ("functions " + hw).c_str());
  out << head << "\n";
  for (const Row& r : list) line(r.name, r.t);
  line("total", Total(model, hit, options.filters));
}

void WriteLcov(const Model& model, const std::vector<bool>& hit, const std::string& test_name, std::ostream& out) {
  struct FileData {
    std::map<int, bool> lines;
    std::map<int, bool> functions;  // function index -> hit
  };
  std::map<std::string, FileData> files;  // sorted by path: a stable file
  for (size_t i = 0; i < model.blocks.size(); i++) {
    const AttributedBlock& b = model.blocks[i];
    if (b.file < 0) continue;
    FileData& d = files[model.files[static_cast<size_t>(b.file)]];
    bool& l = d.lines[b.line];
    l = l || hit[i];
    bool& f = d.functions[b.function];
    f = f || hit[i];
  }
  for (const auto& [rel, d] : files) {
    out << "TN:" << test_name << "\n";
    out << "SF:" << model.source_root << "/" << rel << "\n";
    std::vector<std::pair<int, std::string>> fns;  // first line, name: FN lines in source order
    size_t fn_hit = 0;
    for (const auto& [index, h] : d.functions) {
      const SourceFunction& fn = model.functions[static_cast<size_t>(index)];
      fns.emplace_back(fn.first_line, fn.linkage);
      fn_hit += h;
    }
    std::sort(fns.begin(), fns.end());
    for (const auto& [first, name] : fns) out << "FN:" << first << "," << name << "\n";
    for (const auto& [index, h] : d.functions)
      out << "FNDA:" << (h ? 1 : 0) << "," << model.functions[static_cast<size_t>(index)].linkage << "\n";
    out << "FNF:" << d.functions.size() << "\n";
    out << "FNH:" << fn_hit << "\n";
    size_t lines_hit = 0;
    for (const auto& [line, h] : d.lines) {
      out << "DA:" << line << "," << (h ? 1 : 0) << "\n";
      lines_hit += h;
    }
    out << "LF:" << d.lines.size() << "\n";
    out << "LH:" << lines_hit << "\n";
    out << "end_of_record\n";
  }
}

}  // namespace ukcov::tools
