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
  uint64_t address = 0;  // ELF virtual address of the call that recorded it
  std::vector<Frame> frames;  // empty: no symbol at that address
};

class Symbolizer {
 public:
  // ENOENT / EACCES / ENOEXEC (not an ELF file with DWARF).
  static Result<Symbolizer> Open(const std::string& binary);

  // `pc` is a canonical PC (>= 0xffffffff80000000) or an ELF address. A PC
  // is a return address: the call that recorded it is the byte before.
  Symbolized Symbolize(uint64_t pc) const;

  // Paths under `prefix` are printed relative to it.
  void set_strip_prefix(std::string prefix) { strip_prefix_ = std::move(prefix); }

 private:
  struct DwflDeleter {
    void operator()(Dwfl* d) const { dwfl_end(d); }
  };
  Symbolizer(std::unique_ptr<Dwfl, DwflDeleter> dwfl, Dwfl_Module* module, uint64_t base)
      : dwfl_(std::move(dwfl)), module_(module), base_(base) {}
  std::string Strip(const char* path) const;

  std::unique_ptr<Dwfl, DwflDeleter> dwfl_;
  Dwfl_Module* module_;
  uint64_t base_;  // where libdwfl placed the file's address 0
  std::string strip_prefix_;
};

// "0x...  function  file:line" (one line per frame, inlined callers indented).
std::string Format(const Symbolized& s);

}  // namespace ukcov::tools
