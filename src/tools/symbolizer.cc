#include "tools/symbolizer.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "ukcov/kcov.h"

namespace ukcov::tools {
namespace {

const Dwfl_Callbacks kOfflineCallbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = nullptr,
};

std::string Demangle(const char* name) {
  if (name == nullptr) return "??";
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || d == nullptr) return name;
  std::string out(d);
  std::free(d);
  return out;
}

// The name of a subprogram or inlined subroutine DIE, following its
// abstract origin / specification, demangled when it has a linkage name.
std::string DieName(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* linkage = nullptr;
  if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) != nullptr ||
      dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr) != nullptr)
    linkage = dwarf_formstring(&attr);
  if (linkage != nullptr) return Demangle(linkage);
  const char* name = dwarf_diename(die);
  return name != nullptr ? name : "??";
}

}  // namespace

Result<Symbolizer> Symbolizer::Open(const std::string& binary) {
  if (access(binary.c_str(), R_OK) != 0) return Errno{errno};
  std::unique_ptr<Dwfl, DwflDeleter> dwfl(dwfl_begin(&kOfflineCallbacks));
  if (!dwfl) return Errno{ENOMEM};
  dwfl_report_begin(dwfl.get());
  Dwfl_Module* module = dwfl_report_offline(dwfl.get(), binary.c_str(), binary.c_str(), -1);
  dwfl_report_end(dwfl.get(), nullptr, nullptr);
  if (module == nullptr) return Errno{ENOEXEC};
  Dwarf_Addr low = 0;
  dwfl_module_info(module, nullptr, &low, nullptr, nullptr, nullptr, nullptr, nullptr);
  // libdwfl loads an ET_DYN file at `low` (its first segment); the file's
  // address 0 is there minus the first segment's vaddr, which for every
  // linker we meet is 0.
  GElf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(module, &bias);
  if (elf == nullptr) return Errno{ENOEXEC};
  std::vector<Range> text;
  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) == 0) {
    for (size_t i = 0; i < phnum; i++) {
      GElf_Phdr ph;
      if (gelf_getphdr(elf, static_cast<int>(i), &ph) != nullptr && ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
        text.push_back({ph.p_vaddr, ph.p_vaddr + ph.p_memsz});
    }
  }
  return Symbolizer(std::move(dwfl), module, bias, std::move(text));
}

Symbolized Symbolizer::Symbolize(uint64_t pc) const {
  Symbolized out;
  out.pc = pc;
  // A value below the canonical base is a raw address: the engine keeps
  // those for code outside the instrumented module (another library, at
  // wherever it was loaded), so it names nothing in this binary.
  out.outside = true;
  if (pc < UKCOV_CANONICAL_PC_BASE) return out;
  out.address = pc - UKCOV_CANONICAL_PC_BASE - 1;  // inside the call instruction
  for (const Range& r : text_)
    if (out.address >= r.lo && out.address < r.hi) out.outside = false;
  if (out.outside) return out;
  Dwarf_Addr addr = base_ + out.address;

  // Inlined frames, innermost first, from the DWARF scopes at the address.
  Dwarf_Addr cu_bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(module_, addr, &cu_bias);
  std::vector<Frame> frames;
  if (cu != nullptr) {
    Dwarf_Die* scopes = nullptr;
    int n = dwarf_getscopes(cu, addr - cu_bias, &scopes);
    for (int i = 0; i < n; i++) {
      int tag = dwarf_tag(&scopes[i]);
      if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) frames.push_back({DieName(&scopes[i])});
      if (tag == DW_TAG_subprogram) break;
    }
    // Frame k's location is the call site recorded on inlined frame k-1.
    for (int i = 0, f = 0; i < n && f + 1 < static_cast<int>(frames.size()); i++) {
      if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine) continue;
      Dwarf_Attribute attr;
      Dwarf_Word line = 0, col = 0, file_index = 0;
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &line) == 0) frames[f + 1].line = static_cast<int>(line);
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_column, &attr), &col) == 0) frames[f + 1].column = static_cast<int>(col);
      Dwarf_Files* files = nullptr;
      if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &file_index) == 0 &&
          dwarf_getsrcfiles(cu, &files, nullptr) == 0) {
        if (const char* name = dwarf_filesrc(files, file_index, nullptr, nullptr)) frames[f + 1].file = Strip(name);
      }
      f++;
    }
    free(scopes);
  }
  if (frames.empty()) {
    GElf_Sym sym;
    GElf_Off offset = 0;
    const char* name = dwfl_module_addrinfo(module_, addr, &offset, &sym, nullptr, nullptr, nullptr);
    if (name == nullptr) return out;
    frames.push_back({Demangle(name)});
  }
  // The innermost frame's location is the line table's.
  if (Dwfl_Line* line = dwfl_module_getsrc(module_, addr)) {
    int lineno = 0, col = 0;
    if (const char* file = dwfl_lineinfo(line, nullptr, &lineno, &col, nullptr, nullptr)) {
      frames[0].file = Strip(file);
      frames[0].line = lineno;
      frames[0].column = col;
    }
  }
  out.frames = std::move(frames);
  return out;
}

std::string Symbolizer::Strip(const char* path) const {
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
