// An ELF file read with libelf: what the tools need of one (its load
// segments, a section, its build ID). One concept: the open file.
#pragma once

#include <gelf.h>
#include <libelf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "ukcov/result.hpp"

namespace ukcov::tools {

class ElfFile {
 public:
  // ENOENT / EACCES (open's errors), ENOEXEC: not an ELF file.
  static Result<ElfFile> Open(const std::string& path);
  ElfFile(ElfFile&& other) noexcept;
  ElfFile& operator=(ElfFile&&) = delete;
  ~ElfFile();

  struct Range {
    uint64_t lo, hi;  // ELF virtual addresses, [lo, hi)
  };
  // The executable PT_LOAD segments.
  const std::vector<Range>& text() const { return text_; }
  // What to add to an ELF address for its canonical PC: the canonical base,
  // or 0 for a file linked there already (the kernel-tools view,
  // ukcov.canonical), told by its lowest PT_LOAD address.
  uint64_t canonical_base() const { return canonical_base_; }
  // The section named `name`, or null.
  Elf_Scn* Section(const char* name) const;
  // The GNU build ID in hex, or empty.
  std::string BuildId() const;

 private:
  ElfFile(UniqueFd fd, Elf* elf);
  UniqueFd fd_;
  Elf* elf_;
  std::vector<Range> text_;
  uint64_t canonical_base_ = 0;
};

}  // namespace ukcov::tools
