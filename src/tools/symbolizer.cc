#include "tools/symbolizer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/unique_fd.h"
#include "tools/binutils.h"
#include "tools/elf_file.h"
#include "ukcov/kcov.h"

namespace ukcov::tools {
namespace {

// One location line of addr2line: "file:line", "file:line (discriminator
// N)", "??:0" or "file:?".
void ParseLocation(std::string text, Frame* frame) {
  if (size_t d = text.find(" (discriminator "); d != std::string::npos) text.resize(d);
  size_t colon = text.rfind(':');
  std::string file = colon == std::string::npos ? text : text.substr(0, colon);
  if (file != "??") frame->file = file;
  if (colon != std::string::npos) frame->line = std::atoi(text.c_str() + colon + 1);
}

bool IsAddressLine(const std::string& line) {
  if (line.size() < 3 || line.compare(0, 2, "0x") != 0) return false;
  for (size_t i = 2; i < line.size(); i++)
    if (!std::isxdigit(static_cast<unsigned char>(line[i]))) return false;
  return true;
}

}  // namespace

Result<Symbolizer> Symbolizer::Open(const std::string& binary) {
  Result<ElfFile> elf = ElfFile::Open(binary);
  if (!elf) return Errno{elf.error()};
  // addr2line reads the file by name: /proc/self must stay this process's.
  std::string name = binary;
  if (name.rfind("/proc/self/", 0) == 0) name = "/proc/" + std::to_string(getpid()) + name.substr(10);
  return Symbolizer(std::move(name), elf->text(), elf->canonical_base());
}

Symbolized Symbolizer::Symbolize(uint64_t pc) const {
  Result<std::vector<Symbolized>> all = SymbolizeAll({pc});
  if (all && all->size() == 1) return std::move(all->front());
  Symbolized out;
  out.pc = pc;
  return out;
}

Result<std::vector<Symbolized>> Symbolizer::SymbolizeAll(const std::vector<uint64_t>& pcs, const Progress& progress,
                                                         bool linkage) const {
  std::vector<Symbolized> out(pcs.size());
  // The addresses addr2line is asked about, in the order of `asked`.
  std::string input;
  std::vector<size_t> asked;
  for (size_t i = 0; i < pcs.size(); i++) {
    Symbolized& s = out[i];
    s.pc = pcs[i];
    // A value below the canonical base is a raw address: the engine keeps
    // those for code outside the instrumented module (another library, at
    // wherever it was loaded), so it names nothing in this binary.
    s.outside = true;
    if (s.pc < UKCOV_CANONICAL_PC_BASE) continue;
    s.address = s.pc - base_ - 1;  // inside the call instruction
    for (const ElfFile::Range& r : text_)
      if (s.address >= r.lo && s.address < r.hi) s.outside = false;
    if (s.outside) continue;
    char line[32];
    std::snprintf(line, sizeof line, "0x%" PRIx64 "\n", s.address);
    input += line;
    asked.push_back(i);
  }
  if (asked.empty()) return out;
  auto shown = RunAddr2line(input, asked.size(), true, progress);
  if (!shown) return Errno{shown.error()};
  std::vector<std::vector<std::pair<std::string, std::string>>> raw;
  if (linkage) {
    auto names = RunAddr2line(input, asked.size(), false, nullptr);
    if (!names) return Errno{names.error()};
    raw = std::move(names.value());
  }
  for (size_t k = 0; k < asked.size(); k++) {
    const auto& frames = (*shown)[k];
    for (size_t f = 0; f < frames.size(); f++) {
      const auto& [function, location] = frames[f];
      Frame frame;
      ParseLocation(location, &frame);
      if (function == "??" && frame.file.empty()) continue;  // nothing known
      frame.function = function;
      if (linkage && k < raw.size() && f < raw[k].size()) frame.linkage = raw[k][f].first;
      frame.file = Strip(frame.file);
      out[asked[k]].frames.push_back(std::move(frame));
    }
  }
  return out;
}

Result<std::vector<std::vector<std::pair<std::string, std::string>>>> Symbolizer::RunAddr2line(
    const std::string& input, size_t count, bool demangle, const Progress& progress) const {
  // stdin: the addresses, from a memfd (no writer thread, no pipe deadlock);
  // stdout: a pipe read as it comes, which is what progress counts.
  UniqueFd in(memfd_create("ukcov-addr2line", MFD_CLOEXEC));
  if (!in || write(in.get(), input.data(), input.size()) != static_cast<ssize_t>(input.size()) ||
      lseek(in.get(), 0, SEEK_SET) != 0)
    return Errno{errno ? errno : EIO};
  std::vector<std::string> args = {"-a", "-i", "-f", "-e", binary_};
  if (demangle) args.insert(args.begin(), "-C");
  std::string error;
  Result<BinutilRun> run = BinutilRun::Start("addr2line", args, in.get(), &error);
  if (!run) return Errno{run.error()};
  // "0xADDR" starts each address's record, then pairs of lines: function
  // (addr2line's "??" when unknown), then location; inlined callers follow
  // as further pairs, innermost first.
  std::vector<std::vector<std::pair<std::string, std::string>>> records;
  records.reserve(count);
  std::string line, function;
  bool want_location = false;
  while (run->ReadLine(&line)) {
    if (!want_location && IsAddressLine(line)) {
      records.emplace_back();
      if (progress && records.size() % 1024 == 1) progress(records.size() - 1, count);
      continue;
    }
    if (records.empty()) continue;
    if (!want_location) {
      function = line;
      want_location = true;
      continue;
    }
    want_location = false;
    records.back().emplace_back(std::move(function), line);
  }
  if (Result<void> done = run->Wait(); !done) return Errno{done.error()};
  if (records.size() != count) return Errno{EIO};
  if (progress) progress(count, count);
  return records;
}

std::string Symbolizer::Strip(const std::string& path) const {
  std::string p(path);
  if (!strip_prefix_.empty() && p.rfind(strip_prefix_, 0) == 0) p.erase(0, strip_prefix_.size());
  return p;
}

std::string Format(const Symbolized& s) {
  char head[40];
  std::snprintf(head, sizeof head, "0x%016" PRIx64, s.pc);
  if (s.frames.empty()) return std::string(head) + (s.outside ? "  ??  (not in the binary's code)" : "  ??");
  std::string out;
  for (size_t i = 0; i < s.frames.size(); i++) {
    const Frame& f = s.frames[i];
    out += i == 0 ? std::string(head) : std::string(18, ' ') + "  (inlined into)";
    out += "  " + f.function;
    if (!f.file.empty()) out += "  " + f.file + ":" + std::to_string(f.line);
    if (i + 1 < s.frames.size()) out += "\n";
  }
  return out;
}

}  // namespace ukcov::tools
