#include "tools/blocks.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/unique_fd.h"
#include "tools/binutils.h"
#include "tools/symbolizer.h"
#include "ukcov/kcov.h"

namespace ukcov::tools {
namespace {

struct ElfFile {
  UniqueFd fd;
  Elf* elf = nullptr;
  ~ElfFile() {
    if (elf != nullptr) elf_end(elf);
  }
};

Result<void> OpenElf(const std::string& binary, ElfFile* f) {
  f->fd.reset(open(binary.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f->fd) return Errno{errno};
  elf_version(EV_CURRENT);
  f->elf = elf_begin(f->fd.get(), ELF_C_READ, nullptr);
  if (f->elf == nullptr || elf_kind(f->elf) != ELF_K_ELF) return Errno{ENOEXEC};
  return {};
}

Elf_Scn* FindSection(Elf* elf, const char* name) {
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return nullptr;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr) continue;
    const char* n = elf_strptr(elf, shstrndx, sh.sh_name);
    if (n != nullptr && std::strcmp(n, name) == 0) return scn;
  }
  return nullptr;
}

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
  ElfFile f;
  if (Result<void> opened = OpenElf(binary, &f); !opened) {
    *error = binary + ": " + std::strerror(opened.error());
    return Errno{opened.error()};
  }
  uint64_t lowest = UINT64_MAX;
  size_t phnum = 0;
  if (elf_getphdrnum(f.elf, &phnum) == 0) {
    for (size_t i = 0; i < phnum; i++) {
      GElf_Phdr ph;
      if (gelf_getphdr(f.elf, static_cast<int>(i), &ph) != nullptr && ph.p_type == PT_LOAD)
        lowest = std::min<uint64_t>(lowest, ph.p_vaddr);
    }
  }
  const uint64_t base = CanonicalBaseOf(lowest);
  Blocks blocks;
  if (Elf_Scn* table = FindSection(f.elf, "__sancov_pcs")) {
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

std::string BuildId(const std::string& binary) {
  ElfFile f;
  if (!OpenElf(binary, &f)) return "";
  for (Elf_Scn* scn = elf_nextscn(f.elf, nullptr); scn != nullptr; scn = elf_nextscn(f.elf, scn)) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != SHT_NOTE) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    size_t offset = 0, name_off, desc_off;
    GElf_Nhdr nh;
    while ((offset = gelf_getnote(data, offset, &nh, &name_off, &desc_off)) > 0) {
      if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
          std::memcmp(static_cast<const char*>(data->d_buf) + name_off, "GNU", 4) != 0)
        continue;
      std::string hex;
      const auto* d = static_cast<const unsigned char*>(data->d_buf) + desc_off;
      for (size_t i = 0; i < nh.n_descsz; i++) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", d[i]);
        hex += two;
      }
      return hex;
    }
  }
  return "";
}

}  // namespace ukcov::tools
