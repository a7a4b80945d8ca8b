#include "tools/pc_input.h"

#include <cctype>
#include <cstring>

namespace ukcov::tools {

PcList ReadPcList(std::istream& in) {
  PcList out;
  std::string line;
  for (int n = 1; std::getline(in, line); n++) {
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    size_t e = line.find_last_not_of(" \t\r");
    std::string word = line.substr(b, e - b + 1);
    size_t digits = word.rfind("0x", 0) == 0 || word.rfind("0X", 0) == 0 ? 2 : 0;
    bool ok = word.size() > digits && word.size() - digits <= 16;
    for (size_t i = digits; ok && i < word.size(); i++) ok = std::isxdigit(static_cast<unsigned char>(word[i]));
    if (!ok) {
      out.error = "line " + std::to_string(n) + ": not a hex PC: '" + word + "'";
      return out;
    }
    out.pcs.push_back(std::stoull(word.substr(digits), nullptr, 16));
  }
  return out;
}

PcList ReadArea(std::istream& in) {
  PcList out;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8 || bytes.size() % 8 != 0) {
    out.error = "not a kcov area: " + std::to_string(bytes.size()) + " bytes is not a whole number of words";
    return out;
  }
  uint64_t count;
  std::memcpy(&count, bytes.data(), 8);
  uint64_t words = bytes.size() / 8 - 1;
  if (count > words) {
    out.error = "area claims " + std::to_string(count) + " PCs but holds " + std::to_string(words);
    return out;
  }
  out.pcs.resize(count);
  std::memcpy(out.pcs.data(), bytes.data() + 8, count * 8);
  return out;
}

}  // namespace ukcov::tools
