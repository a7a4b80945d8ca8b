// PCs to source: function and file:line in an ELF binary's DWARF, through
// elfutils' libdw. Understands ukcov's canonical PCs (see docs/design.md).
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ukcov/result.hpp"

namespace ukcov::tools {

struct Frame {
  std::string function;  // demangled; innermost inlined function first
  std::string file;
  int line = 0;
  int column = 0;
};

struct Symbolized {
  uint64_t pc = 0;       // as given
  uint64_t address = 0;  // ELF virtual address of the call that recorded it (canonical PCs)
  std::vector<Frame> frames;  // empty: no symbol at that address
  bool outside = false;  // the address is in none of the binary's executable segments
};

class Symbolizer {
 public:
  // ENOENT / EACCES / ENOEXEC (not an ELF file with DWARF).
  static Result<Symbolizer> Open(const std::string& binary);

  // `pc` is a canonical PC (0xffffffff80000000 + the ELF address of the
  // return address: the call that recorded it is the byte before). A raw
  // address (below the base: code outside the instrumented module), or a
  // canonical PC outside the binary's executable segments, has no frames
  // (the nearest symbol before it would be a guess).
  Symbolized Symbolize(uint64_t pc) const;

  // Paths under `prefix` are printed relative to it.
  void set_strip_prefix(std::string prefix) { strip_prefix_ = std::move(prefix); }

 private:
  struct DwflDeleter {
    void operator()(Dwfl* d) const { dwfl_end(d); }
  };
  struct Range {
    uint64_t lo, hi;  // ELF virtual addresses, [lo, hi)
  };
  Symbolizer(std::unique_ptr<Dwfl, DwflDeleter> dwfl, Dwfl_Module* module, uint64_t base, std::vector<Range> text)
      : dwfl_(std::move(dwfl)), module_(module), base_(base), text_(std::move(text)) {}
  std::string Strip(const char* path) const;

  std::unique_ptr<Dwfl, DwflDeleter> dwfl_;
  Dwfl_Module* module_;
  uint64_t base_;  // where libdwfl placed the file's address 0
  std::vector<Range> text_;  // the executable PT_LOAD segments
  std::string strip_prefix_;
};

// "0x...  function  file:line" (one line per frame, inlined callers indented).
std::string Format(const Symbolized& s);

}  // namespace ukcov::tools
