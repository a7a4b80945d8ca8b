// PCs to source: function and file:line, with inlined frames, in an ELF
// binary's DWARF. The frames are binutils' addr2line's (run once per batch,
// which is a hundred times faster than a DWARF scope walk per PC, and is
// what kernel developers read kcov PCs with); the ELF facts are ElfFile's.
// Understands ukcov's canonical PCs (see docs/design.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tools/binutils.h"
#include "tools/elf_file.h"
#include "ukcov/result.hpp"

namespace ukcov::tools {

struct Frame {
  std::string function;  // demangled; innermost inlined function first
  std::string linkage;   // as the DWARF names it (mangled for C++; SymbolizeAll's `linkage`): no commas, for lcov
  std::string file;      // empty when unknown
  int line = 0;          // 0 when unknown
};

struct Symbolized {
  uint64_t pc = 0;       // as given
  uint64_t address = 0;  // ELF virtual address of the call that recorded it (canonical PCs)
  std::vector<Frame> frames;  // empty: no symbol at that address
  bool outside = false;  // the address is in none of the binary's executable segments
};

// Called now and then during a long batch with (done, total).
using Progress = std::function<void(size_t, size_t)>;

class Symbolizer {
 public:
  // ENOENT / EACCES / ENOEXEC (not an ELF file).
  static Result<Symbolizer> Open(const std::string& binary);

  // `pc` is a canonical PC (0xffffffff80000000 + the ELF address of the
  // return address: the call that recorded it is the byte before; in the
  // kernel-tools view, ukcov.canonical, the ELF address itself). A raw
  // address (below the base: code outside the instrumented module), or a
  // canonical PC outside the binary's executable segments, has no frames
  // (the nearest symbol before it would be a guess).
  Symbolized Symbolize(uint64_t pc) const;
  // Many at once, in order: one addr2line for the whole batch (names
  // demangled by binutils, as addr2line -C shows them). `linkage`: a second
  // run fills Frame::linkage. An error is addr2line's failing to run.
  Result<std::vector<Symbolized>> SymbolizeAll(const std::vector<uint64_t>& pcs, const Progress& progress = nullptr,
                                               bool linkage = false) const;

  // Paths under `prefix` are printed relative to it.
  void set_strip_prefix(std::string prefix) { strip_prefix_ = std::move(prefix); }
  const std::string& binary() const { return binary_; }

 private:
  Symbolizer(std::string binary, std::vector<ElfFile::Range> text, uint64_t base)
      : binary_(std::move(binary)), text_(std::move(text)), base_(base) {}
  std::string Strip(const std::string& path) const;
  // One addr2line run over `input` (an address a line): per address, its
  // frames as (function, location) lines.
  Result<std::vector<std::vector<std::pair<std::string, std::string>>>> RunAddr2line(const std::string& input,
                                                                                    size_t count, bool demangle,
                                                                                    const Progress& progress) const;

  std::string binary_;
  std::vector<ElfFile::Range> text_;  // the executable PT_LOAD segments
  uint64_t base_;            // canonical PC - 1 - base_ = ELF address (0 for the kernel-tools view)
  std::string strip_prefix_;
};

// "0x...  function  file:line" (one line per frame, inlined callers indented).
std::string Format(const Symbolized& s);


}  // namespace ukcov::tools
