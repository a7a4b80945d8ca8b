#include "tools/blocks.h"


#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "tools/binutils.h"
#include "tools/elf_file.h"
#include "ukcov/kcov.h"

namespace ukcov::tools {
namespace {

// The counters backend's PC table: {pc, flags} pairs of link-time addresses
// (the linker writes them in place as well as in the relocations).
Result<std::vector<uint64_t>> PcTable(Elf_Scn* scn, uint64_t base, std::string* error) {
  Elf_Data* data = elf_getdata(scn, nullptr);
  if (data == nullptr || data->d_size % 16 != 0) return *error = "__sancov_pcs: not a table of pairs", Errno{ENOEXEC};
  std::vector<uint64_t> pcs;
  const auto* words = static_cast<const uint64_t*>(data->d_buf);
  bool any = false;
  for (size_t i = 0; i < data->d_size / 8; i += 2) {
    any |= words[i] != 0;
    pcs.push_back(base + words[i] + 1);
  }
  if (!any) return *error = "__sancov_pcs holds no addresses (relocations only)", Errno{ENOEXEC};
  return pcs;
}

// The return address of every call to a PC callback, from objdump -d.
Result<std::vector<uint64_t>> CallbackCalls(const std::string& binary, uint64_t base, std::string* error) {
  Result<BinutilRun> run = BinutilRun::Start("objdump", {"-d", "--no-show-raw-insn", binary}, -1, error);
  if (!run) return Errno{run.error()};
  std::vector<uint64_t> pcs;
  std::string line;
  // "  57061:\tcall   ce720 <__sanitizer_cov_trace_pc_guard>": the next
  // instruction's address is the return address; a direct call (the only
  // kind with a <symbol> target) is 5 bytes.
  while (run->ReadLine(&line)) {
    size_t target = line.find("<__sanitizer_cov_trace_pc");
    if (target == std::string::npos) continue;
    const std::string_view rest = std::string_view(line).substr(target);
    if (rest.rfind("<__sanitizer_cov_trace_pc_guard>", 0) != 0 && rest.rfind("<__sanitizer_cov_trace_pc>", 0) != 0)
      continue;
    if (line.find("call") == std::string::npos) continue;
    char* end = nullptr;
    uint64_t address = std::strtoull(line.c_str(), &end, 16);
    if (end == line.c_str() || *end != ':') continue;
    pcs.push_back(base + address + 5);
  }
  if (!run->Wait()) return *error = Binutil("objdump") + " -d " + binary + " failed", Errno{ENOEXEC};
  return pcs;
}

}  // namespace

Result<Blocks> InstrumentedBlocks(const std::string& binary, std::string* error) {
  Result<ElfFile> f = ElfFile::Open(binary);
  if (!f) {
    *error = binary + ": " + std::strerror(f.error());
    return Errno{f.error()};
  }
  const uint64_t base = f->canonical_base();
  Blocks blocks;
  if (Elf_Scn* table = f->Section("__sancov_pcs")) {
    blocks.backend = "counters";
    Result<std::vector<uint64_t>> pcs = PcTable(table, base, error);
    if (!pcs) return Errno{pcs.error()};
    blocks.pcs = std::move(pcs.value());
  } else {
    blocks.backend = "trace";
    Result<std::vector<uint64_t>> pcs = CallbackCalls(binary, base, error);
    if (!pcs) return Errno{pcs.error()};
    blocks.pcs = std::move(pcs.value());
  }
  std::sort(blocks.pcs.begin(), blocks.pcs.end());
  blocks.pcs.erase(std::unique(blocks.pcs.begin(), blocks.pcs.end()), blocks.pcs.end());
  if (blocks.pcs.empty()) {
    *error = binary + ": no instrumented blocks (not built with ukcov's coverage flags)";
    return Errno{ENOENT};
  }
  return blocks;
}

BlockSet::BlockSet(const Blocks& blocks) {
  if (blocks.pcs.empty()) return;
  lo_ = blocks.pcs.front();
  span_ = blocks.pcs.back() - lo_ + 1;
  bits_.assign((span_ + 63) / 64, 0);
  for (uint64_t pc : blocks.pcs) bits_[(pc - lo_) / 64] |= uint64_t{1} << ((pc - lo_) % 64);
}

std::string BuildId(const std::string& binary) {
  Result<ElfFile> f = ElfFile::Open(binary);
  return f ? f->BuildId() : "";
}

}  // namespace ukcov::tools
