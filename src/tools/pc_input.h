// Reading PCs: hex text one per line, or a raw kcov area dump.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace ukcov::tools {

struct PcList {
  std::vector<uint64_t> pcs;
  std::string error;  // empty on success
  explicit operator bool() const { return error.empty(); }
  const std::string& error_message() const { return error; }
};

// One PC per line, hex with or without 0x; blank lines and '#' comments are
// skipped. Anything else is an error naming the line.
PcList ReadPcList(std::istream& in);
// Little-endian 64-bit words: the count, then that many PCs (a dump shorter
// than its count is an error).
PcList ReadArea(std::istream& in);

}  // namespace ukcov::tools
